#include "backup/retention.h"

#include <algorithm>
#include <ctime>
#include <regex>

namespace firstboot::backup {

std::optional<ArchiveName> parse_archive_name(const std::string& name) {
  static const std::regex pattern(
      R"(firstboot-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(-([1-9]\d{0,2}))?\.tar\.zst(\.enc)?)");
  std::smatch m;
  if (name.size() > 64 || !std::regex_match(name, m, pattern)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return ArchiveName{name, static_cast<std::int64_t>(timegm(&tm))};
}

std::string archive_name(std::int64_t created, int sequence, bool encrypted) {
  std::time_t t = static_cast<std::time_t>(created);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string name = std::string("firstboot-") + stamp;
  if (sequence > 0) name += "-" + std::to_string(sequence);
  return name + ".tar.zst" + (encrypted ? ".enc" : "");
}

std::vector<std::string> expired_archives(std::vector<ArchiveName> archives, int keep,
                                          int max_age_days, std::int64_t now) {
  // Newest first; same second: the higher sequence (the later name) first.
  std::sort(archives.begin(), archives.end(), [](const ArchiveName& a, const ArchiveName& b) {
    if (a.created != b.created) return a.created > b.created;
    if (a.name.size() != b.name.size()) return a.name.size() > b.name.size();
    return a.name > b.name;
  });
  std::vector<std::string> out;
  std::int64_t max_age = static_cast<std::int64_t>(max_age_days) * 86400;
  for (std::size_t i = 1; i < archives.size(); ++i) {
    bool too_many = keep > 0 && i >= static_cast<std::size_t>(keep);
    bool too_old = max_age_days > 0 && now - archives[i].created > max_age;
    if (too_many || too_old) out.push_back(archives[i].name);
  }
  return out;
}

}  // namespace firstboot::backup
