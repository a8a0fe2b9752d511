#include "engine/module.h"

#include <spdlog/spdlog.h>

#include "engine/error.h"
#include "profile/profile_loader.h"

namespace firstboot {

void Module::check_profile(const Profile&, std::vector<ProfileIssue>&) const {}

Ports standard_ports() {
  Ports p;
  p.smtp = 25;
  p.submission = 587;
  p.smtps = 465;
  p.imap = 143;
  p.imaps = 993;
  p.pop3 = 110;
  p.pop3s = 995;
  p.dns = 53;
  p.opendkim = 8891;
  p.opendmarc = 8893;
  p.metrics = 9100;
  p.lmtp = 24;
  return p;
}

ModuleContext::ModuleContext(const Profile& profile_, const Layout& layout_, FileWriter& files_,
                             ServiceSupervisor& services_, const TemplateRenderer& templates_,
                             spdlog::logger& log_, std::function<Store&()> store, bool dry_run_)
    : profile(profile_),
      layout(layout_),
      files(files_),
      services(services_),
      templates(templates_),
      log(log_),
      dry_run(dry_run_),
      store_(std::move(store)),
      ports_(layout_.is_sandbox() ? profile_.sandbox_ports : standard_ports()) {}

Store& ModuleContext::store() {
  if (!store_) throw Error("internal: no user store available to this module");
  return store_();
}

bool ModuleContext::changed_in_this_run(const std::filesystem::path& path) const {
  if (!run_changes_) return false;
  for (auto& p : *run_changes_)
    if (p == path) return true;
  return false;
}

ModuleContext::Step::Step(ModuleContext& ctx, std::string name)
    : ctx_(ctx), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}

ModuleContext::Step::~Step() {
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  ctx_.steps_.push_back({name_, ms});
  ctx_.log.debug("step '{}' took {:.1f} ms", name_, ms);
}

ServiceAction ModuleContext::ensure_service(const ServiceSpec& spec, ConfigChange change) {
  auto start = std::chrono::steady_clock::now();
  ServiceAction action = services.ensure_running(spec, change);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (action != ServiceAction::none) {
    services_changed.push_back(spec.name + ":" + to_string(action));
    log.info("service {}: {} ({:.0f} ms)", spec.name, to_string(action), ms);
  }
  return action;
}

}  // namespace firstboot
