// The record a process supervisor keeps per running service, so that another firstboot process
// (`firstboot stop --sandbox DIR`, a later `run`) finds and controls it. Internal to src/service.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "service/supervisor.h"

namespace firstboot {

struct PidRecord {
  std::string name;
  pid_t pid = 0;
  pid_t pgid = 0;                // its own session and process group (setsid)
  std::uint64_t start_time = 0;  // /proc/PID/stat field 22 at start: a reused PID never matches
  std::vector<std::string> argv;
  std::string spec_digest;      // sha256 of argv and env: a changed command line means restart
  std::int64_t started_at = 0;  // unix seconds
  std::string output;           // the file stdout and stderr go to
  std::int64_t stop_timeout_ms = 10000;  // TERM, then KILL after this long
};

// Rejects names that could escape the records directory or a log file name.
void check_service_name(const std::string& name);

std::string spec_digest(const ServiceSpec& spec);

class PidRecords {
 public:
  explicit PidRecords(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(const std::string& name) const;

  // Atomic (temp file, fsync, rename, fsync of the directory).
  void save(const PidRecord& record) const;
  // nullopt when there is none; a corrupt record is treated as none (and reported by `why`).
  std::optional<PidRecord> load(const std::string& name, std::string* why = nullptr) const;
  void remove(const std::string& name) const;
  // Names with a record, sorted.
  std::vector<std::string> names() const;

 private:
  std::filesystem::path dir_;
};

// Serializes work on one service between firstboot processes (a `run` and a `stop` at once):
// flock on RECORDS/.NAME.lock, waited for at most `bound`, released on destruction.
class RecordLock {
 public:
  RecordLock(const PidRecords& records, const std::string& name, std::chrono::milliseconds bound);
  ~RecordLock();
  RecordLock(const RecordLock&) = delete;
  RecordLock& operator=(const RecordLock&) = delete;

 private:
  int fd_ = -1;
};

// Test seam of the process backend's start: called at "spawned" (forked, waiting at its gate,
// not recorded yet) and at "recorded" (the record saved, the command not released yet). Null
// outside tests.
extern void (*process_start_test_hook)(const char* point);

// Is the recorded process still the one we started (alive, not a zombie, same start time)?
bool record_process_alive(const PidRecord& record);

}  // namespace firstboot
