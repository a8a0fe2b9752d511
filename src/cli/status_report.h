// The readiness report behind `firstboot status` and `firstboot check`: the journal's module
// states and recorded checks, overlaid with the live checks (a live result replaces a recorded
// one with the same id), grouped by module, problems first. Ready only when every module is done
// and every required check passes. JSON form: schema/status.schema.json.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "check_pipeline.h"
#include "engine/journal.h"
#include "engine/layout.h"
#include "monitor_config.h"
#include "service/supervisor.h"

namespace firstboot::cli {

struct StatusCheck {
  CheckResult check;
  bool live = false;  // from this run of the checks, else recorded by the last `firstboot run`
};

struct StatusModule {
  std::string name;
  std::string state;  // journal state, or "" for a group of checks with no module run
  std::string started_at, finished_at, error;
  double duration_ms = 0;
  std::vector<StatusCheck> checks;  // failures first
};

struct StatusReport {
  bool ready = false;
  std::string hostname, mode;  // empty before the monitoring module ran
  std::string checked_at;
  bool live = false;
  double live_ms = 0;
  std::vector<std::string> reasons;   // why not ready, one line each
  std::vector<StatusModule> modules;  // problems first
};

StatusReport build_status_report(const Journal& journal, const std::optional<MonitorConfig>& config,
                                 const LiveChecks* live, bool expect_live);
std::string format_status_report(const StatusReport& report, bool color);
nlohmann::json status_report_json(const StatusReport& report);

// status_command.cpp: the report for a layout now, running the live checks within budget_ms.
StatusReport current_status(const Layout& layout, ServiceSupervisor* services, int budget_ms,
                            std::optional<LiveChecks>* live_out);

}  // namespace firstboot::cli
