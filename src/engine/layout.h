// Where things live. Modules name system paths (/etc/postfix/main.cf); the layout maps them to the
// real system, a sandbox directory, or an offline image tree.
#pragma once

#include <filesystem>
#include <string_view>

namespace firstboot {

enum class Target {
  system,   // the running machine, services through systemd
  sandbox,  // everything under one directory, daemons as child processes on loopback ports
  offline,  // an image tree under --root: files only, nothing started
};

class Layout {
 public:
  static Layout system();
  static Layout sandbox(const std::filesystem::path& dir);
  static Layout offline(const std::filesystem::path& root);

  Target target() const { return target_; }
  bool is_sandbox() const { return target_ == Target::sandbox; }
  // The directory everything is mapped under ("/" for the real system).
  const std::filesystem::path& base() const { return base_; }

  // Maps an absolute system path to where it lives for this target.
  std::filesystem::path map(std::string_view system_path) const;

  std::filesystem::path state_dir() const { return map("/var/lib/firstboot"); }
  std::filesystem::path log_dir() const { return map("/var/log/firstboot"); }
  std::filesystem::path run_dir() const { return map("/run/firstboot"); }

 private:
  Layout(Target target, std::filesystem::path base) : target_(target), base_(std::move(base)) {}
  Target target_;
  std::filesystem::path base_;
};

// Directory holding templates/, schema/ and profiles/: $FIRSTBOOT_DATA_DIR, else the installed
// share directory, else the source tree the binary was built from.
std::filesystem::path data_dir();

}  // namespace firstboot
