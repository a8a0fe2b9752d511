// `firstboot check`: runs every check (what the timer does), records the results, writes
// firstboot.prom for node-exporter, and mails monitoring.alert_to once per state change.
#include <iostream>

#include "check_pipeline.h"
#include "commands.h"
#include "engine/error.h"
#include "engine/journal.h"
#include "monitor_config.h"
#include "service/supervisor.h"
#include "status_report.h"

namespace firstboot::cli {

int check(const TargetOptions& target, bool json) {
  Layout layout = target_layout(target);
  if (layout.target() == Target::offline)
    throw Error("check runs against a live system or sandbox, not an image tree (--root)");
  auto config = load_monitor_config(layout);
  if (!config)
    throw Error("no monitoring configuration at " + layout.map(kMonitorConfigPath).string() +
                ": run `firstboot run` first");
  auto services = target_supervisor(layout);
  std::optional<LiveChecks> live;
  StatusReport report = current_status(layout, services.get(), 15000, &live);
  if (!live) throw Error("the monitoring configuration disappeared while checking");
  Journal journal(layout.state_dir() / "journal.json");
  journal.load();
  RecordedRun recorded = record_check_run(*config, *live, &journal, true);
  if (json) {
    auto doc = status_report_json(report);
    doc["recorded"] = {{"state_changes", recorded.changes.size()},
                       {"alerts_sent", recorded.alerts_sent},
                       {"alert_error", recorded.alert_error},
                       {"metrics_file", recorded.metrics_file}};
    std::cout << doc.dump(2) << "\n";
  } else {
    std::cout << format_status_report(report, color_output());
    std::cout << recorded.changes.size() << " state change(s), " << recorded.alerts_sent
              << " alert mail(s) sent to " << config->alert_to << "; metrics in "
              << recorded.metrics_file << "\n";
    if (!recorded.alert_error.empty())
      std::cout << "alert mail not sent yet (retried at the next check): " << recorded.alert_error
                << "\n";
  }
  return report.ready ? 0 : 1;
}

}  // namespace firstboot::cli
