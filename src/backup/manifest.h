// The manifest of a backup archive: one record per saved file and directory (sha256, size, mode,
// owner), written as JSON as the archive's last entries (the manifest, then its own sha256), so
// the sums are of exactly the bytes that went into the archive.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace firstboot::backup {

struct ManifestEntry {
  std::string path;  // entry name: a system path without the leading '/'
  bool directory = false;
  std::uint64_t size = 0;  // files
  std::string sha256;      // files, lowercase hex
  mode_t mode = 0;         // permission bits (07777)
  std::string owner, group;
  uid_t uid = 0;
  gid_t gid = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
};

struct Manifest {
  int format = 1;
  std::string created;  // ISO 8601 UTC
  std::int64_t created_unix = 0;
  std::string hostname;
  std::string firstboot_version;
  std::string profile_digest;
  std::string database;
  std::uint64_t skipped = 0;  // symlinks, sockets and files that vanished while being read
  std::vector<ManifestEntry> entries;

  std::size_t file_count() const;
  std::uint64_t total_bytes() const;
};

inline constexpr std::size_t kMaxEntries = 2'000'000;
inline constexpr std::size_t kMaxManifestBytes = 512ULL * 1024 * 1024;

std::string manifest_to_json(const Manifest& manifest);
// Throws Error on anything malformed: bad JSON, unknown format, a bad or unsafe path, a duplicate
// path, a sum that is not 64 hex digits, more than kMaxEntries entries.
Manifest manifest_from_json(const std::string& text);

// What was actually read from an archive, compared with its manifest: "" when they agree
// (same paths, kinds, sizes and sums), else the first few differences, one per line.
std::string compare_with_manifest(const Manifest& manifest,
                                  const std::map<std::string, ManifestEntry>& read);

}  // namespace firstboot::backup
