// One check run as `firstboot status`, `firstboot check` and the module's validate do it: read the
// environment, run every probe in parallel, then (check and validate) remember the results,
// write firstboot.prom, and (check only) mail an alert per state change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "check_runner.h"
#include "check_state.h"
#include "engine/journal.h"
#include "monitor_config.h"
#include "service/supervisor.h"

namespace firstboot {

struct LiveChecks {
  std::vector<CheckResult> results;
  double ms = 0;
  bool ready = false;  // every required check passed
};

// overall_ms bounds the whole run (each probe also has its own timeout).
LiveChecks run_live_checks(const MonitorConfig& config, ServiceSupervisor* services,
                           int overall_ms);

struct RecordedRun {
  std::vector<StateChange> changes;
  int alerts_sent = 0;
  std::string alert_error;  // why an alert is still pending
  std::string metrics_file;
};

// Updates the state, writes the metrics, and (send_alerts) mails what changed.
RecordedRun record_check_run(const MonitorConfig& config, const LiveChecks& live,
                             const Journal* journal, bool send_alerts);

}  // namespace firstboot
