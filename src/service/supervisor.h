// Starting, restarting and stopping services. One interface, three backends:
//  - ProcessSupervisor (sandbox): daemons run in the foreground as child processes in their own
//    session, output captured to log/<name>.out, PIDs recorded under run/firstboot/services so
//    `firstboot stop --sandbox DIR` works from another process;
//  - SystemdSupervisor (real system): units started/restarted/reloaded over sd-bus;
//  - OfflineSupervisor (--root image trees): enables units by creating their wants symlinks in the
//    image tree, starts nothing.
// See docs/services.md.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace firstboot {

class Layout;

struct ReadinessProbe {
  enum class Kind { tcp, unix_socket };
  Kind kind = Kind::tcp;
  std::string host = "127.0.0.1";
  int port = 0;
  std::filesystem::path socket_path;

  static ReadinessProbe tcp(std::string host, int port) {
    return {Kind::tcp, std::move(host), port, {}};
  }
  static ReadinessProbe unix_socket(std::filesystem::path path) {
    return {Kind::unix_socket, {}, 0, std::move(path)};
  }
  std::string describe() const;
};

struct ServiceSpec {
  std::string name;               // unique: "postfix", "dovecot", "opendkim-ed25519"
  std::string systemd_unit;       // "postfix.service"; may be an instance "opendkim@ed25519"
  std::vector<std::string> argv;  // foreground command line for the process backend
  std::map<std::string, std::string> env;  // extra environment for the process backend
  std::vector<ReadinessProbe> ready_when;  // all must accept connections
  // How to apply a config change without a restart. Empty and no signal: restart.
  std::vector<std::string> reload_argv;
  int reload_signal = 0;  // e.g. SIGHUP, sent to the main PID
  std::chrono::milliseconds start_timeout{15000};
  std::chrono::milliseconds stop_timeout{10000};  // then SIGKILL
};

enum class ConfigChange {
  none,        // leave a running service alone
  reloadable,  // reload when the spec says how, else restart
  restart,     // restart
};

enum class ServiceAction {
  none,
  started,
  restarted,
  reloaded,
  would_start,
  would_restart,
  would_reload,
  enabled,       // offline: the unit's wants symlink was created in the image tree
  would_enable,  // plan of an offline run
};
const char* to_string(ServiceAction action);

struct ServiceStatus {
  std::string name;
  bool running = false;
  int pid = 0;
  std::string detail;  // failure reason or state ("exited with status 1: <last log line>")
};

class ServiceSupervisor {
 public:
  virtual ~ServiceSupervisor() = default;

  // Brings the service to running with its current configuration: starts it when stopped; when
  // running, restarts or reloads it according to change; waits (bounded) until every readiness
  // probe accepts. Throws Error with the reason (and the service's last output) on failure.
  virtual ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) = 0;

  // Stops the named services in parallel (TERM, then KILL after their stop timeout) and reaps them.
  virtual void stop(const std::vector<std::string>& names) = 0;
  // Stops every service this supervisor has recorded.
  virtual void stop_all() = 0;

  virtual ServiceStatus status(const std::string& name) = 0;
  virtual std::vector<ServiceStatus> status_all() = 0;

  // What ensure_running(spec, change) would do, without doing it (used by `plan`). The default
  // answers from status(): stopped -> would_start; running -> none, would_reload or would_restart.
  virtual ServiceAction planned_action(const ServiceSpec& spec, ConfigChange change);
};

// Before starting anything: is the TCP port free on this host? When not, who holds it (best
// effort, from /proc): "port 2525 on 127.0.0.1 is in use by pid 123 (master)".
std::optional<std::string> port_in_use(const std::string& host, int port);

std::unique_ptr<ServiceSupervisor> make_process_supervisor(const Layout& layout);
std::unique_ptr<ServiceSupervisor> make_systemd_supervisor();
std::unique_ptr<ServiceSupervisor> make_offline_supervisor(const Layout& layout);
// Wraps a supervisor for `plan`: answers status from the real one, records would_* actions only.
std::unique_ptr<ServiceSupervisor> make_planning_supervisor(ServiceSupervisor& real);

}  // namespace firstboot
