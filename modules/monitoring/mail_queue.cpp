#include "mail_queue.h"

#include <sys/stat.h>

namespace firstboot {

namespace fs = std::filesystem;

QueueStats read_queue(const fs::path& queue_dir, std::chrono::system_clock::time_point now,
                      std::uint64_t max_entries) {
  QueueStats stats;
  std::error_code ec;
  if (!fs::is_directory(queue_dir, ec)) return stats;
  stats.readable = true;
  auto now_s = std::chrono::system_clock::to_time_t(now);
  std::uint64_t seen = 0;
  for (const char* queue : {"maildrop", "incoming", "active", "deferred", "hold"}) {
    fs::path dir = queue_dir / queue;
    std::uint64_t count = 0;
    if (fs::is_directory(dir, ec)) {
      fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
      for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++seen > max_entries) {
          stats.truncated = true;
          break;
        }
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        ++count;
        double age = static_cast<double>(now_s - st.st_mtime);
        if (age > stats.oldest_age_seconds) stats.oldest_age_seconds = age;
      }
      ec.clear();
    }
    stats.messages[queue] = count;
    stats.total += count;
  }
  return stats;
}

}  // namespace firstboot
