#include "engine/layout.h"

#include <cstdlib>
#include <system_error>

#include "engine/error.h"

namespace firstboot {

namespace fs = std::filesystem;

Layout Layout::system() { return Layout(Target::system, "/"); }

Layout Layout::sandbox(const fs::path& dir) {
  return Layout(Target::sandbox, fs::absolute(dir).lexically_normal());
}

Layout Layout::offline(const fs::path& root) {
  return Layout(Target::offline, fs::absolute(root).lexically_normal());
}

fs::path Layout::map(std::string_view system_path) const {
  fs::path p(system_path);
  if (!p.is_absolute()) throw Error("internal: layout path is not absolute: " + p.string());
  if (target_ == Target::system) return p.lexically_normal();
  return (base_ / p.relative_path()).lexically_normal();
}

fs::path data_dir() {
  if (const char* env = std::getenv("FIRSTBOOT_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  // An installed binary (/usr/bin/firstboot) finds /usr/share/firstboot.
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path share = exe.parent_path().parent_path() / "share" / "firstboot";
    if (fs::exists(share / "schema", ec)) return share;
  }
  if (fs::exists(fs::path(FIRSTBOOT_INSTALL_DATA_DIR) / "schema", ec))
    return FIRSTBOOT_INSTALL_DATA_DIR;
  return FIRSTBOOT_SOURCE_DATA_DIR;
}

}  // namespace firstboot
