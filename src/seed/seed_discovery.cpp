#include "seed/seed_discovery.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "profile/profile_loader.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxCloudConfigFiles = 200;
constexpr std::size_t kMaxMountinfoLines = 10000;

// Reads at most limit + 1 bytes, so an oversized file is seen as such without reading it all.
std::optional<std::string> read_limited(const fs::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// "/var/lib/cloud/seed/nocloud/user-data (firstboot:)"
std::string system_name(const Layout& layout, const fs::path& mapped) {
  if (layout.target() == Target::system) return mapped.string();
  fs::path rel = mapped.lexically_relative(layout.base());
  if (rel.empty() || rel.native().rfind("..", 0) == 0) return mapped.string();
  return "/" + rel.string();
}

// A symlink target inside the layout: absolute targets are mapped, relative ones resolved
// against the link's directory.
fs::path resolve_link(const Layout& layout, const fs::path& link) {
  std::error_code ec;
  fs::path current = link;
  for (int hops = 0; hops < 10 && fs::is_symlink(current, ec); ++hops) {
    fs::path target = fs::read_symlink(current, ec);
    if (ec) break;
    current = target.is_absolute() ? layout.map(target.string())
                                   : (current.parent_path() / target).lexically_normal();
  }
  return current.lexically_normal();
}

std::string unescape_mountinfo(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        std::isdigit(static_cast<unsigned char>(field[i + 1]))) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

bool same_device(const fs::path& a, const fs::path& b) {
  if (a == b) return true;
  struct stat sa {
  }, sb{};
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && S_ISBLK(sa.st_mode) &&
         S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

// Where the device is mounted (mapped path), from /proc/self/mountinfo of the layout.
std::optional<fs::path> mount_point_of(const Layout& layout, const fs::path& device) {
  std::ifstream in(layout.map("/proc/self/mountinfo"));
  std::string line;
  for (std::size_t n = 0; n < kMaxMountinfoLines && std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::vector<std::string> fields;
    std::string w;
    while (words >> w) fields.push_back(w);
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || std::distance(dash, fields.end()) < 3)
      continue;
    std::string source = unescape_mountinfo(*(dash + 2));
    if (source.empty() || source[0] != '/') continue;
    if (same_device(resolve_link(layout, layout.map(source)), device))
      return layout.map(unescape_mountinfo(fields[4]));
  }
  return std::nullopt;
}

class Search {
 public:
  Search(const Layout& layout, const SeedOptions& options) : layout_(layout), options_(options) {}

  SeedSearch run() {
    for (const auto& dir : boot_partition_dirs()) {
      fs::path file = layout_.map(dir + "/firstboot/profile.yaml");
      if (!is_file(file)) {
        note(file, "not found");
        continue;
      }
      auto text = read_limited(file, kMaxProfileBytes);
      if (!text) {
        note(file, "cannot be read");
        continue;
      }
      note(file, "found");
      result_.seed = Seed{SeedSource::boot_partition, file, system_name(layout_, file), *text,
                          file.parent_path()};
      return std::move(result_);
    }
    if (try_cidata()) return std::move(result_);
    for (const auto& file : nocloud_seed_files())
      if (try_cloud_config(file, SeedSource::nocloud)) return std::move(result_);
    for (const auto& file : cloud_config_files())
      if (try_cloud_config(file, SeedSource::cloud_config)) return std::move(result_);
    return std::move(result_);
  }

 private:
  void note(const fs::path& file, const std::string& what) {
    result_.looked_at.push_back(system_name(layout_, file) + ": " + what);
  }

  std::vector<fs::path> nocloud_seed_files() const {
    std::vector<fs::path> out;
    fs::path seeds = layout_.map("/var/lib/cloud/seed");
    std::error_code ec;
    for (fs::directory_iterator it(seeds, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.rfind("nocloud", 0) == 0) out.push_back(it->path() / "user-data");
      if (out.size() >= kMaxCloudConfigFiles) break;
    }
    std::sort(out.begin(), out.end());
    if (out.empty()) out.push_back(seeds / "nocloud" / "user-data");
    return out;
  }

  std::vector<fs::path> cloud_config_files() const {
    std::vector<fs::path> out = {layout_.map("/var/lib/cloud/instance/user-data.txt")};
    std::vector<fs::path> drop_ins;
    std::error_code ec;
    fs::path dir = layout_.map("/etc/cloud/cloud.cfg.d");
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".cfg") drop_ins.push_back(it->path());
      if (drop_ins.size() >= kMaxCloudConfigFiles) break;
    }
    std::sort(drop_ins.begin(), drop_ins.end());
    if (drop_ins.empty()) drop_ins.push_back(dir / "*.cfg");
    out.insert(out.end(), drop_ins.begin(), drop_ins.end());
    return out;
  }

  bool try_cloud_config(const fs::path& file, SeedSource source,
                        const std::string& label_prefix = "") {
    auto name = [&] { return label_prefix.empty() ? system_name(layout_, file) : label_prefix; };
    if (!is_file(file)) {
      note(file, "not found");
      return false;
    }
    auto text = read_limited(file, kMaxProfileBytes);
    if (!text) {
      note(file, "cannot be read");
      return false;
    }
    if (text->size() > kMaxProfileBytes) {
      note(file, "larger than 1 MiB, skipped");
      return false;
    }
    std::optional<std::string> profile;
    try {
      profile = firstboot_key_text(*text);
    } catch (const std::exception& e) {
      note(file, std::string("not a cloud-config document (") + e.what() + ")");
      return false;
    }
    if (!profile) {
      note(file, "no firstboot: key");
      return false;
    }
    note(file, "found a firstboot: key");
    result_.seed = Seed{source, file, name() + " (firstboot:)", *profile, file.parent_path()};
    return true;
  }

  bool try_cidata() {
    for (const char* label : {"CIDATA", "cidata"}) {
      fs::path link = layout_.map(std::string("/dev/disk/by-label/") + label);
      std::error_code ec;
      if (!fs::exists(link, ec) && !fs::is_symlink(link, ec)) continue;
      fs::path device = resolve_link(layout_, link);
      if (auto mounted = mount_point_of(layout_, device))
        return try_cloud_config(*mounted / "user-data", SeedSource::nocloud);
      if (layout_.target() == Target::system && options_.mount_cidata && geteuid() == 0)
        return mount_and_read(device);
      note(link, "filesystem not mounted");
      return false;
    }
    result_.looked_at.push_back("/dev/disk/by-label/CIDATA: no such filesystem");
    return false;
  }

  // Mounts a NoCloud filesystem nobody mounted, read-only, just long enough to read user-data.
  bool mount_and_read(const fs::path& device) {
    fs::path dir = layout_.map("/run/firstboot/cidata");
    std::error_code ec;
    fs::create_directories(dir, ec);
    bool mounted = false;
    for (const char* type : {"iso9660", "vfat"}) {
      if (::mount(device.c_str(), dir.c_str(), type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  nullptr) == 0) {
        mounted = true;
        break;
      }
    }
    if (!mounted) {
      note(device, "CIDATA filesystem could not be mounted: " + errno_text(errno));
      fs::remove(dir, ec);
      return false;
    }
    bool found = try_cloud_config(dir / "user-data", SeedSource::nocloud,
                                  "CIDATA filesystem " + device.string() + ": user-data");
    if (found) result_.seed->base_dir = fs::path();  // gone once unmounted
    umount2(dir.c_str(), MNT_DETACH);
    fs::remove(dir, ec);
    return found;
  }

  const Layout& layout_;
  const SeedOptions& options_;
  SeedSearch result_;
};

}  // namespace

SeedSearch find_seed(const Layout& layout, const SeedOptions& options) {
  return Search(layout, options).run();
}

const char* to_string(SeedSource source) {
  switch (source) {
    case SeedSource::boot_partition:
      return "boot partition";
    case SeedSource::nocloud:
      return "NoCloud seed";
    case SeedSource::cloud_config:
      return "cloud-config";
  }
  return "?";
}

const std::vector<std::string>& boot_partition_dirs() {
  static const std::vector<std::string> dirs = {"/boot/firmware", "/boot/efi", "/boot"};
  return dirs;
}

std::optional<std::string> firstboot_key_text(const std::string& cloud_config) {
  YAML::Node doc;
  try {
    doc = YAML::Load(cloud_config);
  } catch (const YAML::Exception& e) {
    throw Error(e.what());
  }
  if (!doc.IsMap()) return std::nullopt;
  YAML::Node node = doc["firstboot"];
  if (!node || node.IsNull()) return std::nullopt;
  auto line = static_cast<std::size_t>(std::max(node.Mark().line, 0));
  if (node.IsScalar()) {
    // firstboot: |  (the profile as a block of text); its content starts on the next line.
    return std::string(line + 1, '\n') + node.as<std::string>();
  }
  if (!node.IsMap()) throw Error("the firstboot: key holds neither a mapping nor a text block");
  // Cut the key's block out of the file (its lines, indentation kept, blank lines before it) so
  // the loader's LINE:COL point into the original file. Flow style or anything that does not
  // read back the same falls back to a re-emitted copy.
  std::vector<std::string> lines;
  std::istringstream in(cloud_config);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string block(line, '\n');
  for (std::size_t i = line; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    bool continues = l.empty() || l[0] == ' ' || l[0] == '#' || i == line;
    if (!continues) break;
    block += l + "\n";
  }
  try {
    if (YAML::Dump(YAML::Load(block)) == YAML::Dump(node)) return block;
  } catch (const YAML::Exception&) {
  }
  return YAML::Dump(node) + "\n";
}

}  // namespace firstboot
