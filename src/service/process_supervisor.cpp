// The sandbox backend: daemons run in the foreground as our children, each in its own session.
// See docs/services.md for the PID record and the stop semantics.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "engine/error.h"
#include "engine/layout.h"
#include "service/pid_record.h"
#include "service/proc.h"
#include "service/readiness.h"
#include "service/supervisor.h"

extern char** environ;

namespace firstboot {

void (*process_start_test_hook)(const char* point) = nullptr;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kPoll{20};
constexpr milliseconds kKillGrace{5000};   // after SIGKILL, how long we wait for the kernel
constexpr milliseconds kSettle{100};       // without probes: how long a fresh start must survive
constexpr milliseconds kLockSlack{30000};  // waiting for another process working on a service
constexpr std::size_t kTailLines = 10;

void start_hook(const char* point) {
  if (process_start_test_hook) process_start_test_hook(point);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) +
           (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
  }
  return "ended (status " + std::to_string(status) + ")";
}

// The last lines written to `file` after byte `offset`, indented, or "" when there are none.
std::string output_tail(const fs::path& file, std::uintmax_t offset,
                        std::size_t lines = kTailLines) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size <= offset) return {};
  std::uintmax_t from = std::max<std::uintmax_t>(offset, size > 65536 ? size - 65536 : 0);
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> all;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    for (char& c : line)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
    if (!line.empty()) all.push_back(line);
    start = nl + 1;
  }
  std::size_t first = all.size() > lines ? all.size() - lines : 0;
  std::string out;
  for (std::size_t i = first; i < all.size(); ++i) out += "\n  | " + all[i];
  return out;
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

// argv[0] as an executable path, searched in PATH when it has no slash.
std::string resolve_executable(const std::string& name, const std::string& path_env) {
  if (name.empty()) throw Error("empty command");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0)
      throw Error("'" + name + "' is not executable: " + errno_text(errno));
    return name;
  }
  std::size_t start = 0;
  while (start <= path_env.size()) {
    auto colon = path_env.find(':', start);
    if (colon == std::string::npos) colon = path_env.size();
    std::string dir = path_env.substr(start, colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0)
        return candidate;
    }
    start = colon + 1;
  }
  throw Error("'" + name + "' not found in PATH (" + path_env + ")");
}

// An fd at 10 or above, close-on-exec, so the child's dup2 onto 0..3 never clobbers it.
int high_fd(int fd) {
  if (fd < 0) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return high;
}

// A forked child that has not executed its command yet: it waits on the gate pipe, so the
// command never runs before the caller has recorded the child (the PID record is durable before
// any daemon exists). release() lets it exec; should we die first (SIGKILL), the gate reads EOF
// and the child exits without ever running the command: no untracked daemon can hold the ports.
struct Spawned {
  pid_t pid = 0;
  std::string executable;
  int gate_fd = -1;  // our end of the gate: one byte = exec
  int err_fd = -1;   // read end: exec's errno, or EOF when exec succeeded
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Lets the child exec its command; throws (and reaps the child) when exec fails.
void release(Spawned& child) {
  char go = 1;
  ssize_t w;
  do {
    w = ::send(child.gate_fd, &go, 1, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  close_fd(child.gate_fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(child.err_fd, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(child.err_fd);
  if (n == static_cast<ssize_t>(sizeof child_errno) || w != 1) {
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    throw Error("executing " + child.executable + ": " +
                (w == 1 ? errno_text(child_errno) : std::string("the child is gone")));
  }
}

// The child exits without running its command; reaps it.
void abandon(Spawned& child) {
  close_fd(child.gate_fd);
  close_fd(child.err_fd);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(child.pid, &status, 0);
  } while (r < 0 && errno == EINTR);
}

// fork + setsid; the child then waits for release() and execs. stdin is /dev/null, stdout and
// stderr go to out_fd. Throws when the command is not found or not executable.
Spawned spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              int out_fd, const fs::path& cwd) {
  if (argv.empty()) throw Error("no command line");
  std::map<std::string, std::string> merged;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
        v.find('\0') != std::string::npos)
      throw Error("invalid environment variable name '" + k + "'");
    merged[k] = v;
  }
  std::string path_env = merged.count("PATH") ? merged["PATH"] : "/usr/sbin:/usr/bin:/sbin:/bin";
  Spawned out;
  out.executable = resolve_executable(argv[0], path_env);

  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto& e : env_strings) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  std::string cwd_text = cwd.string();

  int null_fd = high_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd < 0) throw Error("opening /dev/null: " + errno_text(errno));
  int err_pipe[2], gate_pair[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(null_fd);
    throw Error("pipe: " + errno_text(errno));
  }
  // A socket pair rather than a pipe: release() writes with MSG_NOSIGNAL, so a child that is
  // already gone costs an error, not a SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate_pair) != 0) {
    int err = errno;
    ::close(null_fd);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    throw Error("pipe: " + errno_text(err));
  }
  int err_r = high_fd(err_pipe[0]), err_w = high_fd(err_pipe[1]);
  int gate_r = high_fd(gate_pair[0]), gate_w = high_fd(gate_pair[1]);
  int log_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {null_fd, err_r, err_w, gate_r, gate_w, log_fd}) ::close(fd);
    throw Error("fork: " + errno_text(err));
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls from here on.
    ::setsid();
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::dup2(err_w, 3);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    ::dup2(gate_r, 4);
    // Everything else goes, the supervisor's end of the gate included: our copy of it would keep it
    // from ever reading EOF.
    ::close_range(5, ~0U, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::chdir(cwd_text.c_str()) != 0) {
      // Not fatal: daemons get absolute paths.
    }
    char go = 0;
    ssize_t got;
    do {
      got = ::read(4, &go, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1) ::_exit(126);  // the supervisor died before recording us: run nothing
    ::close(4);
    ::execve(out.executable.c_str(), cargv.data(), cenv.data());
    int err = errno;
    ssize_t ignored = ::write(3, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  for (int fd : {null_fd, err_w, gate_r, log_fd}) ::close(fd);
  out.pid = pid;
  out.gate_fd = gate_w;
  out.err_fd = err_r;
  return out;
}

// spawn + release, for a command that needs no record (a reload command).
Spawned spawn_now(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, int out_fd, const fs::path& cwd) {
  Spawned child = spawn(argv, env, out_fd, cwd);
  release(child);
  return child;
}

class ProcessSupervisor : public ServiceSupervisor {
 public:
  explicit ProcessSupervisor(const Layout& layout)
      : base_(layout.base()), log_dir_(layout.log_dir()), records_(layout.run_dir() / "services") {}

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) override {
    check_service_name(spec.name);
    if (spec.argv.empty()) throw Error("service " + spec.name + ": no command line to run");
    RecordLock lock(records_, spec.name, spec.start_timeout + spec.stop_timeout + kLockSlack);
    std::string why;
    auto rec = records_.load(spec.name, &why);
    if (rec) reap(rec->pid);
    if (!rec || !record_process_alive(*rec)) {
      if (rec) {
        // The main process is gone; anything left in its session is ours and in the way.
        auto err = stop_record(*rec, spec.stop_timeout);
        if (err) throw Error("service " + spec.name + ": " + *err);
      }
      start(spec);
      return ServiceAction::started;
    }
    if (rec->spec_digest != spec_digest(spec)) {
      // Its command line or environment changed: the running process is the old one.
      restart(spec, *rec);
      return ServiceAction::restarted;
    }
    switch (change) {
      case ConfigChange::none:
        wait_ready(spec, *rec, output_size(spec.name), "is running but", false);
        return ServiceAction::none;
      case ConfigChange::restart:
        restart(spec, *rec);
        return ServiceAction::restarted;
      case ConfigChange::reloadable:
        if (!spec.reload_argv.empty()) {
          run_reload_command(spec);
        } else if (spec.reload_signal != 0) {
          if (::kill(rec->pid, spec.reload_signal) != 0)
            throw Error("service " + spec.name + ": sending signal " +
                        std::to_string(spec.reload_signal) + " to pid " + std::to_string(rec->pid) +
                        ": " + errno_text(errno));
        } else {
          restart(spec, *rec);
          return ServiceAction::restarted;
        }
        wait_ready(spec, *rec, output_size(spec.name), "was reloaded but", false);
        return ServiceAction::reloaded;
    }
    return ServiceAction::none;
  }

  void stop(const std::vector<std::string>& names) override {
    for (auto& name : names) check_service_name(name);
    std::vector<std::optional<std::string>> errors(names.size());
    std::vector<std::thread> threads;
    threads.reserve(names.size());
    // In parallel: Dovecot and OpenDKIM take seconds to wait for their children.
    for (std::size_t i = 0; i < names.size(); ++i)
      threads.emplace_back([this, &names, &errors, i]() {
        try {
          errors[i] = stop_one(names[i]);
        } catch (const std::exception& e) {
          errors[i] = std::string(e.what());
        }
      });
    for (auto& t : threads) t.join();
    std::string all;
    for (auto& e : errors)
      if (e) all += (all.empty() ? "" : "; ") + *e;
    if (!all.empty()) throw Error(all);
  }

  ServiceAction planned_action(const ServiceSpec& spec, ConfigChange change) override {
    check_service_name(spec.name);
    auto rec = records_.load(spec.name);
    if (rec) reap(rec->pid);
    if (!rec || !record_process_alive(*rec)) return ServiceAction::would_start;
    if (rec->spec_digest != spec_digest(spec)) return ServiceAction::would_restart;
    return ServiceSupervisor::planned_action(spec, change);
  }

  void stop_all() override { stop(records_.names()); }

  ServiceStatus status(const std::string& name) override {
    check_service_name(name);
    ServiceStatus st;
    st.name = name;
    std::string why;
    auto rec = records_.load(name, &why);
    if (!rec) {
      std::lock_guard<std::mutex> lock(mu_);
      auto last = last_exit_.find(name);
      st.detail = last != last_exit_.end() ? last->second
                                           : (why.empty() ? "not running" : "not running: " + why);
      return st;
    }
    reap(rec->pid);
    st.pid = rec->pid;
    if (record_process_alive(*rec)) {
      st.running = true;
      auto up = std::time(nullptr) - rec->started_at;
      st.detail = "running (pid " + std::to_string(rec->pid) + ", up " + std::to_string(up) + " s)";
      return st;
    }
    std::string how = "pid " + std::to_string(rec->pid) + " is gone";
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = exit_status_.find(rec->pid);
      if (it != exit_status_.end()) how = exit_text(it->second);
    }
    std::string tail = output_tail(rec->output, 0, 1);
    st.detail = "not running: " + how + (tail.empty() ? "" : ": " + tail.substr(5));
    return st;
  }

  std::vector<ServiceStatus> status_all() override {
    std::vector<ServiceStatus> out;
    for (auto& name : records_.names()) out.push_back(status(name));
    return out;
  }

 private:
  fs::path output_path(const std::string& name) const { return log_dir_ / (name + ".out"); }
  std::uintmax_t output_size(const std::string& name) const {
    std::error_code ec;
    auto size = fs::file_size(output_path(name), ec);
    return ec ? 0 : size;
  }

  // Reaps `pid` if it is our child and has ended; remembers how it ended.
  std::optional<int> reap(pid_t pid) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    std::lock_guard<std::mutex> lock(mu_);
    if (r == pid) {
      exit_status_[pid] = status;
      return status;
    }
    auto it = exit_status_.find(pid);
    if (it != exit_status_.end()) return it->second;
    return std::nullopt;
  }

  void start(const ServiceSpec& spec) {
    for (auto& probe : spec.ready_when) {
      if (probe.kind == ReadinessProbe::Kind::unix_socket) {
        if (probe_accepts(probe, milliseconds(100)))
          throw Error("cannot start " + spec.name + ": " + probe.describe() +
                      " already accepts connections (another instance without a PID record?)");
        continue;
      }
      if (auto held = port_in_use(probe.host, probe.port))
        throw Error("cannot start " + spec.name + ": " + *held + owner_service(probe));
    }
    std::error_code ec;
    fs::create_directories(log_dir_, ec);
    if (ec) throw Error("creating " + log_dir_.string() + ": " + ec.message());
    fs::path out_path = output_path(spec.name);
    int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out_fd < 0) throw Error("opening " + out_path.string() + ": " + errno_text(errno));
    std::time_t now = std::time(nullptr);
    char when[32] = {};
    std::tm tm_now{};
    ::gmtime_r(&now, &tm_now);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm_now);
    std::string header =
        "--- firstboot: starting " + spec.name + " at " + when + ": " + join(spec.argv) + "\n";
    ssize_t ignored = ::write(out_fd, header.data(), header.size());
    (void)ignored;
    std::uintmax_t offset = output_size(spec.name);

    Spawned child;
    try {
      child = spawn(spec.argv, spec.env, out_fd, base_);
    } catch (const Error& e) {
      ::close(out_fd);
      throw Error("cannot start " + spec.name + ": " + e.what());
    }
    ::close(out_fd);
    start_hook("spawned");
    // The child waits at its gate: its PID and start time are final (exec keeps both), and the
    // record is on disk before the command runs.
    auto st = proc::read_stat(child.pid);
    PidRecord rec;
    rec.name = spec.name;
    rec.pid = child.pid;
    rec.pgid = child.pid;
    rec.start_time = st ? st->start_time : 0;
    rec.argv = spec.argv;
    rec.spec_digest = spec_digest(spec);
    rec.started_at = static_cast<std::int64_t>(now);
    rec.output = out_path.string();
    rec.stop_timeout_ms = spec.stop_timeout.count();
    try {
      if (!st)
        throw Error("cannot start " + spec.name + ": /proc/" + std::to_string(child.pid) +
                    "/stat cannot be read");
      records_.save(rec);
    } catch (...) {
      abandon(child);
      throw;
    }
    start_hook("recorded");
    try {
      release(child);
    } catch (const Error& e) {
      records_.remove(spec.name);
      throw Error("cannot start " + spec.name + ": " + e.what());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_exit_.erase(spec.name);
    }
    wait_ready(spec, rec, offset, "started but", true);
  }

  // ", started as service 'x' of this sandbox" when the holder of a port is one of ours.
  std::string owner_service(const ReadinessProbe& probe) {
    auto holders = port_holders(probe.host, probe.port);
    for (auto& name : records_.names()) {
      auto rec = records_.load(name);
      if (!rec || !record_process_alive(*rec)) continue;
      for (pid_t pid : holders) {
        auto st = proc::read_stat(pid);
        if (st && (st->session == rec->pgid || st->pgrp == rec->pgid))
          return " (service '" + name + "' of this sandbox: two services on one port?)";
      }
    }
    return {};
  }

  void restart(const ServiceSpec& spec, const PidRecord& rec) {
    if (auto err = stop_record(rec, spec.stop_timeout))
      throw Error("restarting " + spec.name + ": " + *err);
    start(spec);
  }

  // Waits until every probe accepts (without probes: until a fresh start survived a moment).
  // When the process ends, stops what is left of it and throws with its last output; when the
  // time is up, does the same for a process it just started and only throws for an older one.
  void wait_ready(const ServiceSpec& spec, const PidRecord& rec, std::uintmax_t offset,
                  const std::string& context, bool started_now) {
    auto begin = Clock::now();
    auto deadline = begin + spec.start_timeout;
    auto settled = begin + (started_now && spec.ready_when.empty()
                                ? std::min<Clock::duration>(kSettle, spec.start_timeout)
                                : Clock::duration::zero());
    std::string why;
    for (;;) {
      if (auto status = reap(rec.pid); status || !record_process_alive(rec)) {
        std::string how =
            status ? exit_text(*status) : "pid " + std::to_string(rec.pid) + " is gone";
        stop_record(rec, spec.stop_timeout);
        std::string msg = "service " + spec.name + " " + context + " " + how + " after " +
                          fmt_seconds(Clock::now() - begin);
        if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          msg += " (the process backend needs a command that stays in the foreground)";
        remember_exit(spec.name, msg);
        throw Error(msg + last_output(rec, offset));
      }
      bool all = true;
      for (auto& probe : spec.ready_when) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        auto bound = std::clamp(left, milliseconds(1), milliseconds(250));
        std::string probe_why;
        if (!probe_accepts(probe, bound, &probe_why)) {
          why = probe.describe() + ": " + probe_why;
          all = false;
          break;
        }
      }
      if (all && Clock::now() >= settled) return;
      if (!all && Clock::now() >= deadline) {
        std::string msg = "service " + spec.name + " " + context + " did not become ready within " +
                          fmt_seconds(spec.start_timeout) + " (" + why + ")";
        if (!started_now) {
          throw Error(msg + "; it is still running as pid " + std::to_string(rec.pid) +
                      last_output(rec, offset));
        }
        stop_record(rec, spec.stop_timeout);
        msg += "; it was stopped";
        remember_exit(spec.name, msg);
        throw Error(msg + last_output(rec, offset));
      }
      std::this_thread::sleep_for(kPoll);
    }
  }

  static std::string fmt_seconds(Clock::duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", seconds(d));
    return buf;
  }

  std::string last_output(const PidRecord& rec, std::uintmax_t offset) const {
    std::string tail = output_tail(rec.output, offset);
    if (tail.empty()) return "; it wrote nothing to " + rec.output;
    return "; last output (" + rec.output + "):" + tail;
  }

  void remember_exit(const std::string& name, const std::string& msg) {
    std::lock_guard<std::mutex> lock(mu_);
    last_exit_[name] = "not running: " + msg;
  }

  void run_reload_command(const ServiceSpec& spec) {
    std::error_code ec;
    fs::create_directories(log_dir_, ec);
    fs::path out_path = output_path(spec.name);
    int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out_fd < 0) throw Error("opening " + out_path.string() + ": " + errno_text(errno));
    std::string header =
        "--- firstboot: reloading " + spec.name + ": " + join(spec.reload_argv) + "\n";
    ssize_t ignored = ::write(out_fd, header.data(), header.size());
    (void)ignored;
    std::uintmax_t offset = output_size(spec.name);
    Spawned child;
    try {
      child = spawn_now(spec.reload_argv, spec.env, out_fd, base_);
    } catch (const Error& e) {
      ::close(out_fd);
      throw Error("reloading " + spec.name + ": " + e.what());
    }
    ::close(out_fd);
    auto deadline = Clock::now() + spec.start_timeout;
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(child.pid, &status, WNOHANG);
      if (r == child.pid) break;
      if (r < 0 && errno != EINTR)
        throw Error("reloading " + spec.name + ": waitpid: " + errno_text(errno));
      if (Clock::now() >= deadline) {
        ::kill(-child.pid, SIGKILL);
        ::waitpid(child.pid, &status, 0);
        throw Error("reloading " + spec.name + ": '" + join(spec.reload_argv) +
                    "' did not finish within " + fmt_seconds(spec.start_timeout) +
                    "; it was killed" + tail_text(out_path, offset));
      }
      std::this_thread::sleep_for(kPoll);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw Error("reloading " + spec.name + ": '" + join(spec.reload_argv) + "' " +
                  exit_text(status) + tail_text(out_path, offset));
  }

  static std::string tail_text(const fs::path& out, std::uintmax_t offset) {
    std::string tail = output_tail(out, offset);
    return tail.empty() ? "" : "; its output (" + out.string() + "):" + tail;
  }

  // Stops one recorded service: TERM to its process group (and session), KILL after `timeout`,
  // waits until no member is left. Returns the error, if any. Removes the record when done.
  std::optional<std::string> stop_record(const PidRecord& rec, milliseconds timeout) {
    auto st = proc::read_stat(rec.pid);
    if (st && st->start_time != rec.start_time) {
      // The PID now belongs to another process: ours ended long ago, and the kernel does not
      // reuse a PID while it still names a process group, so nothing of ours is left.
      records_.remove(rec.name);
      return std::nullopt;
    }
    auto signal_all = [&](int sig) {
      ::kill(-rec.pgid, sig);
      for (pid_t m : proc::live_members(rec.pgid)) ::kill(m, sig);
    };
    auto gone = [&]() {
      reap(rec.pid);
      return proc::live_members(rec.pgid).empty() && !record_process_alive(rec);
    };
    if (!gone()) {
      signal_all(SIGTERM);
      auto deadline = Clock::now() + timeout;
      while (!gone() && Clock::now() < deadline) std::this_thread::sleep_for(kPoll);
      if (!gone()) {
        signal_all(SIGKILL);
        auto kill_deadline = Clock::now() + kKillGrace;
        while (!gone() && Clock::now() < kill_deadline) {
          signal_all(SIGKILL);
          std::this_thread::sleep_for(kPoll);
        }
        if (!gone())
          return "could not stop " + rec.name + ": processes of group " + std::to_string(rec.pgid) +
                 " survived SIGKILL";
      }
    }
    reap(rec.pid);
    records_.remove(rec.name);
    return std::nullopt;
  }

  std::optional<std::string> stop_one(const std::string& name) {
    auto rec = records_.load(name);
    if (!rec) {
      records_.remove(name);  // corrupt or absent: nothing can be stopped by it
      return std::nullopt;
    }
    RecordLock lock(records_, name, milliseconds(rec->stop_timeout_ms) + kLockSlack);
    rec = records_.load(name);  // it may have changed while we waited
    if (!rec) return std::nullopt;
    return stop_record(*rec, milliseconds(rec->stop_timeout_ms));
  }

  fs::path base_;
  fs::path log_dir_;
  PidRecords records_;
  std::mutex mu_;
  std::map<pid_t, int> exit_status_;              // our children that ended, by PID
  std::map<std::string, std::string> last_exit_;  // why a service we started is not running
};

}  // namespace

std::unique_ptr<ServiceSupervisor> make_process_supervisor(const Layout& layout) {
  return std::make_unique<ProcessSupervisor>(layout);
}

}  // namespace firstboot
