#include "report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace firstboot::cli {

namespace {

const char* paint(ModuleState state, bool color) {
  if (!color) return "";
  switch (state) {
    case ModuleState::done:
      return "\033[32m";
    case ModuleState::failed:
      return "\033[31m";
    case ModuleState::skipped:
    case ModuleState::in_progress:
      return "\033[33m";
    default:
      return "";
  }
}

const char* paint(CheckStatus status, bool color) {
  if (!color) return "";
  switch (status) {
    case CheckStatus::pass:
      return "\033[32m";
    case CheckStatus::fail:
      return "\033[31m";
    default:
      return "\033[33m";
  }
}

}  // namespace

std::string format_run_summary(const RunReport& report) {
  std::string out = "\n";
  for (auto& m : report.modules) {
    std::string what;
    if (m.state == ModuleState::done)
      what = m.changed ? fmt::format("{} file(s) changed, {} service action(s)",
                                     std::count_if(
                                         m.files.begin(), m.files.end(),
                                         [](auto& f) { return f.change != FileChange::unchanged; }),
                                     m.services.size())
                       : "unchanged";
    else
      what = m.error;
    out += fmt::format("  {:<12} {:<8} {:>7.0f} ms  {}\n", m.name, to_string(m.state), m.ms, what);
  }
  out += fmt::format("  {:<12} {:<8} {:>7.0f} ms\n", "total", report.ok() ? "ok" : "FAILED",
                     report.ms);
  return out;
}

std::string format_plan(const RunReport& report) {
  std::string out;
  for (auto& m : report.modules) {
    std::size_t changes = std::count_if(m.files.begin(), m.files.end(),
                                        [](auto& f) { return f.change != FileChange::unchanged; });
    out += fmt::format("{} (order {}): ", m.name, m.order);
    if (m.state == ModuleState::failed || m.state == ModuleState::skipped) {
      out += fmt::format("cannot plan: {}\n", m.error);
      continue;
    }
    if (changes == 0 && m.services.empty()) {
      out += "no changes\n";
      continue;
    }
    out += fmt::format("{} file change(s), {} service action(s)\n", changes, m.services.size());
    for (auto& f : m.files) {
      if (f.change == FileChange::unchanged) continue;
      out += fmt::format("  {} {}{}\n", to_string(f.change), f.path.string(),
                         f.secret ? " (secret, content not shown)" : "");
      out += f.diff;
    }
    for (auto& s : m.services) out += fmt::format("  service {}\n", s);
  }
  return out;
}

std::string format_status(const Journal& journal, bool color) {
  const char* reset = color ? "\033[0m" : "";
  std::string out;
  if (journal.modules().empty())
    return "No run recorded yet (no journal at " + journal.file().string() + ").\n";
  std::vector<std::pair<std::string, ModuleRecord>> mods(journal.modules().begin(),
                                                         journal.modules().end());
  // Failures first, so the screen answers "what is wrong" before "what is fine".
  std::stable_sort(mods.begin(), mods.end(), [](auto& a, auto& b) {
    return (a.second.state == ModuleState::done) < (b.second.state == ModuleState::done);
  });
  for (auto& [name, rec] : mods) {
    out += fmt::format("{}{:<12} {:<11}{} {:>7.0f} ms  {}{}\n", paint(rec.state, color), name,
                       to_string(rec.state), reset, rec.duration_ms, rec.finished_at,
                       rec.error.empty() ? "" : "  " + rec.error);
    std::vector<CheckResult> checks = rec.checks;
    std::stable_sort(checks.begin(), checks.end(), [](auto& a, auto& b) {
      return report_rank(a.status) < report_rank(b.status);
    });
    for (auto& c : checks) {
      out += fmt::format("    {}{:<7}{} {:<44} {}\n", paint(c.status, color), to_string(c.status),
                         reset, c.id, c.detail);
      if (c.status != CheckStatus::pass && !c.hint.empty())
        out += fmt::format("            hint: {}\n", c.hint);
    }
  }
  out += status_exit_code(journal) == 0 ? "READY: every module done, every required check passed\n"
                                        : "NOT READY: see the failures above\n";
  return out;
}

nlohmann::json status_json(const Journal& journal) {
  nlohmann::json mods = nlohmann::json::array();
  for (auto& [name, rec] : journal.modules()) {
    nlohmann::json checks = nlohmann::json::array();
    for (auto& c : rec.checks)
      checks.push_back({{"id", c.id},
                        {"module", c.module},
                        {"severity", to_string(c.severity)},
                        {"status", to_string(c.status)},
                        {"detail", c.detail},
                        {"hint", c.hint}});
    mods.push_back({{"name", name},
                    {"state", to_string(rec.state)},
                    {"started_at", rec.started_at},
                    {"finished_at", rec.finished_at},
                    {"duration_ms", rec.duration_ms},
                    {"error", rec.error},
                    {"checks", checks}});
  }
  return {{"ready", status_exit_code(journal) == 0}, {"modules", mods}};
}

std::string format_analyze(const Journal& journal) {
  std::vector<std::pair<std::string, ModuleRecord>> mods(journal.modules().begin(),
                                                         journal.modules().end());
  std::sort(mods.begin(), mods.end(),
            [](auto& a, auto& b) { return a.second.started_at < b.second.started_at; });
  double total = 0;
  std::string out;
  for (auto& [name, rec] : mods) {
    total += rec.duration_ms;
    out += fmt::format("{:>9.1f} ms  {} ({})\n", rec.duration_ms, name, to_string(rec.state));
    auto steps = rec.steps;
    std::sort(steps.begin(), steps.end(), [](auto& a, auto& b) { return a.ms > b.ms; });
    for (auto& s : steps) out += fmt::format("  {:>9.1f} ms  {}\n", s.ms, s.name);
  }
  out += fmt::format("{:>9.1f} ms  total of the last recorded run of each module\n", total);
  return out;
}

int status_exit_code(const Journal& journal) {
  if (journal.modules().empty()) return 1;
  for (auto& [name, rec] : journal.modules()) {
    if (rec.state != ModuleState::done) return 1;
    if (!all_required_pass(rec.checks)) return 1;
  }
  return 0;
}

}  // namespace firstboot::cli
