// Password files from the profile (users' password_file, relay.password_file): read once, then
// overwritten and removed after a successful apply, unless they are read-only fixtures (the
// example profiles' secrets in the source or data tree, a read-only medium, a file without write
// permission), which are left in place.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace firstboot {

inline constexpr std::size_t kMaxSecretBytes = 4096;

// The secret without its trailing newline; nullopt when the file does not exist. Throws Error when
// it cannot be read, is not a regular file, or is larger than kMaxSecretBytes.
std::optional<std::string> read_secret_file(const std::filesystem::path& file);

// Why the file must be left in place ("it is an example fixture under ..."); empty when it may be
// wiped.
std::string read_only_reason(const std::filesystem::path& file);

// Overwrites the file's bytes with zeros, syncs, and removes it. Throws Error on failure.
void wipe_secret_file(const std::filesystem::path& file);

}  // namespace firstboot
