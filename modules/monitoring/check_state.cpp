#include "check_state.h"

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/file_writer.h"

namespace firstboot {

using nlohmann::json;
namespace fs = std::filesystem;

std::string MonitorState::to_json() const {
  json checks_j = json::object();
  for (auto& [id, m] : checks)
    checks_j[id] = {{"status", m.status}, {"since", m.since}, {"detail", m.detail}};
  json domains = json::object();
  for (auto& [domain, statuses] : deliveries.by_domain) domains[domain] = statuses;
  json queue = json::array();
  for (auto& q : queue_history) queue.push_back({{"at", q.at}, {"total", q.total}});
  json j = {{"version", 1},
            {"last_run_at", last_run_at},
            {"checks", checks_j},
            {"maillog",
             {{"inode", deliveries.inode}, {"offset", deliveries.offset}, {"deliveries", domains}}},
            {"queue_history", queue},
            {"pending_alerts", pending_alerts}};
  return j.dump(1) + "\n";
}

MonitorState MonitorState::from_json(const std::string& text) {
  MonitorState s;
  try {
    json j = json::parse(text);
    if (j.contains("last_run_at")) s.last_run_at = j.at("last_run_at").get<std::string>();
    if (j.contains("checks"))
      for (auto& [id, m] : j.at("checks").items())
        s.checks[id] = {m.at("status").get<std::string>(), m.at("since").get<std::string>(),
                        m.at("detail").get<std::string>()};
    if (j.contains("maillog")) {
      auto& ml = j.at("maillog");
      s.deliveries.inode = ml.at("inode").get<std::uint64_t>();
      s.deliveries.offset = ml.at("offset").get<std::uint64_t>();
      for (auto& [domain, statuses] : ml.at("deliveries").items())
        s.deliveries.by_domain[domain] = statuses.get<std::map<std::string, std::uint64_t>>();
    }
    if (j.contains("queue_history"))
      for (auto& q : j.at("queue_history"))
        s.queue_history.push_back(
            {q.at("at").get<std::time_t>(), q.at("total").get<std::uint64_t>()});
    if (j.contains("pending_alerts"))
      s.pending_alerts = j.at("pending_alerts").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw Error(std::string("reading the monitoring state: ") + e.what());
  }
  return s;
}

MonitorState load_monitor_state(const fs::path& dir) {
  fs::path file = dir / "state.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  try {
    return MonitorState::from_json(read_file(file));
  } catch (const Error&) {
    fs::rename(file, dir / "state.json.corrupt", ec);
    return {};
  }
}

void save_monitor_state(const fs::path& dir, const MonitorState& state) {
  fs::create_directories(dir);
  write_file_atomic(dir / "state.json", state.to_json(), 0600);
}

std::vector<StateChange> state_changes(const MonitorState& previous,
                                       const std::vector<CheckResult>& now) {
  std::vector<StateChange> out;
  for (auto& c : now) {
    if (c.status == CheckStatus::skipped) continue;
    auto it = previous.checks.find(c.id);
    std::string was = it == previous.checks.end() ? "pass" : it->second.status;
    if (was != to_string(c.status)) out.push_back({c, was});
  }
  return out;
}

void remember_checks(MonitorState& state, const std::vector<CheckResult>& now,
                     const std::string& now_iso) {
  for (auto& c : now) {
    if (c.status == CheckStatus::skipped) continue;
    auto& m = state.checks[c.id];
    if (m.status != to_string(c.status)) m.since = now_iso;
    m.status = to_string(c.status);
    m.detail = c.detail;
  }
  state.last_run_at = now_iso;
}

bool queue_growing(const std::vector<QueueSample>& history, std::size_t runs) {
  if (history.size() < runs + 1) return false;
  for (std::size_t i = history.size() - runs; i < history.size(); ++i)
    if (history[i].total <= history[i - 1].total) return false;
  return true;
}

}  // namespace firstboot
