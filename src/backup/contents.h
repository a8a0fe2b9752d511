// What a backup holds: the system paths it saves (Maildirs, the store, keys, certificates,
// rendered configs, the kept profile), and the rule every archive entry name must pass before it
// is read or restored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace firstboot::backup {

struct SavedPath {
  const char* system_path;  // "/var/vmail"
  const char* what;         // "mailboxes", shown in the summary
};

// Every system path a backup saves (a directory tree or one file). The SQLite store is taken as
// an online snapshot rather than copied.
const std::vector<SavedPath>& saved_paths();
inline constexpr const char* kStorePath = "/var/lib/firstboot/users.sqlite";

// Entries of the archive's own metadata (not restored as files).
inline constexpr const char* kManifestEntry = "firstboot-backup/manifest.json";
inline constexpr const char* kManifestSumEntry = "firstboot-backup/manifest.sha256";

// "" when name may be an entry of a backup: relative, no empty, "." or ".." component, no control
// character, at most 4096 bytes, and at or under one of saved_paths() (or a metadata entry).
// Otherwise why not. A directory's single trailing '/' is allowed.
std::string entry_path_problem(std::string_view name);

// name without a trailing '/'.
std::string normalized_entry(std::string_view name);

}  // namespace firstboot::backup
