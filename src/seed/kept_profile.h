// The copy of a seed profile kept on the system (/etc/firstboot/profile.yaml, 0600) and the
// clear-text secrets a seed brought along.
//
// The kept copy has only hashes: each user's password_file is read, hashed (yescrypt) and
// replaced by password_hash; the relay password (which Postfix needs in clear) is copied to a
// 0600 file under /etc/firstboot and the copy points there. A provided TLS certificate and key
// and the database password file, which every later run reads again, are copied under
// /etc/firstboot (the key and the password 0600) when they lie on the boot partition; other
// paths become absolute (the kept copy lives in another directory than the seed). After a
// successful apply the clear-text secrets on the boot partition (password files, the relay
// password, the TLS key, the database password) are overwritten and removed; after a failed one
// they stay, so the next boot can try again.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/layout.h"
#include "seed/seed_discovery.h"

namespace firstboot {

// System paths of what firstboot keeps.
inline constexpr const char* kKeptProfile = "/etc/firstboot/profile.yaml";
inline constexpr const char* kKeptRelaySecret = "/etc/firstboot/relay.secret";
inline constexpr const char* kKeptTlsCert = "/etc/firstboot/provided/fullchain.pem";
inline constexpr const char* kKeptTlsKey = "/etc/firstboot/provided/privkey.pem";
inline constexpr const char* kKeptDatabaseSecret = "/etc/firstboot/database.secret";

// A file the kept copy points at, to be written (atomically, with mode) before the copy.
struct KeptFile {
  std::filesystem::path path;  // mapped
  std::string content;         // wipe_kept_files() clears it once written
  mode_t mode = 0600;
};

struct KeptProfile {
  std::string yaml;
  // Clear-text secret files the seed named (mapped paths): wiped after a successful apply when
  // they lie on the boot partition (wipe_boot_secrets).
  std::vector<std::filesystem::path> secret_files;
  std::vector<KeptFile> files;  // copies under /etc/firstboot the kept profile points at
};

// Overwrites the contents of the kept files in memory (they may hold secrets).
void wipe_kept_files(KeptProfile& kept);

// Writes the kept files (a new parent directory is 0700), then wipes their contents in memory.
void write_kept_files(KeptProfile& kept);

// A path from the profile as a file in the layout: relative to base_dir, absolute mapped.
std::filesystem::path seed_path(const Layout& layout, const std::filesystem::path& base_dir,
                                const std::string& path);

// Builds the kept copy from a validated seed profile. Throws Error naming the file it could not
// read. hash: hash_password (tests may pass a cheaper one).
KeptProfile make_kept_profile(const Seed& seed, const Layout& layout,
                              const std::function<std::string(const std::string&)>& hash);

// Overwrites the file with zeros, syncs it and removes it. "" on success, else why not.
std::string wipe_file(const std::filesystem::path& path);

// Wipes those of files that lie on the boot partition (under the layout's /boot); the others are
// left alone. Returns one line per file: "wiped PATH" or "could not wipe PATH: why".
std::vector<std::string> wipe_boot_secrets(const Layout& layout,
                                           const std::vector<std::filesystem::path>& files);

// Whether this exact seed text was applied successfully before (recorded under the state dir),
// so the kept copy can be applied again without reading secrets that were wiped since.
bool seed_already_applied(const Layout& layout, const Seed& seed);
void record_seed_applied(const Layout& layout, const Seed& seed);

}  // namespace firstboot
