// --root: an image tree that boots later. Nothing is started; a unit is "enabled" the way
// `systemctl enable` would do it offline: a symlink in multi-user.target.wants.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "engine/error.h"
#include "engine/layout.h"
#include "service/supervisor.h"
#include "service/systemd_unit.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWantsDir = "/etc/systemd/system/multi-user.target.wants";
constexpr const char* kUnitDir = "/lib/systemd/system";

class OfflineSupervisor : public ServiceSupervisor {
 public:
  explicit OfflineSupervisor(const Layout& layout) : layout_(layout) {}

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange) override {
    std::string unit = systemd::unit_name(spec);
    names_[spec.name] = unit;
    if (enabled(unit)) return ServiceAction::none;
    fs::path link = wants_dir() / unit;
    std::string target = std::string(kUnitDir) + "/" + systemd::unit_file_of(unit);
    std::error_code ec;
    fs::create_directories(wants_dir(), ec);
    if (ec) throw Error("creating " + wants_dir().string() + ": " + ec.message());
    if (fs::is_symlink(fs::symlink_status(link, ec))) fs::remove(link, ec);  // points elsewhere
    // Atomic: a temporary link renamed over the final name.
    fs::path tmp = wants_dir() / ("." + unit + ".tmp" + std::to_string(getpid()));
    fs::remove(tmp, ec);
    if (::symlink(target.c_str(), tmp.c_str()) != 0)
      throw Error("creating symlink " + tmp.string() + ": " + errno_text(errno));
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
      int err = errno;
      fs::remove(tmp, ec);
      throw Error("enabling " + unit + ": renaming to " + link.string() + ": " + errno_text(err));
    }
    return ServiceAction::enabled;
  }

  // Nothing runs in an image tree.
  void stop(const std::vector<std::string>&) override {}
  void stop_all() override {}

  ServiceStatus status(const std::string& name) override {
    std::string unit = unit_of(name);
    ServiceStatus st;
    st.name = name;
    st.detail = enabled(unit) ? "offline: " + unit + " enabled in " + layout_.base().string()
                              : "offline: " + unit + " not enabled";
    return st;
  }

  std::vector<ServiceStatus> status_all() override {
    std::vector<ServiceStatus> out;
    for (auto& [name, unit] : names_) out.push_back(status(name));
    return out;
  }

  ServiceAction planned_action(const ServiceSpec& spec, ConfigChange) override {
    return enabled(systemd::unit_name(spec)) ? ServiceAction::none : ServiceAction::would_enable;
  }

 private:
  fs::path wants_dir() const { return layout_.map(kWantsDir); }

  std::string unit_of(const std::string& name) const {
    auto it = names_.find(name);
    return it != names_.end() ? it->second : systemd::normalize_unit(name);
  }

  // Enabled = the wants symlink exists and names the unit file we would link.
  bool enabled(const std::string& unit) const {
    std::error_code ec;
    fs::path link = wants_dir() / unit;
    if (!fs::is_symlink(fs::symlink_status(link, ec))) return false;
    fs::path target = fs::read_symlink(link, ec);
    if (ec) return false;
    std::string file = systemd::unit_file_of(unit);
    return target.filename() == file;
  }

  Layout layout_;
  std::map<std::string, std::string> names_;  // service name -> unit
};

}  // namespace

std::unique_ptr<ServiceSupervisor> make_offline_supervisor(const Layout& layout) {
  return std::make_unique<OfflineSupervisor>(layout);
}

}  // namespace firstboot
