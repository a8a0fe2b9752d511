#include "service/systemd_unit.h"

#include <signal.h>
#include <string.h>

#include <cctype>

#include "engine/error.h"

namespace firstboot::systemd {

namespace {

const char* const kSuffixes[] = {".service", ".socket", ".timer", ".target", ".path", ".mount"};

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string normalize_unit(const std::string& unit) {
  bool typed = false;
  for (const char* suffix : kSuffixes)
    if (has_suffix(unit, suffix)) typed = true;
  std::string out = typed ? unit : unit + ".service";
  bool ok = !unit.empty() && out.size() <= 255 && out.front() != '.' && out.front() != '-';
  std::size_t ats = 0;
  for (char c : out) {
    if (c == '@') ++ats;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_' ||
          c == '.' || c == '@' || c == '\\'))
      ok = false;
  }
  if (!ok || ats > 1 || out.find("..") != std::string::npos || out.front() == '@')
    throw Error("invalid systemd unit name '" + unit + "'");
  return out;
}

std::string unit_name(const ServiceSpec& spec) {
  return normalize_unit(spec.systemd_unit.empty() ? spec.name : spec.systemd_unit);
}

std::string unit_file_of(const std::string& unit) {
  auto at = unit.find('@');
  if (at == std::string::npos) return unit;
  auto dot = unit.rfind('.');
  if (dot == std::string::npos || dot < at) return unit;
  return unit.substr(0, at + 1) + unit.substr(dot);
}

InstallSection parse_install_section(const std::string& text) {
  InstallSection out;
  bool in_install = false;
  std::size_t start = 0;
  std::string pending;  // a line continued with a backslash
  for (std::size_t lines = 0; start < text.size() && lines < 100000; ++lines) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = pending + text.substr(start, nl - start);
    start = nl + 1;
    pending.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      pending = line + " ";
      continue;
    }
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    line = line.substr(first);
    if (line[0] == '[') {
      in_install = line.rfind("[Install]", 0) == 0;
      continue;
    }
    if (!in_install) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::vector<std::string>* list = key == "WantedBy"     ? &out.wanted_by
                                     : key == "RequiredBy" ? &out.required_by
                                     : key == "Alias"      ? &out.alias
                                     : key == "Also"       ? &out.also
                                                           : nullptr;
    if (!list) continue;
    std::string value = line.substr(eq + 1);
    if (value.find_first_not_of(" \t") == std::string::npos) {
      list->clear();
      continue;
    }
    std::size_t pos = 0;
    while (pos < value.size()) {
      std::size_t b = value.find_first_not_of(" \t", pos);
      if (b == std::string::npos) break;
      std::size_t e = value.find_first_of(" \t", b);
      if (e == std::string::npos) e = value.size();
      list->push_back(value.substr(b, e - b));
      pos = e;
    }
  }
  return out;
}

std::string default_install_target(const std::string& unit) {
  if (has_suffix(unit, ".timer")) return "timers.target";
  if (has_suffix(unit, ".socket")) return "sockets.target";
  if (has_suffix(unit, ".path")) return "paths.target";
  return "multi-user.target";
}

bool is_running(const UnitState& s) {
  return s.active_state == "active" || s.active_state == "reloading";
}

std::string describe(const UnitState& s) {
  std::string out = s.active_state.empty() ? "unknown" : s.active_state;
  if (!s.sub_state.empty()) out += " (" + s.sub_state + ")";
  if (s.load_state == "not-found") return "unit " + s.unit + " not found";
  if (s.load_state == "masked") return "unit " + s.unit + " is masked";
  if (is_running(s)) {
    if (s.main_pid != 0) out += ", main pid " + std::to_string(s.main_pid);
    return out;
  }
  std::string why;
  if (!s.result.empty() && s.result != "success") why = "Result: " + s.result;
  if (s.exec_main_code == CLD_EXITED && s.exec_main_status != 0)
    why += std::string(why.empty() ? "" : ", ") + "main process exited with status " +
           std::to_string(s.exec_main_status);
  else if (s.exec_main_code == CLD_KILLED || s.exec_main_code == CLD_DUMPED) {
    const char* abbrev = sigabbrev_np(s.exec_main_status);
    why += std::string(why.empty() ? "" : ", ") + "main process killed by signal " +
           std::to_string(s.exec_main_status) +
           (abbrev ? std::string(" (SIG") + abbrev + ")" : "") +
           (s.exec_main_code == CLD_DUMPED ? ", core dumped" : "");
  }
  if (!why.empty()) out += ": " + why;
  return out;
}

std::string failure_message(const std::string& action, const UnitState& state,
                            const std::string& job_result,
                            const std::vector<std::string>& journal_lines) {
  std::string msg = action + " " + state.unit + " failed";
  if (!job_result.empty() && job_result != "done") msg += " (job " + job_result + ")";
  msg += ": unit is " + describe(state);
  if (journal_lines.empty()) {
    msg += "; no journal lines for the unit";
  } else {
    msg += "; last journal lines:";
    for (auto& line : journal_lines) msg += "\n  | " + line;
  }
  msg += "\n(see: systemctl status " + state.unit + ", journalctl -u " + state.unit + ")";
  return msg;
}

}  // namespace firstboot::systemd
