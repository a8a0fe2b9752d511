// The Postfix queue as files: how many messages wait in each queue and how old the oldest is.
// Counting files is what `postqueue -p` would tell, without running anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace firstboot {

struct QueueStats {
  bool readable = false;
  std::map<std::string, std::uint64_t> messages;  // "active", "deferred", "incoming", "hold", ...
  std::uint64_t total = 0;
  double oldest_age_seconds = 0;  // 0 when empty
  bool truncated = false;         // stopped counting at the limit
};

// Walks queue_dir/{maildrop,incoming,active,deferred,hold}, at most max_entries files in all.
QueueStats read_queue(const std::filesystem::path& queue_dir,
                      std::chrono::system_clock::time_point now,
                      std::uint64_t max_entries = 200000);

}  // namespace firstboot
