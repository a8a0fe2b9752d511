#include "check_pipeline.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "alerts.h"
#include "checks.h"
#include "crypto/keys.h"
#include "engine/file_writer.h"
#include "mail_queue.h"
#include "metrics.h"

namespace firstboot {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

LiveChecks run_live_checks(const MonitorConfig& config, ServiceSupervisor* services,
                           int overall_ms) {
  auto env = make_check_environment(config, services);
  CheckRun run = run_checks(env, probe::Deadline::in(std::chrono::milliseconds(overall_ms)));
  LiveChecks live;
  live.results = std::move(run.results);
  live.ms = run.ms;
  live.ready = all_required_pass(live.results);
  return live;
}

namespace {

MetricsInput metrics_input(const MonitorConfig& config, const LiveChecks& live,
                           const Journal* journal, const MonitorState& state, bool modules_done) {
  MetricsInput in;
  in.checks = live.results;
  in.ready = live.ready && modules_done;
  in.run_seconds = live.ms / 1000.0;
  in.run_at = Clock::to_time_t(Clock::now());
  if (journal)
    for (auto& [name, rec] : journal->modules())
      in.modules.push_back({name, to_string(rec.state), rec.duration_ms});
  for (auto& host : config.cert_hosts) {
    fs::path cert = fs::path(config.tls_dir) / host / "fullchain.pem";
    try {
      in.certificate_not_after[host] =
          Clock::to_time_t(inspect_certificate(read_file(cert)).not_after);
    } catch (const std::exception&) {
      // No certificate: the ssl checks say so; no series rather than a wrong one.
    }
  }
  auto now = Clock::to_time_t(Clock::now());
  for (auto& d : config.domains)
    for (auto& s : d.dkim) {
      struct stat st {};
      if (::stat(s.key_file.c_str(), &st) == 0)
        in.dkim_keys.push_back(
            {d.name, s.selector, s.algorithm, static_cast<double>(now - st.st_mtime)});
    }
  in.queue = read_queue(config.queue_dir, Clock::now());
  in.deliveries = state.deliveries;
  return in;
}

}  // namespace

RecordedRun record_check_run(const MonitorConfig& config, const LiveChecks& live,
                             const Journal* journal, bool send_alerts) {
  RecordedRun out;
  fs::path state_dir = config.state_dir;
  MonitorState state = load_monitor_state(state_dir);
  std::string now = now_iso8601();

  scan_mail_log(config.maillog_file, state.deliveries);
  auto queue = read_queue(config.queue_dir, Clock::now());
  if (queue.readable) {
    state.queue_history.push_back({Clock::to_time_t(Clock::now()), queue.total});
    while (state.queue_history.size() > MonitorState::kQueueHistory)
      state.queue_history.erase(state.queue_history.begin());
  }

  bool modules_done = true;
  if (journal)
    for (auto& [name, rec] : journal->modules())
      modules_done = modules_done && rec.state == ModuleState::done;

  out.changes = state_changes(state, live.results);
  if (send_alerts && !out.changes.empty() && !config.alert_to.empty()) {
    std::string id = "firstboot-alert." + random_token(8) + "@" + config.hostname;
    state.pending_alerts.push_back(
        alert_message(config, out.changes, live.results, live.ready, rfc5322_date_now(), id));
    while (state.pending_alerts.size() > MonitorState::kMaxPending)
      state.pending_alerts.erase(state.pending_alerts.begin());
  }
  remember_checks(state, live.results, now);
  if (send_alerts) {
    // Oldest first; stop at the first failure so the order of changes is kept.
    while (!state.pending_alerts.empty()) {
      std::string err = send_alert(config, state.pending_alerts.front());
      if (!err.empty()) {
        out.alert_error = err;
        break;
      }
      state.pending_alerts.erase(state.pending_alerts.begin());
      ++out.alerts_sent;
    }
  }
  save_monitor_state(state_dir, state);

  std::string text = render_metrics(metrics_input(config, live, journal, state, modules_done));
  write_metrics_file(config.textfile_dir, text);
  out.metrics_file = (fs::path(config.textfile_dir) / "firstboot.prom").string();
  return out;
}

}  // namespace firstboot
