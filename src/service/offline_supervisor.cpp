// --root: an image tree that boots later. Nothing is started; a unit is enabled the way an
// offline `systemctl enable` does it: its unit file is looked up in the tree, and the symlinks its
// [Install] section asks for are created (WantedBy= -> TARGET.wants/, RequiredBy= ->
// TARGET.requires/, Alias=, Also=). A unit whose file is not in the tree (its package is
// installed later) is linked into its type's default target: multi-user.target for services,
// timers.target for timers, sockets.target for sockets.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "engine/error.h"
#include "engine/layout.h"
#include "service/supervisor.h"
#include "service/systemd_unit.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigDir = "/etc/systemd/system";
// Where unit files are searched, in systemd's order of precedence (system paths).
const char* const kUnitDirs[] = {"/etc/systemd/system", "/usr/local/lib/systemd/system",
                                 "/lib/systemd/system", "/usr/lib/systemd/system"};
constexpr const char* kFallbackDir = "/lib/systemd/system";
constexpr std::size_t kMaxUnitFileBytes = 1024 * 1024;
constexpr int kMaxAlsoDepth = 4;

struct Link {
  std::string link;    // system path of the symlink
  std::string target;  // what it points to (a system path)
};

struct Plan {
  std::vector<Link> links;
  std::string note;  // how the plan was made, for status
};

class OfflineSupervisor : public ServiceSupervisor {
 public:
  explicit OfflineSupervisor(const Layout& layout) : layout_(layout) {}

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange) override {
    std::string unit = systemd::unit_name(spec);
    names_[spec.name] = unit;
    Plan plan = plan_for(unit);
    bool changed = false;
    for (const auto& l : plan.links)
      if (!link_ok(l)) {
        make_link(l);
        changed = true;
      }
    return changed ? ServiceAction::enabled : ServiceAction::none;
  }

  // Nothing runs in an image tree.
  void stop(const std::vector<std::string>&) override {}
  void stop_all() override {}

  ServiceStatus status(const std::string& name) override {
    std::string unit = unit_of(name);
    ServiceStatus st;
    st.name = name;
    try {
      Plan plan = plan_for(unit);
      if (plan.links.empty())
        st.detail = "offline: " + unit + " has no [Install] section (static): nothing to enable";
      else if (enabled(plan))
        st.detail =
            "offline: " + unit + " enabled in " + layout_.base().string() + " (" + plan.note + ")";
      else
        st.detail = "offline: " + unit + " not enabled";
    } catch (const Error& e) {
      st.detail = std::string("offline: ") + e.what();
    }
    return st;
  }

  std::vector<ServiceStatus> status_all() override {
    std::vector<ServiceStatus> out;
    for (auto& [name, unit] : names_) out.push_back(status(name));
    return out;
  }

  ServiceAction planned_action(const ServiceSpec& spec, ConfigChange) override {
    return enabled(plan_for(systemd::unit_name(spec))) ? ServiceAction::none
                                                       : ServiceAction::would_enable;
  }

 private:
  std::string unit_of(const std::string& name) const {
    auto it = names_.find(name);
    return it != names_.end() ? it->second : systemd::normalize_unit(name);
  }

  // A path in the tree, symlinks followed inside the tree (an absolute target is mapped).
  fs::path resolve(const std::string& system_path) const {
    fs::path current = layout_.map(system_path);
    std::error_code ec;
    for (int hops = 0; hops < 10 && fs::is_symlink(fs::symlink_status(current, ec)); ++hops) {
      fs::path target = fs::read_symlink(current, ec);
      if (ec) break;
      if (target == "/dev/null") return target;
      current = target.is_absolute() ? layout_.map(target.string())
                                     : (current.parent_path() / target).lexically_normal();
    }
    return current;
  }

  // The unit file (system path) for unit, or "" when the tree has none. Throws for a masked unit.
  std::string find_unit_file(const std::string& unit) const {
    std::vector<std::string> names = {unit};
    std::string file = systemd::unit_file_of(unit);
    if (file != unit) names.push_back(file);  // an instance: its template
    for (const auto& name : names)
      for (const char* dir : kUnitDirs) {
        std::string path = std::string(dir) + "/" + name;
        fs::path real = resolve(path);
        if (real == "/dev/null") throw Error("unit " + unit + " is masked (" + path + ")");
        std::error_code ec;
        if (fs::is_regular_file(real, ec)) return path;
      }
    return "";
  }

  Plan plan_for(const std::string& unit, int depth = 0) const {
    Plan plan;
    std::string file = find_unit_file(unit);
    if (file.empty()) {
      std::string target = systemd::default_install_target(unit);
      plan.links.push_back({std::string(kConfigDir) + "/" + target + ".wants/" + unit,
                            std::string(kFallbackDir) + "/" + systemd::unit_file_of(unit)});
      plan.note = "no unit file in the tree";
      return plan;
    }
    std::ifstream in(resolve(file), std::ios::binary);
    std::string text(kMaxUnitFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxUnitFileBytes)
      throw Error(layout_.map(file).string() + " is larger than 1 MiB");
    auto install = systemd::parse_install_section(text);
    auto checked = [&](const std::string& name, const char* key) {
      try {
        return systemd::normalize_unit(name);
      } catch (const Error&) {
        throw Error(layout_.map(file).string() + ": [Install] " + key + "=" + name +
                    " is not a unit name firstboot can enable offline");
      }
    };
    for (const auto& t : install.wanted_by)
      plan.links.push_back(
          {std::string(kConfigDir) + "/" + checked(t, "WantedBy") + ".wants/" + unit, file});
    for (const auto& t : install.required_by)
      plan.links.push_back(
          {std::string(kConfigDir) + "/" + checked(t, "RequiredBy") + ".requires/" + unit, file});
    if (systemd::unit_file_of(unit) == unit)  // an alias names a unit, not an instance
      for (const auto& a : install.alias)
        plan.links.push_back({std::string(kConfigDir) + "/" + checked(a, "Alias"), file});
    if (depth < kMaxAlsoDepth)
      for (const auto& also : install.also) {
        Plan more = plan_for(checked(also, "Also"), depth + 1);
        plan.links.insert(plan.links.end(), more.links.begin(), more.links.end());
      }
    plan.note = "from " + file;
    return plan;
  }

  bool link_ok(const Link& l) const {
    std::error_code ec;
    fs::path path = layout_.map(l.link);
    if (!fs::is_symlink(fs::symlink_status(path, ec))) return false;
    return fs::read_symlink(path, ec) == fs::path(l.target) && !ec;
  }

  bool enabled(const Plan& plan) const {
    return std::all_of(plan.links.begin(), plan.links.end(),
                       [&](const Link& l) { return link_ok(l); });
  }

  // Atomic: a temporary link renamed over the final name (a link pointing elsewhere is replaced;
  // a regular file or directory in the way is an error).
  void make_link(const Link& l) const {
    fs::path path = layout_.map(l.link);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error("creating " + path.parent_path().string() + ": " + ec.message());
    auto st = fs::symlink_status(path, ec);
    if (fs::exists(st) && !fs::is_symlink(st))
      throw Error("enabling " + path.filename().string() + ": " + path.string() +
                  " exists and is not a symlink");
    fs::path tmp =
        path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(getpid()));
    fs::remove(tmp, ec);
    if (::symlink(l.target.c_str(), tmp.c_str()) != 0)
      throw Error("creating symlink " + tmp.string() + ": " + errno_text(errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      fs::remove(tmp, ec);
      throw Error("enabling " + path.filename().string() + ": renaming to " + path.string() + ": " +
                  errno_text(err));
    }
  }

  Layout layout_;
  std::map<std::string, std::string> names_;  // service name -> unit
};

}  // namespace

std::unique_ptr<ServiceSupervisor> make_offline_supervisor(const Layout& layout) {
  return std::make_unique<OfflineSupervisor>(layout);
}

}  // namespace firstboot
