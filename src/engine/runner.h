// The ordered module runner: orders modules by requires/provides (order number breaks ties), runs
// apply then validate for each, records progress in the journal, and skips the dependents of a
// failed module. The same code plans (dry run) and runs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/check.h"
#include "engine/file_writer.h"
#include "engine/journal.h"
#include "engine/layout.h"
#include "engine/module.h"
#include "profile/profile.h"
#include "service/supervisor.h"

namespace firstboot {

// Orders modules so every module runs after the providers of what it requires; among modules
// free to run, the lower order number first. Throws Error on a cycle or a requirement no module
// provides.
std::vector<Module*> order_modules(const std::vector<Module*>& modules);

struct RunOptions {
  bool dry_run = false;
  bool force = false;               // re-validate (and re-apply) even when nothing changed
  std::optional<std::string> only;  // run just this module (its dependencies must be done)
  std::string profile_file;
};

struct ModuleOutcome {
  std::string name;
  int order = 0;
  ModuleState state = ModuleState::pending;
  bool changed = false;    // files or services changed in this run
  bool validated = false;  // validate ran in this run
  double ms = 0;
  std::string error;  // why it failed or was skipped
  std::vector<FileEvent> files;
  std::vector<std::string> services;  // "postfix:started"
  std::vector<CheckResult> checks;
};

struct RunReport {
  std::vector<ModuleOutcome> modules;
  double ms = 0;
  bool ok() const;
};

// Called for progress lines on the console.
using ProgressFn = std::function<void(const std::string& line)>;

class Runner {
 public:
  // store: opens the user store on first use (modules that never touch it never open it).
  Runner(const Layout& layout, ServiceSupervisor& services, std::vector<Module*> modules,
         ProgressFn progress, std::function<Store&()> store);

  const std::vector<Module*>& modules() const { return modules_; }

  RunReport run(const Profile& profile, const RunOptions& options);

 private:
  ModuleOutcome run_module(Module& module, const Profile& profile, const RunOptions& options,
                           Journal& journal, const std::string& run_id);

  const Layout& layout_;
  ServiceSupervisor& services_;
  std::vector<Module*> modules_;
  ProgressFn progress_;
  std::function<Store&()> store_;
  std::vector<std::filesystem::path> run_changes_;  // files changed by any module in this run
};

std::string engine_version();

}  // namespace firstboot
