// What `firstboot check` remembers between runs (/var/lib/firstboot/monitoring/state.json): each
// check's last state and since when, the mail-log cursor and delivery counters, the queue history,
// and alert mails not yet handed to the MTA. From it come the state changes that trigger alerts:
// one mail per change, never one per run.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/check.h"
#include "mail_log.h"

namespace firstboot {

struct CheckMemory {
  std::string status;  // "pass", "warn", "fail"
  std::string since;   // ISO 8601 UTC
  std::string detail;
};

struct QueueSample {
  std::time_t at = 0;
  std::uint64_t total = 0;
};

struct MonitorState {
  std::map<std::string, CheckMemory> checks;
  std::string last_run_at;
  DeliveryCounts deliveries;
  std::vector<QueueSample> queue_history;   // oldest first, at most kQueueHistory
  std::vector<std::string> pending_alerts;  // whole messages, oldest first, at most kMaxPending

  static constexpr std::size_t kQueueHistory = 6;
  static constexpr std::size_t kMaxPending = 20;

  std::string to_json() const;
  static MonitorState from_json(const std::string& text);  // throws Error
};

// A missing file is an empty state; a corrupt one is set aside (state.json.corrupt) and empty.
MonitorState load_monitor_state(const std::filesystem::path& dir);
void save_monitor_state(const std::filesystem::path& dir, const MonitorState& state);

struct StateChange {
  CheckResult now;
  std::string was;  // previous status ("pass" when never seen)
};

// Checks whose status differs from the remembered one. A skipped check keeps its previous state
// (what caused the skip changes instead); a check never seen before counts as having passed.
std::vector<StateChange> state_changes(const MonitorState& previous,
                                       const std::vector<CheckResult>& now);

// Records the new states (skipped ones keep the old memory).
void remember_checks(MonitorState& state, const std::vector<CheckResult>& now,
                     const std::string& now_iso);

// The queue is growing when each of the last `runs` samples is larger than the one before.
bool queue_growing(const std::vector<QueueSample>& history, std::size_t runs = 3);

}  // namespace firstboot
