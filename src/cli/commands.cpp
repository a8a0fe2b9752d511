#include "commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/error.h"
#include "engine/journal.h"
#include "engine/layout.h"
#include "engine/runner.h"
#include "profile/profile_loader.h"
#include "registry.h"
#include "report.h"
#include "service/supervisor.h"
#include "status_report.h"
#include "store/store.h"

namespace firstboot::cli {

namespace fs = std::filesystem;

Layout target_layout(const TargetOptions& target) {
  if (!target.sandbox.empty() && !target.root.empty())
    throw Error("--sandbox and --root exclude each other");
  if (!target.sandbox.empty()) return Layout::sandbox(target.sandbox);
  if (!target.root.empty()) return Layout::offline(target.root);
  return Layout::system();
}

std::unique_ptr<ServiceSupervisor> target_supervisor(const Layout& layout) {
  switch (layout.target()) {
    case Target::sandbox:
      return make_process_supervisor(layout);
    case Target::offline:
      return make_offline_supervisor(layout);
    case Target::system:
      return make_systemd_supervisor();
  }
  return nullptr;
}

namespace {

std::vector<const Module*> views(const std::vector<std::unique_ptr<Module>>& modules) {
  std::vector<const Module*> out;
  for (auto& m : modules) out.push_back(m.get());
  return out;
}

// Prints every problem and returns nullopt when the profile is bad.
std::optional<Profile> load_or_report(const std::string& file,
                                      const std::vector<std::unique_ptr<Module>>& modules) {
  LoadedProfile loaded = load_profile(file, views(modules));
  for (auto& issue : loaded.issues) std::cerr << issue.format() << "\n";
  if (!loaded.issues.empty()) {
    std::cerr << "firstboot: " << loaded.issues.size()
              << " problem(s) in the profile; nothing was changed\n";
    return std::nullopt;
  }
  return loaded.profile;
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

int run(const RunCommand& cmd) {
  auto modules = all_modules();
  auto profile = load_or_report(cmd.profile, modules);
  if (!profile) return 2;
  Layout layout = target_layout(cmd.target);
  // Nothing is created before the profile passed every check.
  if (!cmd.dry_run && layout.target() != Target::system) fs::create_directories(layout.base());
  auto real_supervisor = target_supervisor(layout);
  std::unique_ptr<ServiceSupervisor> planner;
  ServiceSupervisor* services = real_supervisor.get();
  if (cmd.dry_run) {
    planner = make_planning_supervisor(*real_supervisor);
    services = planner.get();
  }

  std::unique_ptr<Store> store;
  auto store_provider = [&]() -> Store& {
    if (!store) store = open_store(*profile, layout, cmd.dry_run);
    return *store;
  };
  Stopwatch clock;
  auto progress = [&](const std::string& line) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%7.3fs] ", clock.seconds());
    if (cmd.progress) return cmd.progress(stamp + line);
    std::printf("%s%s\n", stamp, line.c_str());
    std::fflush(stdout);
  };
  std::vector<Module*> module_ptrs;
  for (auto& m : modules) module_ptrs.push_back(m.get());
  Runner runner(layout, *services, module_ptrs, progress, store_provider);

  RunOptions options;
  options.dry_run = cmd.dry_run;
  options.force = cmd.force;
  options.only = cmd.only;
  options.profile_file = cmd.profile;
  RunReport report = runner.run(*profile, options);

  if (cmd.dry_run) {
    std::cout << format_plan(report);
    return report.ok() ? 0 : 1;
  }
  std::cout << format_run_summary(report) << "\n";
  Journal journal(layout.state_dir() / "journal.json");
  journal.load();
  std::cout << format_status_report(
      build_status_report(journal, load_monitor_config(layout), nullptr, false), color_output());
  return report.ok() && status_exit_code(journal) == 0 ? 0 : 1;
}

int check_profile(const std::string& file) {
  auto modules = all_modules();
  auto profile = load_or_report(file, modules);
  if (!profile) return 2;
  std::cout << file << ": ok (" << profile->domains.size() << " domain(s), "
            << profile->users.size() << " user(s), mode " << to_string(profile->mode) << ")\n";
  return 0;
}

int stop(const TargetOptions& target) {
  if (target.sandbox.empty())
    throw Error("stop needs --sandbox DIR (use systemctl on a real system)");
  Layout layout = target_layout(target);
  auto services = make_process_supervisor(layout);
  auto before = services->status_all();
  services->stop_all();
  std::size_t running = 0;
  for (auto& s : before) running += s.running ? 1 : 0;
  std::cout << "stopped " << running << " service(s) in " << layout.base().string() << "\n";
  return 0;
}

int analyze(const TargetOptions& target) {
  Layout layout = target_layout(target);
  Journal journal(layout.state_dir() / "journal.json");
  journal.load();
  std::cout << format_analyze(journal);
  return 0;
}

}  // namespace firstboot::cli
