// The sd-bus implementation of systemd::Bus: method calls and properties on the system bus,
// jobs waited for by their JobRemoved signal (bounded), the unit's journal read with sd-journal.
#include "service/systemd_bus.h"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "engine/error.h"

namespace firstboot::systemd {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitIface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceIface = "org.freedesktop.systemd1.Service";

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

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class SdBus : public Bus {
 public:
  ~SdBus() override { sd_bus_flush_close_unref(bus_); }

  UnitState read_state(const std::string& unit) override {
    UnitState s;
    s.unit = unit;
    std::string path = unit_path(unit);
    s.load_state = string_property(path, kUnitIface, "LoadState");
    s.active_state = string_property(path, kUnitIface, "ActiveState");
    s.sub_state = string_property(path, kUnitIface, "SubState");
    s.unit_file_state = string_property(path, kUnitIface, "UnitFileState");
    s.need_daemon_reload = trivial_property<int>(path, kUnitIface, "NeedDaemonReload", 'b') != 0;
    if (has_suffix(unit, ".service") && s.load_state == "loaded") {
      s.result = string_property(path, kServiceIface, "Result");
      s.exec_main_code = trivial_property<int32_t>(path, kServiceIface, "ExecMainCode", 'i');
      s.exec_main_status = trivial_property<int32_t>(path, kServiceIface, "ExecMainStatus", 'i');
      s.main_pid = trivial_property<uint32_t>(path, kServiceIface, "MainPID", 'u');
    }
    return s;
  }

  bool can_reload(const std::string& unit) override {
    return trivial_property<int>(unit_path(unit), kUnitIface, "CanReload", 'b') != 0;
  }

  std::size_t enable_unit_files(const std::string& unit) override {
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
    return changes;
  }

  void reload() override {
    BusError err;
    int r = sd_bus_call_method(bus(), kDest, kPath, kManager, "Reload", &err.e, nullptr, "");
    if (r < 0) throw Error("reloading systemd (daemon-reload): " + bus_error_text(err.e, r));
  }

  std::vector<std::string> run_jobs(const std::string& method,
                                    const std::vector<std::string>& units,
                                    milliseconds timeout) override {
    std::map<std::string, std::string> removed;
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_match_signal(bus(), &slot, kDest, kPath, kManager, "JobRemoved",
                                &SdBus::on_job_removed, &removed);
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
      r = sd_bus_call_method(bus(), kDest, kPath, kManager, method.c_str(), &err.e, &reply.m, "ss",
                             unit.c_str(), "replace");
      if (r < 0) throw Error(method + " " + unit + ": " + bus_error_text(err.e, r));
      const char* job = nullptr;
      if (sd_bus_message_read(reply.m, "o", &job) < 0 || !job)
        throw Error(method + " " + unit + ": bad reply");
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

  // Bounded in count; empty when there is no journal to read.
  std::vector<std::string> journal_lines(const std::string& unit, std::size_t count) override {
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

 private:
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

  static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* removed = static_cast<std::map<std::string, std::string>*>(userdata);
    uint32_t id = 0;
    const char *path = nullptr, *unit = nullptr, *result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && path && result)
      (*removed)[path] = result;
    return 0;
  }

  sd_bus* bus_ = nullptr;
};

}  // namespace

std::unique_ptr<Bus> make_sd_bus() { return std::make_unique<SdBus>(); }

}  // namespace firstboot::systemd
