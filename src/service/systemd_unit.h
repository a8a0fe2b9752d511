// systemd unit names and unit state as text. Internal to src/service; no bus needed, so tested
// without systemd.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "service/supervisor.h"

namespace firstboot::systemd {

// The spec's unit with its type suffix: "postfix" -> "postfix.service",
// "opendkim@ed25519" -> "opendkim@ed25519.service"; empty -> "<name>.service". Throws Error for
// names systemd would refuse (or that could leave the unit directory).
std::string unit_name(const ServiceSpec& spec);
std::string normalize_unit(const std::string& unit);
// "opendkim@ed25519.service" -> "opendkim@.service"; a non-instance unit is its own file.
std::string unit_file_of(const std::string& unit);

// The [Install] section of a unit file, what `systemctl enable` acts on. Values are split on
// white space; an empty assignment resets the list, as systemd does.
struct InstallSection {
  std::vector<std::string> wanted_by;
  std::vector<std::string> required_by;
  std::vector<std::string> alias;
  std::vector<std::string> also;
  bool empty() const {
    return wanted_by.empty() && required_by.empty() && alias.empty() && also.empty();
  }
};
InstallSection parse_install_section(const std::string& unit_file_text);

// The target a unit type is enabled into when its unit file cannot be read: multi-user.target for
// services (and the rest), timers.target for timers, sockets.target for sockets, paths.target
// for paths.
std::string default_install_target(const std::string& unit);

// The properties read after a job (string values; numbers as decimal text).
struct UnitState {
  std::string unit;
  std::string load_state;    // loaded, not-found, masked, ...
  std::string active_state;  // active, reloading, inactive, failed, activating, deactivating
  std::string sub_state;     // running, exited, dead, failed, auto-restart, ...
  std::string result;        // success, exit-code, signal, timeout, core-dump, start-limit-hit, ...
  int exec_main_code = 0;    // CLD_EXITED (1), CLD_KILLED (2), CLD_DUMPED (3)
  int exec_main_status = 0;  // exit status or signal number
  unsigned main_pid = 0;
  std::string unit_file_state;      // enabled, disabled, static, ...
  bool need_daemon_reload = false;  // its unit file or a drop-in changed since systemd read it
};

bool is_running(const UnitState& state);
// "active (running)" / "failed (Result: exit-code, main process exited with status 1)".
std::string describe(const UnitState& state);
// The error for a unit that did not reach active: what, state, why, and the last journal lines.
std::string failure_message(const std::string& action, const UnitState& state,
                            const std::string& job_result,
                            const std::vector<std::string>& journal_lines);

}  // namespace firstboot::systemd
