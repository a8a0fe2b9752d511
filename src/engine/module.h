// A module: declaration (name, order, requires/provides) plus plan/apply and validate entry points.
// A module touches the system only through its context: files through ctx.files, services through
// ctx.services, the user store through ctx.store(). Apply must converge: run twice with the same
// profile, it changes nothing the second time. In plan mode the same apply runs against a dry-run
// writer and a planning supervisor, so plan shows exactly what run would do.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/check.h"
#include "engine/file_writer.h"
#include "engine/layout.h"
#include "engine/template_renderer.h"
#include "profile/profile.h"
#include "service/supervisor.h"

namespace spdlog {
class logger;
}

namespace firstboot {

class Store;
struct ProfileIssue;

struct ModuleInfo {
  std::string name;                    // "ssl"
  int order = 0;                       // 7: tie-breaker between modules with no dependency
  std::vector<std::string> requires_;  // capabilities needed from other modules
  std::vector<std::string> provides;   // capabilities offered, e.g. "tls-certificates"
  std::string summary;                 // one line for `firstboot plan` and docs
};

class ModuleContext;

class Module {
 public:
  virtual ~Module() = default;
  virtual ModuleInfo info() const = 0;

  // Semantic checks beyond the schema (cross-field rules, files that must exist), run by
  // check-profile and before every run, before anything changes.
  virtual void check_profile(const Profile& profile, std::vector<ProfileIssue>& issues) const;

  // Renders, generates and starts what the profile asks for. Throws Error on failure, after
  // undoing its own half-done changes where that keeps the previous working state serving.
  virtual void apply(ModuleContext& ctx) = 0;

  // Checks the result for real (files on disk, protocol checks against the running services).
  // A failed required check makes the module failed.
  virtual std::vector<CheckResult> validate(ModuleContext& ctx) = 0;
};

// What a module may touch. One per module per run.
class ModuleContext {
 public:
  ModuleContext(const Profile& profile, const Layout& layout, FileWriter& files,
                ServiceSupervisor& services, const TemplateRenderer& templates, spdlog::logger& log,
                std::function<Store&()> store, bool dry_run);

  const Profile& profile;
  const Layout& layout;
  FileWriter& files;
  ServiceSupervisor& services;
  const TemplateRenderer& templates;
  spdlog::logger& log;
  const bool dry_run;

  // The user store, opened on first use (SQLite under the state dir, or PostgreSQL).
  Store& store();

  // Maps a system path for this target ("/etc/postfix/main.cf" -> SANDBOX/etc/postfix/main.cf).
  std::filesystem::path path(std::string_view system_path) const { return layout.map(system_path); }
  bool sandbox() const { return layout.is_sandbox(); }
  // Ports: the profile's sandbox ports in the sandbox, the standard ports otherwise.
  const Ports& ports() const { return ports_; }

  // Times a named step for the journal and `firstboot analyze`:
  //   auto step = ctx.step("render postfix config");
  class Step {
   public:
    Step(ModuleContext& ctx, std::string name);
    ~Step();
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

   private:
    ModuleContext& ctx_;
    std::string name_;
    std::chrono::steady_clock::time_point start_;
  };
  Step step(std::string name) { return Step(*this, std::move(name)); }

  struct StepRecord {
    std::string name;
    double ms;
  };
  const std::vector<StepRecord>& steps() const { return steps_; }
  // True when an earlier module changed this (mapped) file in this run, e.g. the ssl module
  // installed a new certificate: the services that read it must reload.
  bool changed_in_this_run(const std::filesystem::path& path) const;
  void set_run_changes(const std::vector<std::filesystem::path>* changes) {
    run_changes_ = changes;
  }

  // Services this module started, restarted or reloaded in this run.
  std::vector<std::string> services_changed;
  // Convenience: ensure_running + records the action (and logs it).
  ServiceAction ensure_service(const ServiceSpec& spec, ConfigChange change);

 private:
  std::function<Store&()> store_;
  const std::vector<std::filesystem::path>* run_changes_ = nullptr;
  Ports ports_;
  std::vector<StepRecord> steps_;
};

// The standard ports a real system uses.
Ports standard_ports();

}  // namespace firstboot
