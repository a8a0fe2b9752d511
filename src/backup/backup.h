// firstboot backup: create, list, verify and restore archives of a mail server's data
// (docs/backup.md).
//
// An archive is a pax tar compressed with zstd (libarchive), optionally encrypted as a whole
// (stream_cipher.h), holding the saved paths (contents.h) under their system paths without the
// leading '/', then the manifest (manifest.h) and its sha256. It is written to a temporary file,
// synced and renamed into the backup directory, so a listed archive is always complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "backup/stream_cipher.h"

namespace firstboot {
class Layout;
}

namespace firstboot::backup {

struct BackupSettings {
  std::filesystem::path dir;    // the backup directory, already mapped into the layout
  std::string passphrase_file;  // empty: not encrypted
  int keep = 7;
  int max_age_days = 30;
  std::string database = "sqlite";
  std::string hostname;
  std::string profile_digest;
};

using Note = std::function<void(const std::string& line)>;

struct CreateResult {
  std::filesystem::path archive;
  Manifest manifest;
  std::uint64_t archive_bytes = 0;
  bool encrypted = false;
  std::vector<std::string> removed;  // archive names removed by retention
};

// Throws Error (nothing is left behind but a removed temporary file) when anything fails; the
// PostgreSQL store is refused. Retention runs only after the new archive is in place.
CreateResult create_backup(const Layout& layout, const BackupSettings& settings, const Note& note,
                           ScryptParams scrypt = {});

struct ArchiveListing {
  std::string name;
  std::filesystem::path path;
  std::int64_t created = 0;
  std::uint64_t size = 0;
  bool encrypted = false;
  std::optional<std::size_t> files;  // from the manifest; nullopt when it could not be read
  std::string problem;               // why not ("encrypted: no passphrase", "damaged: ...")
};

// Every archive in dir, oldest first. Reads each archive's manifest (decrypting with passphrase
// when given); a damaged one is listed with its problem.
std::vector<ArchiveListing> list_backups(const std::filesystem::path& dir,
                                         const std::string& passphrase);

struct VerifyResult {
  Manifest manifest;
  bool encrypted = false;
};

// Whether an archive file is encrypted (by its first bytes). Throws Error when unreadable.
bool archive_is_encrypted(const std::filesystem::path& archive);

// Reads every entry and checks it against the manifest. Throws WrongPassphrase, or Error saying
// what is wrong (truncated, damaged, an unsafe entry name, a sum that does not match).
VerifyResult verify_backup(const std::filesystem::path& archive, const std::string& passphrase);

struct RestoreResult {
  Manifest manifest;
  std::size_t placed = 0;
  std::size_t unchanged = 0;
  std::filesystem::path previous_dir;  // where replaced files went; empty when none were
  std::vector<std::string> warnings;
};

// Verifies the whole archive into a private staging directory first; only when every sum matched
// does it call before_placing (which may throw to stop) and put the files in place, each
// atomically, backing up what it replaces under /var/lib/firstboot/backup/restore-<time>/.
RestoreResult restore_backup(const std::filesystem::path& archive, const std::string& passphrase,
                             const Layout& target, const Note& note,
                             const std::function<void()>& before_placing = {});

}  // namespace firstboot::backup
