#include "status_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace firstboot::cli {

namespace {

int rank(CheckStatus s) {
  switch (s) {
    case CheckStatus::fail:
      return 0;
    case CheckStatus::warn:
      return 1;
    case CheckStatus::skipped:
      return 2;
    case CheckStatus::pass:
      return 3;
  }
  return 4;
}

// 0: a required problem or not done; 1: warnings; 2: fine.
int module_rank(const StatusModule& m) {
  if (!m.state.empty() && m.state != "done") return 0;
  int best = 2;
  for (auto& c : m.checks) {
    if (c.check.status == CheckStatus::fail) return 0;
    if (c.check.status == CheckStatus::warn) best = 1;
  }
  return best;
}

const char* color_of(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass:
      return "\033[32m";
    case CheckStatus::fail:
      return "\033[1;31m";
    default:
      return "\033[33m";
  }
}

const char* label(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass:
      return "pass";
    case CheckStatus::warn:
      return "WARN";
    case CheckStatus::fail:
      return "FAIL";
    case CheckStatus::skipped:
      return "skip";
  }
  return "?";
}

}  // namespace

StatusReport build_status_report(const Journal& journal, const std::optional<MonitorConfig>& config,
                                 const LiveChecks* live, bool expect_live) {
  StatusReport r;
  r.checked_at = now_iso8601();
  if (config) {
    r.hostname = config->hostname;
    r.mode = config->mode;
  }
  std::map<std::string, StatusModule> modules;
  std::vector<std::string> order;  // modules in the order they ran
  {
    std::vector<std::pair<std::string, ModuleRecord>> recs(journal.modules().begin(),
                                                           journal.modules().end());
    std::stable_sort(recs.begin(), recs.end(),
                     [](auto& a, auto& b) { return a.second.started_at < b.second.started_at; });
    for (auto& [name, rec] : recs) {
      StatusModule m;
      m.name = name;
      m.state = to_string(rec.state);
      m.started_at = rec.started_at;
      m.finished_at = rec.finished_at;
      m.error = rec.error;
      m.duration_ms = rec.duration_ms;
      modules[name] = m;
      order.push_back(name);
      if (rec.state != ModuleState::done)
        r.reasons.push_back("module " + name + " is " + to_string(rec.state) +
                            (rec.error.empty() ? "" : ": " + rec.error));
    }
  }
  if (journal.modules().empty()) r.reasons.push_back("no run recorded yet");

  // Recorded checks, then live ones replacing them by id. The monitoring module's recorded set
  // is the live set of its last run: with live results at hand it is dropped entirely.
  std::vector<StatusCheck> checks;
  std::map<std::string, std::size_t> index;
  auto put = [&](const CheckResult& c, bool is_live) {
    auto it = index.find(c.id);
    if (it != index.end()) {
      checks[it->second] = {c, is_live};
      return;
    }
    index[c.id] = checks.size();
    checks.push_back({c, is_live});
  };
  for (auto& [name, rec] : journal.modules()) {
    if (live && name == "monitoring") continue;
    for (auto c : rec.checks) {
      if (c.module.empty()) c.module = name;
      put(c, false);
    }
  }
  if (live) {
    r.live = true;
    r.live_ms = live->ms;
    for (auto& c : live->results) put(c, true);
  } else if (expect_live) {
    r.reasons.push_back(
        "the live checks cannot run: the monitoring module has not written its configuration yet");
  }
  for (auto& sc : checks) {
    const std::string& m = sc.check.module;
    if (!modules.count(m)) {
      modules[m] = StatusModule{m, "", "", "", "", 0, {}};
      order.push_back(m);
    }
    modules[m].checks.push_back(sc);
    if (sc.check.severity == CheckSeverity::required && sc.check.status == CheckStatus::fail)
      r.reasons.push_back("check " + sc.check.id + " failed: " + sc.check.detail);
  }
  for (auto& name : order) {
    StatusModule m = modules[name];
    std::stable_sort(m.checks.begin(), m.checks.end(),
                     [](auto& a, auto& b) { return rank(a.check.status) < rank(b.check.status); });
    r.modules.push_back(std::move(m));
  }
  std::stable_sort(r.modules.begin(), r.modules.end(),
                   [](auto& a, auto& b) { return module_rank(a) < module_rank(b); });
  r.ready = r.reasons.empty();
  return r;
}

std::string format_status_report(const StatusReport& r, bool color) {
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  std::string out;
  if (!r.hostname.empty())
    out += fmt::format("{}{}{} ({} mode), checked {}{}\n\n", bold, r.hostname, reset, r.mode,
                       r.checked_at, r.live ? fmt::format(" in {:.2f} s", r.live_ms / 1000.0) : "");
  std::size_t width = 30;
  for (auto& m : r.modules)
    for (auto& c : m.checks) width = std::max(width, std::min<std::size_t>(c.check.id.size(), 48));
  for (auto& m : r.modules) {
    std::string state = m.state.empty() ? "checks" : m.state;
    const char* paint = !color                ? ""
                        : module_rank(m) == 0 ? "\033[1;31m"
                        : module_rank(m) == 1 ? "\033[33m"
                                              : "\033[32m";
    out += fmt::format("{}{:<12}{} {}{:<11}{}", bold, m.name, reset, paint, state, reset);
    if (!m.state.empty()) out += fmt::format(" {:>7.0f} ms  {}", m.duration_ms, m.finished_at);
    if (!m.error.empty()) out += "  " + m.error;
    out += "\n";
    for (auto& sc : m.checks) {
      const CheckResult& c = sc.check;
      out += fmt::format("  {}{}{}  {:<{}}  {}{}\n", color ? color_of(c.status) : "",
                         label(c.status), reset, c.id, width, c.detail,
                         c.severity == CheckSeverity::warning && c.status != CheckStatus::pass
                             ? " (warning only)"
                             : "");
      if ((c.status == CheckStatus::fail || c.status == CheckStatus::warn) && !c.hint.empty())
        out += fmt::format("        hint: {}\n", c.hint);
    }
  }
  if (r.modules.empty()) out += "No run recorded yet.\n";
  out += "\n";
  if (r.ready) {
    out += fmt::format("{}READY{}: every module done, every required check passed\n",
                       color ? "\033[1;32m" : "", reset);
  } else {
    out += fmt::format("{}NOT READY{}: {}\n", color ? "\033[1;31m" : "", reset, r.reasons.front());
    if (r.reasons.size() > 1)
      out += fmt::format("           and {} more problem(s) above\n", r.reasons.size() - 1);
  }
  return out;
}

nlohmann::json status_report_json(const StatusReport& r) {
  using nlohmann::json;
  json modules = json::array();
  std::map<std::string, int> summary = {{"pass", 0}, {"warn", 0}, {"fail", 0}, {"skipped", 0}};
  for (auto& m : r.modules) {
    json checks = json::array();
    for (auto& sc : m.checks) {
      const CheckResult& c = sc.check;
      ++summary[to_string(c.status)];
      checks.push_back({{"id", c.id},
                        {"module", c.module},
                        {"severity", to_string(c.severity)},
                        {"status", to_string(c.status)},
                        {"detail", c.detail},
                        {"hint", c.hint},
                        {"duration_ms", c.duration_ms},
                        {"source", sc.live ? "live" : "recorded"}});
    }
    modules.push_back({{"name", m.name},
                       {"state", m.state.empty() ? "checks-only" : m.state},
                       {"started_at", m.started_at},
                       {"finished_at", m.finished_at},
                       {"duration_ms", m.duration_ms},
                       {"error", m.error},
                       {"checks", checks}});
  }
  return {{"schema_version", 1},
          {"ready", r.ready},
          {"hostname", r.hostname.empty() ? json(nullptr) : json(r.hostname)},
          {"mode", r.mode.empty() ? json(nullptr) : json(r.mode)},
          {"checked_at", r.checked_at},
          {"live", r.live},
          {"duration_ms", r.live_ms},
          {"reasons", r.reasons},
          {"summary", summary},
          {"modules", modules}};
}

}  // namespace firstboot::cli
