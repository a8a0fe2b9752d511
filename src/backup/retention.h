// Which archives a backup directory keeps: the newest `keep`, and none older than
// `max_age_days` (0: no age limit) — except the newest one, which is always kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace firstboot::backup {

struct ArchiveName {
  std::string name;          // "firstboot-20261202T162554Z.tar.zst"
  std::int64_t created = 0;  // seconds since the epoch, from the name (UTC)
};

// Archive file names: firstboot-YYYYMMDDTHHMMSSZ[-N].tar.zst[.enc]. nullopt for anything else.
std::optional<ArchiveName> parse_archive_name(const std::string& name);
std::string archive_name(std::int64_t created, int sequence, bool encrypted);

// The names to remove, given every archive in the directory.
std::vector<std::string> expired_archives(std::vector<ArchiveName> archives, int keep,
                                          int max_age_days, std::int64_t now);

}  // namespace firstboot::backup
