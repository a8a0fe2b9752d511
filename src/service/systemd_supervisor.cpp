// The real system: units started, restarted, reloaded and enabled over the system bus (sd-bus),
// jobs waited for (JobRemoved, bounded), failures explained from the unit's state and journal.
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "engine/error.h"
#include "service/readiness.h"
#include "service/supervisor.h"
#include "service/systemd_unit.h"

namespace firstboot {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitIface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceIface = "org.freedesktop.systemd1.Service";
constexpr milliseconds kDefaultStopTimeout{90000};
constexpr std::size_t kJournalLines = 10;

std::string bus_error_text(const sd_bus_error& err, int r) {
  if (err.message) return err.message;
  if (err.name) return err.name;
  return errno_text(-r);
}

// Frees an sd_bus_error on scope exit.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
};
struct BusMessage {
  sd_bus_message* m = nullptr;
  ~BusMessage() { sd_bus_message_unref(m); }
};

std::string clean_line(const std::string& s) {
  std::string out = s.substr(0, 400);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  return out;
}

// The last lines the unit (or systemd about the unit) wrote to the journal; empty when there is no
// journal to read. Bounded in count.
std::vector<std::string> journal_lines(const std::string& unit, std::size_t count) {
  std::vector<std::string> out;
  sd_journal* j = nullptr;
  if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0) return out;
  std::string m1 = "_SYSTEMD_UNIT=" + unit, m2 = "UNIT=" + unit;
  sd_journal_add_match(j, m1.data(), m1.size());
  sd_journal_add_disjunction(j);
  sd_journal_add_match(j, m2.data(), m2.size());
  if (sd_journal_seek_tail(j) >= 0) {
    while (out.size() < count && sd_journal_previous(j) > 0) {
      const void* data = nullptr;
      size_t len = 0;
      if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0) continue;
      std::string field(static_cast<const char*>(data), len);
      if (field.rfind("MESSAGE=", 0) == 0) field.erase(0, 8);
      out.push_back(clean_line(field));
    }
  }
  sd_journal_close(j);
  std::reverse(out.begin(), out.end());
  return out;
}

class SystemdSupervisor : public ServiceSupervisor {
 public:
  ~SystemdSupervisor() override { sd_bus_flush_close_unref(bus_); }

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string unit = systemd::unit_name(spec);
    units_[spec.name] = {unit, spec.stop_timeout};
    auto state = read_state(unit);
    if (state.load_state == "not-found")
      throw Error("unit " + unit + " not found (is its package installed?)");
    if (state.load_state == "masked") throw Error("unit " + unit + " is masked");
    enable(unit, state);

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
      if (spec_reloads && can_reload(unit)) {
        method = "ReloadOrRestartUnit";
        action = ServiceAction::reloaded;
      } else {
        method = "RestartUnit";
        action = ServiceAction::restarted;
      }
    }
    auto deadline = Clock::now() + spec.start_timeout;
    if (method) {
      std::string result = run_jobs(method, {unit}, spec.start_timeout)[0];
      state = read_state(unit);
      if (result != "done" || !systemd::is_running(state)) {
        std::string verb = action == ServiceAction::started    ? "starting"
                           : action == ServiceAction::reloaded ? "reloading"
                                                               : "restarting";
        throw Error(
            systemd::failure_message(verb, state, result, journal_lines(unit, kJournalLines)));
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
    auto results = run_jobs("StopUnit", units, timeout + milliseconds(5000));
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
      auto state = read_state(unit);
      st.running = systemd::is_running(state);
      st.pid = static_cast<int>(state.main_pid);
      st.detail = systemd::describe(state);
      if (!st.running && state.load_state == "loaded") {
        auto lines = journal_lines(unit, 1);
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
      state = read_state(unit);  // throws when there is no bus: the planner says would_start
    }
    if (!systemd::is_running(state)) return ServiceAction::would_start;
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

  sd_bus* bus() {
    if (bus_) return bus_;
    int r = sd_bus_open_system(&bus_);
    if (r >= 0) {
      // A daemon reload on a slow machine (an emulated VM at first boot) takes longer than
      // sd-bus's default 25 s method-call timeout; every wait of ours is bounded elsewhere.
      sd_bus_set_method_call_timeout(bus_, 120ULL * 1000 * 1000);
    }
    if (r < 0) {
      bus_ = nullptr;
      std::string msg = "no system bus reachable (" + errno_text(-r) + ")";
      if (sd_booted() <= 0)
        msg +=
            ": systemd is not running as PID 1 on this machine, so services cannot be "
            "managed through it; use --sandbox DIR to run the daemons as child processes, or "
            "--root DIR to prepare an image tree";
      throw Error(msg);
    }
    return bus_;
  }

  std::string unit_path(const std::string& unit) {
    BusError err;
    BusMessage reply;
    int r = sd_bus_call_method(bus(), kDest, kPath, kManager, "LoadUnit", &err.e, &reply.m, "s",
                               unit.c_str());
    if (r < 0) throw Error("loading unit " + unit + ": " + bus_error_text(err.e, r));
    const char* path = nullptr;
    r = sd_bus_message_read(reply.m, "o", &path);
    if (r < 0 || !path) throw Error("loading unit " + unit + ": bad reply");
    return path;
  }

  std::string string_property(const std::string& path, const char* iface, const char* member) {
    BusError err;
    char* value = nullptr;
    int r = sd_bus_get_property_string(bus(), kDest, path.c_str(), iface, member, &err.e, &value);
    if (r < 0) return {};
    std::string out = value ? value : "";
    free(value);
    return out;
  }

  template <typename T>
  T trivial_property(const std::string& path, const char* iface, const char* member, char type) {
    BusError err;
    T value{};
    if (sd_bus_get_property_trivial(bus(), kDest, path.c_str(), iface, member, &err.e, type,
                                    &value) < 0)
      return T{};
    return value;
  }

  systemd::UnitState read_state(const std::string& unit) {
    systemd::UnitState s;
    s.unit = unit;
    std::string path = unit_path(unit);
    s.load_state = string_property(path, kUnitIface, "LoadState");
    s.active_state = string_property(path, kUnitIface, "ActiveState");
    s.sub_state = string_property(path, kUnitIface, "SubState");
    s.unit_file_state = string_property(path, kUnitIface, "UnitFileState");
    if (unit.size() > 8 && unit.compare(unit.size() - 8, 8, ".service") == 0 &&
        s.load_state == "loaded") {
      s.result = string_property(path, kServiceIface, "Result");
      s.exec_main_code = trivial_property<int32_t>(path, kServiceIface, "ExecMainCode", 'i');
      s.exec_main_status = trivial_property<int32_t>(path, kServiceIface, "ExecMainStatus", 'i');
      s.main_pid = trivial_property<uint32_t>(path, kServiceIface, "MainPID", 'u');
    }
    return s;
  }

  bool can_reload(const std::string& unit) {
    int value = trivial_property<int>(unit_path(unit), kUnitIface, "CanReload", 'b');
    return value != 0;
  }

  // Enables the unit (so it comes back after a reboot) unless it is already, and reloads systemd
  // when that changed anything, as `systemctl enable` does.
  void enable(const std::string& unit, const systemd::UnitState& state) {
    static const std::set<std::string> done = {"enabled",   "enabled-runtime", "static",
                                               "alias",     "indirect",        "generated",
                                               "transient", "linked"};
    if (done.count(state.unit_file_state)) return;
    BusError err;
    BusMessage call, reply;
    int r =
        sd_bus_message_new_method_call(bus(), &call.m, kDest, kPath, kManager, "EnableUnitFiles");
    if (r >= 0) {
      const char* units[] = {unit.c_str(), nullptr};
      r = sd_bus_message_append_strv(call.m, const_cast<char**>(units));
    }
    if (r >= 0) r = sd_bus_message_append(call.m, "bb", 0, 0);
    if (r >= 0) r = sd_bus_call(bus(), call.m, 25 * 1000 * 1000, &err.e, &reply.m);
    if (r < 0) throw Error("enabling " + unit + ": " + bus_error_text(err.e, r));
    int carries_install_info = 0;
    r = sd_bus_message_read(reply.m, "b", &carries_install_info);
    std::size_t changes = 0;
    if (r >= 0 && sd_bus_message_enter_container(reply.m, 'a', "(sss)") >= 0) {
      while (sd_bus_message_skip(reply.m, "(sss)") > 0) ++changes;
      sd_bus_message_exit_container(reply.m);
    }
    if (changes > 0) {
      BusError rerr;
      r = sd_bus_call_method(bus(), kDest, kPath, kManager, "Reload", &rerr.e, nullptr, "");
      if (r < 0)
        throw Error("reloading systemd after enabling " + unit + ": " + bus_error_text(rerr.e, r));
    }
  }

  static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* removed = static_cast<std::map<std::string, std::string>*>(userdata);
    uint32_t id = 0;
    const char *path = nullptr, *unit = nullptr, *result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && path && result)
      (*removed)[path] = result;
    return 0;
  }

  // Queues one job per unit and waits (bounded) until every one is removed; returns each job's
  // result ("done", "failed", "timeout", "canceled", "dependency", "skipped"), or "timed out".
  std::vector<std::string> run_jobs(const char* method, const std::vector<std::string>& units,
                                    milliseconds timeout) {
    std::map<std::string, std::string> removed;
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_match_signal(bus(), &slot, kDest, kPath, kManager, "JobRemoved",
                                &SystemdSupervisor::on_job_removed, &removed);
    if (r < 0) throw Error(std::string("watching systemd jobs: ") + errno_text(-r));
    struct SlotGuard {
      sd_bus_slot* s;
      ~SlotGuard() { sd_bus_slot_unref(s); }
    } guard{slot};
    {
      BusError err;
      sd_bus_call_method(bus(), kDest, kPath, kManager, "Subscribe", &err.e, nullptr, "");
    }
    std::vector<std::string> jobs;
    for (auto& unit : units) {
      BusError err;
      BusMessage reply;
      r = sd_bus_call_method(bus(), kDest, kPath, kManager, method, &err.e, &reply.m, "ss",
                             unit.c_str(), "replace");
      if (r < 0) throw Error(std::string(method) + " " + unit + ": " + bus_error_text(err.e, r));
      const char* job = nullptr;
      if (sd_bus_message_read(reply.m, "o", &job) < 0 || !job)
        throw Error(std::string(method) + " " + unit + ": bad reply");
      jobs.emplace_back(job);
    }
    auto deadline = Clock::now() + timeout;
    auto all_done = [&]() {
      return std::all_of(jobs.begin(), jobs.end(),
                         [&](const std::string& j) { return removed.count(j) > 0; });
    };
    while (!all_done()) {
      r = sd_bus_process(bus(), nullptr);
      if (r < 0) throw Error(std::string("waiting for systemd: ") + errno_text(-r));
      if (r > 0) continue;
      auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) break;
      auto usec = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      r = sd_bus_wait(bus(), static_cast<uint64_t>(std::min<long long>(usec, 200000)));
      if (r < 0 && r != -EINTR) throw Error(std::string("waiting for systemd: ") + errno_text(-r));
    }
    std::vector<std::string> results;
    for (auto& j : jobs) results.push_back(removed.count(j) ? removed[j] : "timed out");
    return results;
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
          auto lines = journal_lines(unit, kJournalLines);
          if (!lines.empty()) msg += "; last journal lines:";
          for (auto& l : lines) msg += "\n  | " + l;
          throw Error(msg);
        }
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }

  std::mutex mu_;
  sd_bus* bus_ = nullptr;
  std::map<std::string, UnitInfo> units_;  // service name -> unit, for status and stop
};

}  // namespace

std::unique_ptr<ServiceSupervisor> make_systemd_supervisor() {
  return std::make_unique<SystemdSupervisor>();
}

}  // namespace firstboot
