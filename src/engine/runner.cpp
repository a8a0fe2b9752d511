#include "engine/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "engine/template_renderer.h"

namespace firstboot {

std::string engine_version() { return FIRSTBOOT_VERSION; }

bool RunReport::ok() const {
  return std::all_of(modules.begin(), modules.end(), [](const ModuleOutcome& m) {
    return m.state == ModuleState::done || m.state == ModuleState::pending;
  });
}

std::vector<Module*> order_modules(const std::vector<Module*>& modules) {
  std::map<std::string, std::vector<Module*>> providers;
  for (Module* m : modules)
    for (auto& cap : m->info().provides) providers[cap].push_back(m);

  std::map<Module*, std::set<Module*>> needs;  // module -> modules that must run first
  std::map<Module*, std::set<Module*>> needed_by;
  for (Module* m : modules) {
    needs[m];
    for (auto& cap : m->info().requires_) {
      auto it = providers.find(cap);
      if (it == providers.end())
        throw Error("module " + m->info().name + " requires '" + cap +
                    "', which no module provides");
      for (Module* p : it->second) {
        if (p == m) continue;
        needs[m].insert(p);
        needed_by[p].insert(m);
      }
    }
  }
  auto later = [](Module* a, Module* b) {
    if (a->info().order != b->info().order) return a->info().order > b->info().order;
    return a->info().name > b->info().name;
  };
  std::priority_queue<Module*, std::vector<Module*>, decltype(later)> ready(later);
  for (auto& [m, deps] : needs)
    if (deps.empty()) ready.push(m);
  std::vector<Module*> ordered;
  while (!ready.empty()) {
    Module* m = ready.top();
    ready.pop();
    ordered.push_back(m);
    for (Module* d : needed_by[m]) {
      needs[d].erase(m);
      if (needs[d].empty()) ready.push(d);
    }
  }
  if (ordered.size() != modules.size()) {
    std::string stuck;
    for (auto& [m, deps] : needs)
      if (!deps.empty()) stuck += (stuck.empty() ? "" : ", ") + m->info().name;
    throw Error("modules depend on each other in a cycle: " + stuck);
  }
  return ordered;
}

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string log_file_name(const ModuleInfo& info) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d-", info.order);
  return buf + info.name + ".log";
}

std::string make_run_id() {
  std::string t = now_iso8601();  // 2026-11-24T08:30:00.123Z
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '-' || c == ':'; }), t.end());
  return t + "-" + std::to_string(getpid());
}

// Forwards info-and-above lines to the console progress callback as "module: message".
class ProgressSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ProgressSink(ProgressFn fn, std::string module) : fn_(std::move(fn)), module_(std::move(module)) {
    set_level(spdlog::level::info);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!fn_) return;
    std::string text(msg.payload.data(), msg.payload.size());
    if (msg.level >= spdlog::level::err)
      text = "error: " + text;
    else if (msg.level == spdlog::level::warn)
      text = "warning: " + text;
    fn_(module_ + ": " + text);
  }
  void flush_() override {}

 private:
  ProgressFn fn_;
  std::string module_;
};

// Holds an exclusive lock on the state directory so two runs never interleave.
class StateLock {
 public:
  explicit StateLock(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    fd_ = open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw Error("opening lock in " + dir.string() + ": " + errno_text(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw Error("another firstboot run holds " + (dir / "lock").string());
  }
  ~StateLock() {
    if (fd_ >= 0) close(fd_);
  }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

Runner::Runner(const Layout& layout, ServiceSupervisor& services, std::vector<Module*> modules,
               ProgressFn progress, std::function<Store&()> store)
    : layout_(layout),
      services_(services),
      modules_(order_modules(modules)),
      progress_(std::move(progress)),
      store_(std::move(store)) {}

RunReport Runner::run(const Profile& profile, const RunOptions& options) {
  auto start = std::chrono::steady_clock::now();
  RunReport report;
  std::optional<StateLock> lock;
  if (!options.dry_run) lock.emplace(layout_.state_dir());
  Journal journal(layout_.state_dir() / "journal.json");
  // Under the lock: a journal write killed before its rename left its temporary file behind.
  if (!options.dry_run) remove_stale_temp(journal.file());
  journal.load();
  std::string run_id = make_run_id();
  run_changes_.clear();

  if (options.only) {
    bool known = std::any_of(modules_.begin(), modules_.end(),
                             [&](Module* m) { return m->info().name == *options.only; });
    if (!known) throw Error("--only: no module named '" + *options.only + "'");
  }

  std::map<std::string, std::string> unavailable;  // capability -> module that failed to provide
  for (Module* module : modules_) {
    ModuleInfo info = module->info();
    if (options.only && info.name != *options.only) {
      // Not run now; its capabilities count as available only when it is done.
      auto rec = journal.get(info.name);
      if (!rec || rec->state != ModuleState::done)
        for (auto& cap : info.provides) unavailable[cap] = info.name + " (not done yet)";
      continue;
    }
    std::string blocked_by;
    for (auto& cap : info.requires_)
      if (auto it = unavailable.find(cap); it != unavailable.end()) blocked_by = it->second;
    if (!blocked_by.empty()) {
      ModuleOutcome skipped;
      skipped.name = info.name;
      skipped.order = info.order;
      skipped.state = ModuleState::skipped;
      skipped.error = "skipped because " + blocked_by + " failed";
      if (blocked_by.find("not done") != std::string::npos)
        skipped.error = "skipped because " + blocked_by;
      progress_(info.name + ": " + skipped.error);
      if (!options.dry_run) {
        ModuleRecord rec = journal.get(info.name).value_or(ModuleRecord{});
        rec.state = ModuleState::skipped;
        rec.error = skipped.error;
        rec.finished_at = now_iso8601();
        journal.put(info.name, rec);
        journal.save();
      }
      for (auto& cap : info.provides) unavailable[cap] = info.name;
      report.modules.push_back(std::move(skipped));
      continue;
    }
    ModuleOutcome outcome = run_module(*module, profile, options, journal, run_id);
    if (outcome.state != ModuleState::done && !options.dry_run)
      for (auto& cap : info.provides) unavailable[cap] = info.name;
    report.modules.push_back(std::move(outcome));
  }
  report.ms = ms_since(start);
  return report;
}

ModuleOutcome Runner::run_module(Module& module, const Profile& profile, const RunOptions& options,
                                 Journal& journal, const std::string& run_id) {
  ModuleInfo info = module.info();
  ModuleOutcome outcome;
  outcome.name = info.name;
  outcome.order = info.order;
  auto start = std::chrono::steady_clock::now();
  std::string started_at = now_iso8601();

  // The module's log is kept in memory and reaches its file only when the module did something
  // or failed: a run that changes nothing writes nothing, not even a log line.
  std::ostringstream log_buffer;
  auto file_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_buffer);
  file_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  auto console = std::make_shared<ProgressSink>(progress_, info.name);
  spdlog::logger log(info.name, {file_sink, console});
  // On a real system the journal gets the same lines (`journalctl -t firstboot`).
  if (layout_.target() == Target::system && sd_booted() > 0)
    log.sinks().push_back(std::make_shared<spdlog::sinks::systemd_sink_mt>("firstboot"));
  log.set_level(spdlog::level::debug);
  file_sink->set_level(spdlog::level::debug);

  FileWriter files(layout_.state_dir() / "backup", run_id, options.dry_run);
  std::optional<ModuleRecord> previous = journal.get(info.name);
  bool marked_in_progress = false;
  auto mark_in_progress = [&] {
    if (options.dry_run || marked_in_progress) return;
    marked_in_progress = true;
    ModuleRecord rec = previous.value_or(ModuleRecord{});
    rec.state = ModuleState::in_progress;
    rec.started_at = started_at;
    rec.profile_digest = profile.digest;
    journal.put(info.name, rec);
    journal.save();
  };
  files.on_first_change(mark_in_progress);

  TemplateRenderer templates(data_dir() / "templates");
  ModuleContext ctx(profile, layout_, files, services_, templates, log, store_, options.dry_run);
  ctx.set_run_changes(&run_changes_);

  bool needs_validate = true;
  try {
    log.debug("apply (profile {}, engine {})", profile.digest.substr(0, 12), engine_version());
    {
      auto step = ctx.step("apply");
      module.apply(ctx);
    }
    outcome.changed = files.changed_count() > 0 || !ctx.services_changed.empty();
    if (outcome.changed) mark_in_progress();
    bool was_done = previous && previous->state == ModuleState::done &&
                    previous->profile_digest == profile.digest &&
                    previous->engine_version == engine_version();
    needs_validate = outcome.changed || !was_done || options.force;
    if (options.dry_run) {
      outcome.state = ModuleState::pending;
    } else if (!needs_validate) {
      outcome.state = ModuleState::done;
      outcome.checks = previous->checks;
    } else {
      auto step = ctx.step("validate");
      outcome.checks = module.validate(ctx);
      outcome.validated = true;
      for (auto& c : outcome.checks) c.module = c.module.empty() ? info.name : c.module;
      if (all_required_pass(outcome.checks)) {
        outcome.state = ModuleState::done;
      } else {
        outcome.state = ModuleState::failed;
        for (auto& c : outcome.checks)
          if (c.severity == CheckSeverity::required && c.status == CheckStatus::fail) {
            outcome.error = "check " + c.id + " failed: " + c.detail;
            break;
          }
      }
    }
  } catch (const std::exception& e) {
    outcome.state = ModuleState::failed;
    outcome.error = e.what();
    log.error("{}", e.what());
  }
  outcome.ms = ms_since(start);
  outcome.files = files.events();
  for (auto& event : files.events())
    if (event.change != FileChange::unchanged) run_changes_.push_back(event.path);
  outcome.services = ctx.services_changed;

  if (options.dry_run) return outcome;
  if (outcome.state == ModuleState::done && !outcome.changed && !needs_validate) {
    return outcome;  // nothing happened: journal and logs stay untouched
  }
  ModuleRecord rec;
  rec.state = outcome.state;
  rec.profile_digest = profile.digest;
  rec.engine_version = engine_version();
  rec.started_at = started_at;
  rec.finished_at = now_iso8601();
  rec.duration_ms = outcome.ms;
  for (auto& s : ctx.steps()) rec.steps.push_back({s.name, s.ms});
  rec.checks = outcome.checks;
  rec.error = outcome.error;
  rec.files_changed = files.changed_count();
  rec.services_changed = ctx.services_changed;
  journal.put(info.name, rec);
  journal.save();

  log.info("{} in {:.0f} ms", to_string(outcome.state), outcome.ms);
  std::filesystem::create_directories(layout_.log_dir());
  std::ofstream out(layout_.log_dir() / log_file_name(info), std::ios::app);
  out << log_buffer.str();
  return outcome;
}

}  // namespace firstboot
