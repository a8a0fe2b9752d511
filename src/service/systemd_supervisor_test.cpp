// The systemd backend's decisions (daemon-reload, enable, which job, failure text) against a
// scripted systemd: no system bus needed.
#include <gtest/gtest.h>

#include <map>

#include "engine/error.h"
#include "service/systemd_bus.h"

namespace firstboot {
namespace {

using std::chrono::milliseconds;

// A unit as systemd would see it: the file on disk versus what the manager has loaded.
struct FakeUnit {
  bool file_on_disk = true;
  bool loaded = true;            // the manager read the file (else LoadUnit says not-found)
  bool changed_on_disk = false;  // the file or a drop-in changed since it was read
  std::string unit_file_state = "enabled";
  bool active = false;
  bool start_fails = false;
  std::string config = "v1";          // the definition the manager uses
  std::string config_on_disk = "v1";  // what the file says now
};

class FakeBus : public systemd::Bus {
 public:
  std::map<std::string, FakeUnit> units;
  std::vector<std::string> calls;
  std::map<std::string, std::string> started_with;  // unit -> the definition its last job used

  FakeUnit& unit(const std::string& name) { return units.at(name); }

  systemd::UnitState read_state(const std::string& name) override {
    calls.push_back("read " + name);
    systemd::UnitState s;
    s.unit = name;
    auto it = units.find(name);
    if (it == units.end() || !it->second.loaded) {
      s.load_state = "not-found";
      s.active_state = "inactive";
      s.sub_state = "dead";
      return s;
    }
    const FakeUnit& u = it->second;
    s.load_state = "loaded";
    s.active_state = u.active ? "active" : (u.start_fails ? "failed" : "inactive");
    s.sub_state = u.active ? "running" : "dead";
    s.unit_file_state = u.unit_file_state;
    s.need_daemon_reload = u.changed_on_disk;
    if (u.start_fails) {
      s.result = "exit-code";
      s.exec_main_code = 1;
      s.exec_main_status = 78;
    }
    return s;
  }
  bool can_reload(const std::string& name) override {
    calls.push_back("can-reload " + name);
    return true;
  }
  std::size_t enable_unit_files(const std::string& name) override {
    calls.push_back("enable " + name);
    FakeUnit& u = unit(name);
    if (u.unit_file_state == "enabled") return 0;
    u.unit_file_state = "enabled";
    return 1;
  }
  void reload() override {
    calls.push_back("daemon-reload");
    for (auto& [name, u] : units) {
      if (!u.file_on_disk) continue;
      u.loaded = true;
      u.changed_on_disk = false;
      u.config = u.config_on_disk;
    }
  }
  std::vector<std::string> run_jobs(const std::string& method,
                                    const std::vector<std::string>& names, milliseconds) override {
    std::vector<std::string> results;
    for (const auto& name : names) {
      calls.push_back(method + " " + name);
      auto it = units.find(name);
      if (it == units.end() || !it->second.loaded) {
        results.push_back("failed");
        continue;
      }
      FakeUnit& u = it->second;
      if (method == "StopUnit") {
        u.active = false;
        results.push_back("done");
        continue;
      }
      started_with[name] = u.config;
      u.active = !u.start_fails;
      results.push_back(u.start_fails ? "failed" : "done");
    }
    return results;
  }
  std::vector<std::string> journal_lines(const std::string& name, std::size_t) override {
    return {name + ": configuration error on line 3"};
  }
};

class SystemdSupervisorTest : public ::testing::Test {
 protected:
  SystemdSupervisorTest() {
    auto owned = std::make_unique<FakeBus>();
    bus = owned.get();
    sup = systemd::make_systemd_supervisor(std::move(owned));
  }

  static ServiceSpec spec(const std::string& unit) {
    ServiceSpec s;
    s.name = unit;
    s.systemd_unit = unit;
    s.start_timeout = milliseconds(1000);
    return s;
  }
  int count(const std::string& call) const {
    return static_cast<int>(std::count(bus->calls.begin(), bus->calls.end(), call));
  }
  // The position of the first such call, or -1.
  int index_of(const std::string& call) const {
    auto it = std::find(bus->calls.begin(), bus->calls.end(), call);
    return it == bus->calls.end() ? -1 : static_cast<int>(it - bus->calls.begin());
  }

  FakeBus* bus = nullptr;
  std::unique_ptr<ServiceSupervisor> sup;
};

TEST_F(SystemdSupervisorTest, AUnitFileWrittenJustNowIsLoadedByADaemonReloadBeforeItStarts) {
  // firstboot-check.timer was just rendered to /etc/systemd/system: systemd has not read it.
  bus->units["firstboot-check.timer"] =
      FakeUnit{true, false, false, "disabled", false, false, "", "v1"};
  EXPECT_EQ(sup->ensure_running(spec("firstboot-check.timer"), ConfigChange::restart),
            ServiceAction::started);
  EXPECT_EQ(bus->started_with["firstboot-check.timer"], "v1");
  int reload = index_of("daemon-reload");
  ASSERT_GE(reload, 0);
  EXPECT_LT(reload, index_of("StartUnit firstboot-check.timer"));
  // Enabled (timers.target.wants), with the reload `systemctl enable` does.
  EXPECT_EQ(count("enable firstboot-check.timer"), 1);
  EXPECT_EQ(count("daemon-reload"), 2);
  EXPECT_TRUE(bus->unit("firstboot-check.timer").active);
}

TEST_F(SystemdSupervisorTest, AChangedUnitFileIsReReadBeforeTheRestart) {
  // node-exporter runs; firstboot changed its drop-in: the restart must use the new definition.
  FakeUnit u;
  u.active = true;
  u.changed_on_disk = true;
  u.config_on_disk = "v2";
  bus->units["prometheus-node-exporter.service"] = u;
  EXPECT_EQ(sup->ensure_running(spec("prometheus-node-exporter.service"), ConfigChange::restart),
            ServiceAction::restarted);
  EXPECT_EQ(bus->started_with["prometheus-node-exporter.service"], "v2");
  EXPECT_LT(index_of("daemon-reload"), index_of("RestartUnit prometheus-node-exporter.service"));
  EXPECT_EQ(count("daemon-reload"), 1);
}

TEST_F(SystemdSupervisorTest, AChangedUnitFileOfAStoppedServiceIsReReadBeforeTheStart) {
  FakeUnit u;
  u.changed_on_disk = true;
  u.config_on_disk = "v2";
  bus->units["dovecot.service"] = u;
  EXPECT_EQ(sup->ensure_running(spec("dovecot.service"), ConfigChange::none),
            ServiceAction::started);
  EXPECT_EQ(bus->started_with["dovecot.service"], "v2");
}

TEST_F(SystemdSupervisorTest, NothingChangedMeansNoReloadAndNoJob) {
  FakeUnit u;
  u.active = true;
  bus->units["postfix.service"] = u;
  EXPECT_EQ(sup->ensure_running(spec("postfix.service"), ConfigChange::none), ServiceAction::none);
  EXPECT_EQ(count("daemon-reload"), 0);
  EXPECT_EQ(count("enable postfix.service"), 0);
  for (const auto& call : bus->calls) EXPECT_EQ(call.rfind("read ", 0), 0u) << call;
}

TEST_F(SystemdSupervisorTest, EnablingADisabledUnitReloadsOnce) {
  FakeUnit u;
  u.unit_file_state = "disabled";
  bus->units["opendkim@ed25519.service"] = u;
  EXPECT_EQ(sup->ensure_running(spec("opendkim@ed25519"), ConfigChange::none),
            ServiceAction::started);
  EXPECT_EQ(count("enable opendkim@ed25519.service"), 1);
  EXPECT_EQ(count("daemon-reload"), 1);
  EXPECT_LT(index_of("daemon-reload"), index_of("StartUnit opendkim@ed25519.service"));
}

TEST_F(SystemdSupervisorTest, AUnitWithoutAFileIsNotFoundAfterOneReload) {
  try {
    sup->ensure_running(spec("nsd.service"), ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unit nsd.service not found"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(count("daemon-reload"), 1);
  EXPECT_EQ(count("StartUnit nsd.service"), 0);
}

TEST_F(SystemdSupervisorTest, AFailedStartIsExplainedWithTheJournal) {
  FakeUnit u;
  u.start_fails = true;
  bus->units["dovecot.service"] = u;
  try {
    sup->ensure_running(spec("dovecot.service"), ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("starting dovecot.service failed (job failed)"), std::string::npos) << what;
    EXPECT_NE(what.find("main process exited with status 78"), std::string::npos) << what;
    EXPECT_NE(what.find("configuration error on line 3"), std::string::npos) << what;
  }
}

TEST_F(SystemdSupervisorTest, ReloadableUsesReloadOrRestartWhenTheSpecCanReload) {
  FakeUnit u;
  u.active = true;
  bus->units["named.service"] = u;
  auto s = spec("named.service");
  s.reload_argv = {"rndc", "reload"};
  EXPECT_EQ(sup->ensure_running(s, ConfigChange::reloadable), ServiceAction::reloaded);
  EXPECT_EQ(count("ReloadOrRestartUnit named.service"), 1);
  s.reload_argv.clear();
  EXPECT_EQ(sup->ensure_running(s, ConfigChange::reloadable), ServiceAction::restarted);
  EXPECT_EQ(count("RestartUnit named.service"), 1);
}

TEST_F(SystemdSupervisorTest, PlanSaysRestartWhenTheUnitFileChanged) {
  FakeUnit u;
  u.active = true;
  u.changed_on_disk = true;
  bus->units["postfix.service"] = u;
  EXPECT_EQ(sup->planned_action(spec("postfix.service"), ConfigChange::reloadable),
            ServiceAction::would_restart);
  EXPECT_EQ(count("daemon-reload"), 0);  // a plan changes nothing
}

TEST_F(SystemdSupervisorTest, StopQueuesEveryUnitAndStatusReadsTheState) {
  FakeUnit u;
  u.active = true;
  bus->units["postfix.service"] = u;
  bus->units["dovecot.service"] = u;
  EXPECT_TRUE(sup->status("postfix").running);
  sup->stop({"postfix", "dovecot"});
  EXPECT_EQ(count("StopUnit postfix.service"), 1);
  EXPECT_EQ(count("StopUnit dovecot.service"), 1);
  auto st = sup->status("postfix");
  EXPECT_FALSE(st.running);
  EXPECT_NE(st.detail.find("configuration error"), std::string::npos) << st.detail;
}

}  // namespace
}  // namespace firstboot
