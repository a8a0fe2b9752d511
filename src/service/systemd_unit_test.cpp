#include "service/systemd_unit.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "engine/error.h"
#include "service/supervisor.h"

namespace firstboot {
namespace {

TEST(SystemdUnit, Names) {
  EXPECT_EQ(systemd::normalize_unit("postfix"), "postfix.service");
  EXPECT_EQ(systemd::normalize_unit("postfix.service"), "postfix.service");
  EXPECT_EQ(systemd::normalize_unit("firstboot-check.timer"), "firstboot-check.timer");
  EXPECT_EQ(systemd::normalize_unit("opendkim@ed25519"), "opendkim@ed25519.service");
  EXPECT_EQ(systemd::unit_file_of("opendkim@ed25519.service"), "opendkim@.service");
  EXPECT_EQ(systemd::unit_file_of("postfix.service"), "postfix.service");
  ServiceSpec spec;
  spec.name = "dovecot";
  EXPECT_EQ(systemd::unit_name(spec), "dovecot.service");
  for (const char* bad : {"", "../x", "a/b", "a b", "@x", "a@b@c", "x\n", ".hidden", "-x"})
    EXPECT_THROW(systemd::normalize_unit(bad), Error) << bad;
}

TEST(SystemdUnit, DescribesRunningAndFailedUnits) {
  systemd::UnitState s;
  s.unit = "postfix.service";
  s.load_state = "loaded";
  s.active_state = "active";
  s.sub_state = "running";
  s.main_pid = 42;
  EXPECT_TRUE(systemd::is_running(s));
  EXPECT_EQ(systemd::describe(s), "active (running), main pid 42");

  s.active_state = "failed";
  s.sub_state = "failed";
  s.result = "exit-code";
  s.exec_main_code = CLD_EXITED;
  s.exec_main_status = 1;
  s.main_pid = 0;
  EXPECT_FALSE(systemd::is_running(s));
  EXPECT_EQ(systemd::describe(s),
            "failed (failed): Result: exit-code, main process exited with status 1");

  s.result = "signal";
  s.exec_main_code = CLD_KILLED;
  s.exec_main_status = SIGSEGV;
  EXPECT_NE(systemd::describe(s).find("killed by signal 11 (SIGSEGV)"), std::string::npos);

  s.load_state = "not-found";
  EXPECT_EQ(systemd::describe(s), "unit postfix.service not found");
}

TEST(SystemdUnit, FailureMessageHasStateAndJournal) {
  systemd::UnitState s;
  s.unit = "dovecot.service";
  s.load_state = "loaded";
  s.active_state = "failed";
  s.sub_state = "failed";
  s.result = "exit-code";
  s.exec_main_code = CLD_EXITED;
  s.exec_main_status = 89;
  auto msg = systemd::failure_message("starting", s, "failed",
                                      {"doveconf: Fatal: Error in configuration file line 3"});
  EXPECT_NE(msg.find("starting dovecot.service failed (job failed)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited with status 89"), std::string::npos) << msg;
  EXPECT_NE(msg.find("  | doveconf: Fatal: Error in configuration file line 3"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("journalctl -u dovecot.service"), std::string::npos) << msg;
  EXPECT_NE(systemd::failure_message("starting", s, "done", {}).find("no journal lines"),
            std::string::npos);
}

TEST(SystemdSupervisor, WithoutASystemBusTheErrorSaysSo) {
  if (std::filesystem::exists("/run/systemd/system"))
    GTEST_SKIP() << "systemd runs here; this test is for machines without it";
  auto sup = make_systemd_supervisor();
  ServiceSpec spec;
  spec.name = "postfix";
  spec.systemd_unit = "postfix.service";
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("no system bus"), std::string::npos) << what;
    EXPECT_NE(what.find("--sandbox"), std::string::npos) << what;
  }
  auto st = sup->status("postfix");
  EXPECT_FALSE(st.running);
  EXPECT_NE(st.detail.find("no system bus"), std::string::npos) << st.detail;
  // A plan on such a machine still answers.
  auto plan = make_planning_supervisor(*sup);
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::none), ServiceAction::would_start);
}

}  // namespace
}  // namespace firstboot
