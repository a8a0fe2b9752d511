// The real system: units started, restarted, reloaded and enabled through systemd::Bus (sd-bus on
// the system bus), jobs waited for (bounded), failures explained from the unit's state and
// journal. Unit files changed on disk are re-read (daemon-reload) before their unit is started.
#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "engine/error.h"
#include "service/readiness.h"
#include "service/supervisor.h"
#include "service/systemd_bus.h"
#include "service/systemd_unit.h"

namespace firstboot {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kDefaultStopTimeout{90000};
constexpr std::size_t kJournalLines = 10;

class SystemdSupervisor : public ServiceSupervisor {
 public:
  explicit SystemdSupervisor(std::unique_ptr<systemd::Bus> bus) : bus_(std::move(bus)) {}

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string unit = systemd::unit_name(spec);
    units_[spec.name] = {unit, spec.stop_timeout};
    auto state = bus_->read_state(unit);
    // A unit file written just now (not loaded yet), or a unit file or drop-in changed on disk
    // since systemd read it: without a daemon-reload the job would use the old definition, or
    // find no unit at all.
    if (state.load_state == "not-found" || state.need_daemon_reload) {
      bus_->reload();
      state = bus_->read_state(unit);
    }
    if (state.load_state == "not-found")
      throw Error("unit " + unit + " not found (is its package installed?)");
    if (state.load_state == "masked") throw Error("unit " + unit + " is masked");
    if (enable(unit, state)) state = bus_->read_state(unit);

    ServiceAction action = ServiceAction::none;
    const char* method = nullptr;
    if (!systemd::is_running(state)) {
      method = "StartUnit";
      action = ServiceAction::started;
    } else if (change == ConfigChange::restart) {
      method = "RestartUnit";
      action = ServiceAction::restarted;
    } else if (change == ConfigChange::reloadable) {
      bool spec_reloads = !spec.reload_argv.empty() || spec.reload_signal != 0;
      if (spec_reloads && bus_->can_reload(unit)) {
        method = "ReloadOrRestartUnit";
        action = ServiceAction::reloaded;
      } else {
        method = "RestartUnit";
        action = ServiceAction::restarted;
      }
    }
    auto deadline = Clock::now() + spec.start_timeout;
    if (method) {
      std::string result = bus_->run_jobs(method, {unit}, spec.start_timeout)[0];
      state = bus_->read_state(unit);
      if (result != "done" || !systemd::is_running(state)) {
        std::string verb = action == ServiceAction::started    ? "starting"
                           : action == ServiceAction::reloaded ? "reloading"
                                                               : "restarting";
        throw Error(systemd::failure_message(verb, state, result,
                                             bus_->journal_lines(unit, kJournalLines)));
      }
    }
    wait_probes(spec, unit, deadline);
    return action;
  }

  void stop(const std::vector<std::string>& names) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> units;
    milliseconds timeout{0};
    for (auto& name : names) {
      auto it = units_.find(name);
      units.push_back(it != units_.end() ? it->second.unit : systemd::normalize_unit(name));
      timeout =
          std::max(timeout, it != units_.end() ? it->second.stop_timeout : kDefaultStopTimeout);
    }
    if (units.empty()) return;
    auto results = bus_->run_jobs("StopUnit", units, timeout + milliseconds(5000));
    std::string errors;
    for (std::size_t i = 0; i < units.size(); ++i)
      if (results[i] != "done")
        errors += (errors.empty() ? "" : "; ") + ("stopping " + units[i] + ": job " + results[i]);
    if (!errors.empty()) throw Error(errors);
  }

  void stop_all() override {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [name, u] : units_) names.push_back(name);
    }
    stop(names);
  }

  ServiceStatus status(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    ServiceStatus st;
    st.name = name;
    try {
      auto it = units_.find(name);
      std::string unit = it != units_.end() ? it->second.unit : systemd::normalize_unit(name);
      auto state = bus_->read_state(unit);
      st.running = systemd::is_running(state);
      st.pid = static_cast<int>(state.main_pid);
      st.detail = systemd::describe(state);
      if (!st.running && state.load_state == "loaded") {
        auto lines = bus_->journal_lines(unit, 1);
        if (!lines.empty()) st.detail += ": " + lines.back();
      }
    } catch (const Error& e) {
      st.detail = e.what();
    }
    return st;
  }

  std::vector<ServiceStatus> status_all() override {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [name, u] : units_) names.push_back(name);
    }
    std::vector<ServiceStatus> out;
    for (auto& n : names) out.push_back(status(n));
    return out;
  }

  ServiceAction planned_action(const ServiceSpec& spec, ConfigChange change) override {
    std::string unit = systemd::unit_name(spec);
    systemd::UnitState state;
    {
      std::lock_guard<std::mutex> lock(mu_);
      state = bus_->read_state(unit);  // throws when there is no bus: the planner says would_start
    }
    if (!systemd::is_running(state)) return ServiceAction::would_start;
    // Its unit file changed on disk: the run restarts it with the new definition.
    if (state.need_daemon_reload && change != ConfigChange::none)
      return ServiceAction::would_restart;
    if (change == ConfigChange::none) return ServiceAction::none;
    if (change == ConfigChange::reloadable &&
        (!spec.reload_argv.empty() || spec.reload_signal != 0))
      return ServiceAction::would_reload;
    return ServiceAction::would_restart;
  }

 private:
  struct UnitInfo {
    std::string unit;
    milliseconds stop_timeout;
  };

  // Enables the unit (so it comes back after a reboot) unless it is already, and reloads systemd
  // when that changed anything, as `systemctl enable` does. True when it reloaded.
  bool enable(const std::string& unit, const systemd::UnitState& state) {
    static const std::set<std::string> done = {"enabled",   "enabled-runtime", "static",
                                               "alias",     "indirect",        "generated",
                                               "transient", "linked"};
    if (done.count(state.unit_file_state)) return false;
    if (bus_->enable_unit_files(unit) == 0) return false;
    bus_->reload();
    return true;
  }

  void wait_probes(const ServiceSpec& spec, const std::string& unit, Clock::time_point deadline) {
    for (auto& probe : spec.ready_when) {
      std::string why;
      for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (probe_accepts(probe, std::clamp(left, milliseconds(1), milliseconds(250)), &why)) break;
        if (Clock::now() >= deadline) {
          std::string msg = "unit " + unit + " is active but " + probe.describe() +
                            " did not accept connections within " +
                            std::to_string(spec.start_timeout.count()) + " ms (" + why + ")";
          auto lines = bus_->journal_lines(unit, kJournalLines);
          if (!lines.empty()) msg += "; last journal lines:";
          for (auto& l : lines) msg += "\n  | " + l;
          throw Error(msg);
        }
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }

  std::unique_ptr<systemd::Bus> bus_;
  std::mutex mu_;
  std::map<std::string, UnitInfo> units_;  // service name -> unit, for status and stop
};

}  // namespace

std::unique_ptr<ServiceSupervisor> systemd::make_systemd_supervisor(std::unique_ptr<Bus> bus) {
  return std::make_unique<SystemdSupervisor>(std::move(bus));
}

std::unique_ptr<ServiceSupervisor> make_systemd_supervisor() {
  return systemd::make_systemd_supervisor(systemd::make_sd_bus());
}

}  // namespace firstboot
