// `firstboot status`: the journal plus the live checks, printed as a table or JSON; with --wait,
// repeated (bounded) until ready or the timeout.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "check_pipeline.h"
#include "commands.h"
#include "engine/journal.h"
#include "monitor_config.h"
#include "service/supervisor.h"
#include "status_report.h"

namespace firstboot::cli {

namespace {

using Clock = std::chrono::steady_clock;

// The live checks' own ceiling; --wait with less time left gets less.
constexpr int kLiveChecksMs = 12000;

}  // namespace

bool color_output() {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
         !(term && std::string(term) == "dumb");
}

StatusReport current_status(const Layout& layout, ServiceSupervisor* services, int budget_ms,
                            std::optional<LiveChecks>* live_out) {
  Journal journal(layout.state_dir() / "journal.json");
  journal.load();
  std::optional<MonitorConfig> config;
  std::optional<LiveChecks> live;
  bool can_check = layout.target() != Target::offline;
  if (can_check) {
    config = load_monitor_config(layout);
    if (config) live = run_live_checks(*config, services, std::max(budget_ms, 500));
  }
  // Once the monitoring module is part of the run, its live checks are part of ready.
  bool expect_live = can_check && journal.get("monitoring").has_value();
  StatusReport report = build_status_report(journal, config, live ? &*live : nullptr, expect_live);
  if (live_out) *live_out = live;
  return report;
}

int status(const TargetOptions& target, bool json, bool wait, int timeout_seconds) {
  Layout layout = target_layout(target);
  std::unique_ptr<ServiceSupervisor> services;
  if (layout.target() != Target::offline) services = target_supervisor(layout);
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  StatusReport report;
  // Bounded: one pass without --wait; with it, passes until ready or the deadline.
  for (int pass = 0; pass < 100000; ++pass) {
    int left_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    int budget = wait ? std::min(kLiveChecksMs, left_ms) : kLiveChecksMs;
    report = current_status(layout, services.get(), budget, nullptr);
    if (!wait || report.ready || Clock::now() + std::chrono::milliseconds(200) >= deadline) break;
    auto pause = std::min<Clock::duration>(std::chrono::seconds(1), deadline - Clock::now());
    std::this_thread::sleep_for(pause);
  }
  if (json)
    std::cout << status_report_json(report).dump(2) << "\n";
  else
    std::cout << format_status_report(report, color_output());
  return report.ready ? 0 : 1;
}

}  // namespace firstboot::cli
