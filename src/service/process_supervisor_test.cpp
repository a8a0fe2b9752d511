#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"
#include "service/pid_record.h"
#include "service/proc.h"
#include "service/readiness.h"
#include "service/service_test_util.h"
#include "service/supervisor.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::eventually;
using testing::free_port;
using testing::python_tcp_server;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool pid_alive(int pid) {
  auto st = proc::read_stat(pid);
  return st && st->state != 'Z';
}

class ProcessSupervisorTest : public ::testing::Test {
 protected:
  ProcessSupervisorTest() : layout(Layout::sandbox(dir.path())) {
    sup = make_process_supervisor(layout);
  }
  ~ProcessSupervisorTest() override {
    // Every test stops what it started, even when it failed half-way.
    try {
      make_process_supervisor(layout)->stop_all();
    } catch (...) {
    }
  }

  ServiceSpec server(const std::string& name, int port) {
    ServiceSpec spec;
    spec.name = name;
    spec.argv = python_tcp_server(port);
    spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", port)};
    spec.start_timeout = milliseconds(5000);
    spec.stop_timeout = milliseconds(3000);
    return spec;
  }

  testing::ScratchDir dir;
  Layout layout;
  std::unique_ptr<ServiceSupervisor> sup;
};

TEST_F(ProcessSupervisorTest, StartsWaitsUntilReadyAndAnotherSupervisorStopsIt) {
  int port = free_port();
  auto spec = server("echo", port);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_TRUE(probe_accepts(spec.ready_when[0], milliseconds(500)));

  auto record_path = layout.run_dir() / "services" / "echo.json";
  ASSERT_TRUE(fs::exists(record_path));
  auto j = nlohmann::json::parse(read_file(record_path));
  int pid = j.at("pid").get<int>();
  EXPECT_EQ(j.at("pgid").get<int>(), pid);
  EXPECT_EQ(j.at("start_time").get<std::uint64_t>(), proc::read_stat(pid)->start_time);
  EXPECT_EQ(j.at("argv").get<std::vector<std::string>>(), spec.argv);
  EXPECT_EQ(proc::read_stat(pid)->session, pid);  // its own session

  // Another process (simulated: a fresh supervisor) sees it and stops it.
  auto other = make_process_supervisor(layout);
  auto st = other->status("echo");
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.pid, pid);
  other->stop({"echo"});
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_FALSE(fs::exists(record_path));
  EXPECT_FALSE(other->status("echo").running);
  EXPECT_NE(read_file(layout.log_dir() / "echo.out").find("listening"), std::string::npos);
}

TEST_F(ProcessSupervisorTest, SecondEnsureChangesNothingRestartGivesNewProcess) {
  int port = free_port();
  auto spec = server("svc", port);
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  int pid = sup->status("svc").pid;
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::none);
  EXPECT_EQ(sup->status("svc").pid, pid);
  // A later run in another process adopts it rather than failing on its own port.
  EXPECT_EQ(make_process_supervisor(layout)->ensure_running(spec, ConfigChange::none),
            ServiceAction::none);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::restart), ServiceAction::restarted);
  int pid2 = sup->status("svc").pid;
  EXPECT_NE(pid2, pid);
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_TRUE(probe_accepts(spec.ready_when[0], milliseconds(500)));
}

TEST_F(ProcessSupervisorTest, ReloadBySignalKeepsTheProcess) {
  int port = free_port();
  auto spec = server("hup", port);
  spec.reload_signal = SIGHUP;
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  int pid = sup->status("hup").pid;
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::reloadable), ServiceAction::reloaded);
  EXPECT_EQ(sup->status("hup").pid, pid);
  EXPECT_TRUE(eventually([&] {
    return read_file(layout.log_dir() / "hup.out").find("reloaded") != std::string::npos;
  }));
}

TEST_F(ProcessSupervisorTest, ReloadableWithoutAReloadMethodRestarts) {
  auto spec = server("plain", free_port());
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::reloadable), ServiceAction::restarted);
}

TEST_F(ProcessSupervisorTest, ReloadCommandRunsAndItsFailureIsReported) {
  auto spec = server("cmd", free_port());
  spec.reload_argv = {"/bin/sh", "-c", "echo reload-ran"};
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::reloadable), ServiceAction::reloaded);
  EXPECT_NE(read_file(layout.log_dir() / "cmd.out").find("reload-ran"), std::string::npos);
  spec.reload_argv = {"/bin/sh", "-c", "echo bad config line 3; exit 4"};
  try {
    sup->ensure_running(spec, ConfigChange::reloadable);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("exited with status 4"), std::string::npos) << what;
    EXPECT_NE(what.find("bad config line 3"), std::string::npos) << what;
  }
}

TEST_F(ProcessSupervisorTest, DaemonThatExitsAtOnceGivesStatusAndOutput) {
  ServiceSpec spec;
  spec.name = "broken";
  spec.argv = {"/bin/sh", "-c", "echo starting; echo 'fatal: bad directive on line 7' >&2; exit 3"};
  spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", free_port())};
  auto start = std::chrono::steady_clock::now();
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("broken"), std::string::npos) << what;
    EXPECT_NE(what.find("exited with status 3"), std::string::npos) << what;
    EXPECT_NE(what.find("fatal: bad directive on line 7"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
  EXPECT_FALSE(fs::exists(layout.run_dir() / "services" / "broken.json"));
  auto st = sup->status("broken");
  EXPECT_FALSE(st.running);
  EXPECT_NE(st.detail.find("exited with status 3"), std::string::npos) << st.detail;
}

TEST_F(ProcessSupervisorTest, MissingExecutableIsAClearError) {
  ServiceSpec spec;
  spec.name = "ghost";
  spec.argv = {"no-such-daemon-firstboot", "-f"};
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found in PATH"), std::string::npos) << e.what();
  }
  spec.argv = {"/nonexistent/daemon"};
  EXPECT_THROW(sup->ensure_running(spec, ConfigChange::none), Error);
}

TEST_F(ProcessSupervisorTest, ReadinessTimeoutStopsTheProcess) {
  ServiceSpec spec;
  spec.name = "mute";
  spec.argv = {"/bin/sleep", "30"};
  spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", free_port())};
  spec.start_timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did not become ready"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
  EXPECT_FALSE(sup->status("mute").running);
}

TEST_F(ProcessSupervisorTest, SlowStarterIsWaitedFor) {
  int port = free_port();
  auto spec = server("slow", port);
  spec.argv = python_tcp_server(port, 0.4);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_TRUE(probe_accepts(spec.ready_when[0], milliseconds(500)));
}

TEST_F(ProcessSupervisorTest, UnixSocketProbe) {
  fs::path sock = dir.path() / "s.sock";
  ServiceSpec spec;
  spec.name = "unix";
  spec.argv = {"/usr/bin/python3", "-c",
               "import socket, sys\n"
               "s = socket.socket(socket.AF_UNIX)\n"
               "s.bind(sys.argv[1])\n"
               "s.listen(4)\n"
               "while True:\n"
               "    s.accept()[0].close()\n",
               sock.string()};
  spec.ready_when = {ReadinessProbe::unix_socket(sock)};
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_TRUE(probe_accepts(spec.ready_when[0], milliseconds(500)));
}

TEST_F(ProcessSupervisorTest, PortHeldByAStrangerIsRefusedWithItsOwner) {
  int port = free_port();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  try {
    sup->ensure_running(server("late", port), ConfigChange::none);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("port " + std::to_string(port) + " on 127.0.0.1 is in use by pid " +
                        std::to_string(getpid())),
              std::string::npos)
        << what;
  }
  ::close(fd);
  EXPECT_FALSE(fs::exists(layout.run_dir() / "services" / "late.json"));
}

TEST_F(ProcessSupervisorTest, ReusedPidIsNeverTakenForOurs) {
  // A record whose PID is alive but belongs to another process (here: this test) with another
  // start time: not running, and stopping it must not signal that process.
  PidRecords records(layout.run_dir() / "services");
  PidRecord rec;
  rec.name = "old";
  rec.pid = getpid();
  rec.pgid = getpid();
  rec.start_time = proc::read_stat(getpid())->start_time + 12345;
  rec.argv = {"/bin/true"};
  rec.output = (layout.log_dir() / "old.out").string();
  records.save(rec);
  EXPECT_FALSE(sup->status("old").running);
  sup->stop({"old"});  // we are still here
  EXPECT_FALSE(fs::exists(records.path_of("old")));

  records.save(rec);
  auto spec = server("old", free_port());
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_NE(sup->status("old").pid, getpid());
}

TEST_F(ProcessSupervisorTest, ChangedCommandLineRestarts) {
  int port = free_port();
  auto spec = server("cl", port);
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  spec.env["FIRSTBOOT_TEST"] = "2";
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::restarted);
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::none);
}

TEST_F(ProcessSupervisorTest, StopsSeveralInParallel) {
  // Each takes ~1 s to exit after SIGTERM: in parallel the whole stop takes about 1 s, not 4.
  std::vector<std::string> names;
  std::vector<int> pids;
  for (int i = 0; i < 4; ++i) {
    ServiceSpec spec;
    spec.name = "lazy" + std::to_string(i);
    spec.argv = {"/usr/bin/python3", "-c",
                 "import signal, sys, time\n"
                 "def bye(*a):\n"
                 "    time.sleep(1)\n"
                 "    sys.exit(0)\n"
                 "signal.signal(signal.SIGTERM, bye)\n"
                 "print('up', flush=True)\n"
                 "while True:\n"
                 "    time.sleep(0.05)\n"};
    ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
    ASSERT_TRUE(eventually([&] {
      return read_file(layout.log_dir() / (spec.name + ".out")).find("up") != std::string::npos;
    }));
    names.push_back(spec.name);
    pids.push_back(sup->status(spec.name).pid);
  }
  auto start = std::chrono::steady_clock::now();
  make_process_supervisor(layout)->stop_all();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, milliseconds(3200));  // one after another: 4 s
  EXPECT_GE(took, milliseconds(900));
  for (int pid : pids) EXPECT_FALSE(pid_alive(pid));
}

TEST_F(ProcessSupervisorTest, KillsAfterTheStopTimeout) {
  ServiceSpec spec;
  spec.name = "stubborn";
  spec.argv = {"/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.05; done"};
  spec.stop_timeout = milliseconds(300);
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  int pid = sup->status("stubborn").pid;
  ASSERT_TRUE(eventually([&] {
    return read_file(layout.log_dir() / "stubborn.out").find("up") != std::string::npos;
  }));
  auto start = std::chrono::steady_clock::now();
  sup->stop({"stubborn"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_TRUE(proc::live_members(pid).empty());
}

TEST_F(ProcessSupervisorTest, ChildrenOfTheDaemonAreStoppedWithIt) {
  ServiceSpec spec;
  spec.name = "family";
  spec.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30 & echo up; wait"};
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  int pid = sup->status("family").pid;
  ASSERT_TRUE(eventually([&] { return proc::live_members(pid).size() >= 3; }));
  sup->stop({"family"});
  EXPECT_TRUE(proc::live_members(pid).empty());
}

TEST_F(ProcessSupervisorTest, DaemonOutlivesItsSupervisor) {
  auto spec = server("lasting", free_port());
  int pid = 0;
  {
    auto first = make_process_supervisor(layout);
    ASSERT_EQ(first->ensure_running(spec, ConfigChange::none), ServiceAction::started);
    pid = first->status("lasting").pid;
  }
  EXPECT_TRUE(pid_alive(pid));
  auto second = make_process_supervisor(layout);
  EXPECT_TRUE(second->status("lasting").running);
  second->stop_all();
  EXPECT_FALSE(pid_alive(pid));
  // Reaped, not left as a zombie of this test process.
  EXPECT_FALSE(proc::read_stat(pid).has_value());
}

TEST_F(ProcessSupervisorTest, AnExecFailureIsReportedAndLeavesNoRecord) {
  fs::path script = dir.path() / "not-a-program";
  std::ofstream(script) << "\x01\x02 neither ELF nor #!\n";
  fs::permissions(script, fs::perms::owner_all);
  ServiceSpec spec;
  spec.name = "noexec";
  spec.argv = {script.string()};
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("executing " + script.string()), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(layout.run_dir() / "services" / "noexec.json"));
}

// The point of a start at which process_start_test_hook kills its process, as a SIGKILL of
// `firstboot run` would.
const char* g_kill_at = nullptr;
void kill_at_hook(const char* point) {
  if (g_kill_at && std::strcmp(point, g_kill_at) == 0) ::raise(SIGKILL);
}

TEST_F(ProcessSupervisorTest, KilledBeforeItsRecordIsSavedTheDaemonNeverRuns) {
  // Orphans are reparented to this test process, so it sees how the gated child ended.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  for (const char* point : {"spawned", "recorded"}) {
    SCOPED_TRACE(point);
    int port = free_port();
    fs::path marker = dir.path() / (std::string("ran-") + point);
    ServiceSpec spec = server("gated", port);
    spec.argv = {"/bin/sh", "-c", "touch \"$0\"; exec \"$@\"", marker.string()};
    for (auto& a : python_tcp_server(port)) spec.argv.push_back(a);
    pid_t victim = ::fork();
    ASSERT_GE(victim, 0);
    if (victim == 0) {
      g_kill_at = point;
      process_start_test_hook = kill_at_hook;
      try {
        make_process_supervisor(layout)->ensure_running(spec, ConfigChange::none);
      } catch (...) {
      }
      ::_exit(3);  // not reached: the hook kills this process
    }
    int status = 0;
    ASSERT_EQ(::waitpid(victim, &status, 0), victim);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    // The child it forked read EOF at its gate and exited without running the command.
    int orphan_status = 0;
    ASSERT_TRUE(eventually([&] { return ::waitpid(-1, &orphan_status, WNOHANG) > 0; }));
    EXPECT_TRUE(WIFEXITED(orphan_status) && WEXITSTATUS(orphan_status) == 126) << orphan_status;
    EXPECT_FALSE(fs::exists(marker));
    EXPECT_FALSE(port_in_use("127.0.0.1", port).has_value());
    // The next run starts it normally: nothing holds the port, a stale record is cleared.
    auto next = make_process_supervisor(layout);
    EXPECT_EQ(next->ensure_running(spec, ConfigChange::none), ServiceAction::started);
    EXPECT_TRUE(fs::exists(marker));
    next->stop({"gated"});
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_F(ProcessSupervisorTest, StatusOfAnUnknownServiceIsNotRunning) {
  auto st = sup->status("never");
  EXPECT_FALSE(st.running);
  EXPECT_TRUE(sup->status_all().empty());
  EXPECT_THROW(sup->status("../etc"), Error);
}

TEST_F(ProcessSupervisorTest, PlanningRecordsWithoutStarting) {
  auto spec = server("planned", free_port());
  auto plan = make_planning_supervisor(*sup);
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::restart), ServiceAction::would_start);
  EXPECT_FALSE(sup->status("planned").running);
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::none), ServiceAction::none);
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::restart), ServiceAction::would_restart);
  spec.reload_signal = SIGHUP;
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::reloadable), ServiceAction::would_reload);
  int pid = sup->status("planned").pid;
  plan->stop_all();
  EXPECT_TRUE(sup->status("planned").running);
  EXPECT_EQ(sup->status("planned").pid, pid);
}

TEST_F(ProcessSupervisorTest, WithoutProbesAnImmediateExitIsStillCaught) {
  ServiceSpec spec;
  spec.name = "quick";
  spec.argv = {"/bin/sh", "-c", "echo 'cannot open config'; exit 2"};
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exited with status 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot open config"), std::string::npos) << e.what();
  }
}

TEST_F(ProcessSupervisorTest, RunningButUnreadyIsReportedNotKilled) {
  auto spec = server("half", free_port());
  ASSERT_EQ(sup->ensure_running(spec, ConfigChange::none), ServiceAction::started);
  int pid = sup->status("half").pid;
  spec.ready_when.push_back(ReadinessProbe::tcp("127.0.0.1", free_port()));
  spec.start_timeout = milliseconds(200);
  try {
    sup->ensure_running(spec, ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("still running as pid " + std::to_string(pid)),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(pid_alive(pid));
}

TEST_F(ProcessSupervisorTest, TwoOfOurServicesOnOnePortAreNamed) {
  int port = free_port();
  ASSERT_EQ(sup->ensure_running(server("first", port), ConfigChange::none), ServiceAction::started);
  try {
    sup->ensure_running(server("second", port), ConfigChange::none);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("service 'first' of this sandbox"), std::string::npos)
        << e.what();
  }
}

TEST_F(ProcessSupervisorTest, UnixSocketAlreadyServedIsRefused) {
  fs::path sock = dir.path() / "busy.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ServiceSpec spec;
  spec.name = "dup";
  spec.argv = {"/bin/sleep", "30"};
  spec.ready_when = {ReadinessProbe::unix_socket(sock)};
  try {
    sup->ensure_running(spec, ConfigChange::none);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already accepts connections"), std::string::npos)
        << e.what();
  }
  ::close(fd);
  EXPECT_FALSE(sup->status("dup").running);
}

TEST_F(ProcessSupervisorTest, AnotherProcessWorkingOnTheServiceIsWaitedFor) {
  PidRecords records(layout.run_dir() / "services");
  auto held = std::make_unique<RecordLock>(records, "locked", milliseconds(1000));
  // A second lock on the same service gives up after its bound, naming the reason.
  try {
    RecordLock second(records, "locked", milliseconds(100));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another firstboot process"), std::string::npos);
  }
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(300));
    held.reset();
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sup->ensure_running(server("locked", free_port()), ConfigChange::none),
            ServiceAction::started);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(290));
  release.join();
}

TEST_F(ProcessSupervisorTest, ForgedRecordCannotSteerTheKill) {
  // pgid differs from pid: not a record we wrote; it is ignored, nothing is signalled.
  fs::create_directories(layout.run_dir() / "services");
  std::ofstream(layout.run_dir() / "services" / "forged.json")
      << R"({"name":"forged","pid":999999,"pgid":)" << getpgrp()
      << R"(,"start_time":1,"argv":["x"],"spec_digest":"","started_at":0,"output":"/dev/null"})";
  EXPECT_FALSE(sup->status("forged").running);
  EXPECT_NE(sup->status("forged").detail.find("unreadable PID record"), std::string::npos);
  sup->stop_all();  // must not signal our own process group
  EXPECT_FALSE(fs::exists(layout.run_dir() / "services" / "forged.json"));
}

}  // namespace
}  // namespace firstboot
