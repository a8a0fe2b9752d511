#include "service/supervisor.h"

namespace firstboot {

const char* to_string(ServiceAction action) {
  switch (action) {
    case ServiceAction::none:
      return "none";
    case ServiceAction::started:
      return "started";
    case ServiceAction::restarted:
      return "restarted";
    case ServiceAction::reloaded:
      return "reloaded";
    case ServiceAction::would_start:
      return "would start";
    case ServiceAction::would_restart:
      return "would restart";
    case ServiceAction::would_reload:
      return "would reload";
    case ServiceAction::enabled:
      return "enabled";
    case ServiceAction::would_enable:
      return "would enable";
  }
  return "unknown";
}

std::string ReadinessProbe::describe() const {
  switch (kind) {
    case Kind::tcp:
      if (host.find(':') != std::string::npos) return "tcp [" + host + "]:" + std::to_string(port);
      return "tcp " + host + ":" + std::to_string(port);
    case Kind::unix_socket:
      return "unix socket " + socket_path.string();
  }
  return "unknown probe";
}

ServiceAction ServiceSupervisor::planned_action(const ServiceSpec& spec, ConfigChange change) {
  ServiceStatus st = status(spec.name);
  if (!st.running) return ServiceAction::would_start;
  switch (change) {
    case ConfigChange::none:
      return ServiceAction::none;
    case ConfigChange::reloadable:
      return (!spec.reload_argv.empty() || spec.reload_signal != 0) ? ServiceAction::would_reload
                                                                    : ServiceAction::would_restart;
    case ConfigChange::restart:
      return ServiceAction::would_restart;
  }
  return ServiceAction::would_restart;
}

}  // namespace firstboot
