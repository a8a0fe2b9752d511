#include "engine/journal.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"
#include "engine/file_writer.h"

namespace firstboot {

using nlohmann::json;

const char* to_string(ModuleState state) {
  switch (state) {
    case ModuleState::pending:
      return "pending";
    case ModuleState::in_progress:
      return "in_progress";
    case ModuleState::done:
      return "done";
    case ModuleState::failed:
      return "failed";
    case ModuleState::skipped:
      return "skipped";
  }
  return "?";
}

ModuleState module_state_from_string(const std::string& text) {
  if (text == "in_progress") return ModuleState::in_progress;
  if (text == "done") return ModuleState::done;
  if (text == "failed") return ModuleState::failed;
  if (text == "skipped") return ModuleState::skipped;
  return ModuleState::pending;
}

std::string now_iso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

namespace {

json check_to_json(const CheckResult& c) {
  return {{"id", c.id},
          {"module", c.module},
          {"severity", to_string(c.severity)},
          {"status", to_string(c.status)},
          {"detail", c.detail},
          {"hint", c.hint},
          {"duration_ms", c.duration_ms}};
}

CheckResult check_from_json(const json& j) {
  CheckResult c;
  c.id = j.value("id", "");
  c.module = j.value("module", "");
  c.severity = j.value("severity", "required") == "warning" ? CheckSeverity::warning
                                                            : CheckSeverity::required;
  c.status = check_status_from_string(j.value("status", "fail"));
  c.detail = j.value("detail", "");
  c.hint = j.value("hint", "");
  c.duration_ms = j.value("duration_ms", 0.0);
  return c;
}

}  // namespace

Journal::Journal(std::filesystem::path file) : file_(std::move(file)) {}

bool Journal::exists() const { return std::filesystem::exists(file_); }

void Journal::load() {
  modules_.clear();
  if (!exists()) return;
  json doc;
  try {
    doc = json::parse(read_file(file_));
  } catch (const json::exception& e) {
    throw Error("reading the state journal " + file_.string() + ": " + e.what() +
                " (move it aside to start over)");
  }
  last_run_started_at = doc.value("last_run_started_at", "");
  profile_file = doc.value("profile_file", "");
  static const json kEmpty = json::array();
  auto list = [](const json& obj, const char* key) -> const json& {
    auto it = obj.find(key);
    return it != obj.end() && it->is_array() ? *it : kEmpty;
  };
  auto mods_it = doc.find("modules");
  if (mods_it == doc.end() || !mods_it->is_object()) return;
  for (auto& [name, m] : mods_it->items()) {
    ModuleRecord r;
    r.state = module_state_from_string(m.value("state", "pending"));
    r.profile_digest = m.value("profile_digest", "");
    r.engine_version = m.value("engine_version", "");
    r.started_at = m.value("started_at", "");
    r.finished_at = m.value("finished_at", "");
    r.duration_ms = m.value("duration_ms", 0.0);
    for (auto& s : list(m, "steps")) r.steps.push_back({s.value("name", ""), s.value("ms", 0.0)});
    for (auto& c : list(m, "checks")) r.checks.push_back(check_from_json(c));
    r.error = m.value("error", "");
    r.files_changed = m.value("files_changed", std::size_t{0});
    for (auto& s : list(m, "services_changed")) r.services_changed.push_back(s.get<std::string>());
    modules_[name] = std::move(r);
  }
}

void Journal::save() const {
  json mods = json::object();
  for (auto& [name, r] : modules_) {
    json steps = json::array();
    for (auto& s : r.steps) steps.push_back({{"name", s.name}, {"ms", s.ms}});
    json checks = json::array();
    for (auto& c : r.checks) checks.push_back(check_to_json(c));
    mods[name] = {{"state", to_string(r.state)},
                  {"profile_digest", r.profile_digest},
                  {"engine_version", r.engine_version},
                  {"started_at", r.started_at},
                  {"finished_at", r.finished_at},
                  {"duration_ms", r.duration_ms},
                  {"steps", steps},
                  {"checks", checks},
                  {"error", r.error},
                  {"files_changed", r.files_changed},
                  {"services_changed", r.services_changed}};
  }
  json doc = {{"format", 1},
              {"last_run_started_at", last_run_started_at},
              {"profile_file", profile_file},
              {"modules", mods}};
  std::filesystem::create_directories(file_.parent_path());
  write_file_atomic(file_, doc.dump(2) + "\n", 0600);
}

std::optional<ModuleRecord> Journal::get(const std::string& module) const {
  auto it = modules_.find(module);
  if (it == modules_.end()) return std::nullopt;
  return it->second;
}

void Journal::put(const std::string& module, const ModuleRecord& record) {
  modules_[module] = record;
}

}  // namespace firstboot
