// Where `firstboot run` without --profile finds its profile (what firstboot.service runs), in
// order of preference:
//   1. firstboot/profile.yaml on the boot partition: /boot/firmware, /boot/efi, /boot
//   2. cloud user-data: a NoCloud seed (a filesystem labelled CIDATA, mounted or mountable, then
//      /var/lib/cloud/seed/nocloud*/user-data), then a cloud-config file already on disk
//      (/var/lib/cloud/instance/user-data.txt, /etc/cloud/cloud.cfg.d/*.cfg) - each only when it
//      has a `firstboot:` key
// (the caller then falls back to the wizard on a console, or exits 2). Every path goes through
// the layout, so tests use a scratch tree with --root or --sandbox.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/layout.h"

namespace firstboot {

enum class SeedSource { boot_partition, nocloud, cloud_config };
const char* to_string(SeedSource source);

struct Seed {
  SeedSource source = SeedSource::boot_partition;
  std::filesystem::path file;  // the (mapped) file it was read from
  std::string label;           // how messages name it: the system path, plus "(firstboot:)"
  // The profile YAML. For a `firstboot:` key, the key's block cut out of the file with blank
  // lines and indentation kept, so FILE:LINE:COL of a problem points into the original file.
  std::string text;
  // Relative paths in the profile (password_file) are relative to this (mapped) directory.
  std::filesystem::path base_dir;
};

struct SeedSearch {
  std::optional<Seed> seed;
  // Every place looked at, in order, with what was found there ("not found", "no firstboot:
  // key", "found"): for the message when nothing is found, and for the log.
  std::vector<std::string> looked_at;
};

struct SeedOptions {
  // On the real system, mount a CIDATA filesystem nobody mounted (read-only, under
  // /run/firstboot/cidata) to read its user-data, and unmount it again.
  bool mount_cidata = true;
};

SeedSearch find_seed(const Layout& layout, const SeedOptions& options = {});

// The boot partition directories, in order of preference (system paths).
const std::vector<std::string>& boot_partition_dirs();

// The `firstboot:` profile inside a cloud-config document, or nullopt when it has none. Throws
// Error when the document is not YAML or the key holds neither a mapping nor a string.
std::optional<std::string> firstboot_key_text(const std::string& cloud_config);

}  // namespace firstboot
