#include "seed/kept_profile.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/file_writer.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSecretBytes = 4096;
constexpr std::size_t kMaxKeyBytes = 64 * 1024;
constexpr std::size_t kMaxCertBytes = 1024 * 1024;

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw Error("computing a SHA-256 digest failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string read_secret(const fs::path& path, const std::string& what,
                        std::size_t limit = kMaxSecretBytes) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw Error("reading the " + what + ": " + e.what());
  }
  if (text.size() > limit) {
    explicit_bzero(text.data(), text.size());
    throw Error(path.string() + ": the " + what + " is larger than " + std::to_string(limit) +
                " bytes");
  }
  return text;
}

bool on_boot_partition(const Layout& layout, const fs::path& file) {
  auto rel = file.lexically_normal().lexically_relative(layout.map("/boot"));
  return !rel.empty() && rel.native().rfind("..", 0) != 0;
}

// A path field the later runs read again (tls.cert, tls.key, database_password_file): kept
// under /etc/firstboot when it lies on the boot partition (which may be wiped, unmounted or
// replaced), else made absolute, since the kept copy is in another directory than the seed.
struct ReadAgain {
  const char* what;
  const char* kept_at;  // system path of the copy
  mode_t mode;
  std::size_t limit;
  bool secret;  // wiped from the boot partition after a successful apply
};

void keep_read_again(YAML::Node parent, const char* key, const ReadAgain& how, const Seed& seed,
                     const Layout& layout, KeptProfile& kept) {
  if (!parent || !parent.IsMap() || !parent[key]) return;
  fs::path path = seed_path(layout, seed.base_dir, parent[key].as<std::string>());
  if (!on_boot_partition(layout, path)) {
    parent[key] = path.string();
    return;
  }
  KeptFile copy{layout.map(how.kept_at), read_secret(path, how.what, how.limit), how.mode};
  parent[key] = copy.path.string();
  kept.files.push_back(std::move(copy));
  if (how.secret) kept.secret_files.push_back(path);
}

// A password file holds the password and maybe a final newline.
std::string password_of(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

fs::path seed_record(const Layout& layout) { return layout.state_dir() / "seed.json"; }

}  // namespace

fs::path seed_path(const Layout& layout, const fs::path& base_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return layout.map(path);
  return (base_dir / p).lexically_normal();
}

namespace {

void fill_kept_profile(const Seed& seed, const Layout& layout,
                       const std::function<std::string(const std::string&)>& hash,
                       KeptProfile& kept) {
  YAML::Node doc = YAML::Load(seed.text);
  if (YAML::Node users = doc["users"]; users && users.IsSequence()) {
    for (std::size_t i = 0; i < users.size(); ++i) {
      YAML::Node user = users[i];
      YAML::Node file = user["password_file"];
      if (!file) continue;
      fs::path path = seed_path(layout, seed.base_dir, file.as<std::string>());
      if (!user["password_hash"]) {
        std::string text = read_secret(path, "password file of users[" + std::to_string(i) + "]");
        std::string password = password_of(text);
        explicit_bzero(text.data(), text.size());
        if (password.empty()) throw Error(path.string() + ": the password file is empty");
        user["password_hash"] = hash(password);
        explicit_bzero(password.data(), password.size());
      }
      user.remove("password_file");
      kept.secret_files.push_back(path);
    }
  }
  if (YAML::Node relay = doc["relay"]; relay && relay.IsMap() && relay["password_file"]) {
    fs::path path = seed_path(layout, seed.base_dir, relay["password_file"].as<std::string>());
    KeptFile copy{layout.map(kKeptRelaySecret), read_secret(path, "relay password file"), 0600};
    if (path != copy.path) kept.secret_files.push_back(path);
    relay["password_file"] = copy.path.string();
    kept.files.push_back(std::move(copy));
  }
  keep_read_again(doc["tls"], "cert",
                  {"TLS certificate (tls.cert)", kKeptTlsCert, 0644, kMaxCertBytes, false}, seed,
                  layout, kept);
  keep_read_again(doc["tls"], "key",
                  {"TLS private key (tls.key)", kKeptTlsKey, 0600, kMaxKeyBytes, true}, seed,
                  layout, kept);
  keep_read_again(doc, "database_password_file",
                  {"database password file", kKeptDatabaseSecret, 0600, kMaxSecretBytes, true},
                  seed, layout, kept);
  YAML::Emitter out;
  out << YAML::Comment("Kept by firstboot from " + seed.label +
                       ": passwords are replaced by their hashes.")
      << YAML::Newline << doc;
  kept.yaml = std::string(out.c_str()) + "\n";
}

}  // namespace

KeptProfile make_kept_profile(const Seed& seed, const Layout& layout,
                              const std::function<std::string(const std::string&)>& hash) {
  KeptProfile kept;
  try {
    fill_kept_profile(seed, layout, hash, kept);
  } catch (...) {
    wipe_kept_files(kept);  // a copy read before the error may hold a secret
    throw;
  }
  return kept;
}

void wipe_kept_files(KeptProfile& kept) {
  for (auto& f : kept.files) {
    explicit_bzero(f.content.data(), f.content.size());
    f.content.clear();
  }
}

void write_kept_files(KeptProfile& kept) {
  try {
    for (const auto& f : kept.files) {
      std::error_code ec;
      fs::path dir = f.path.parent_path();
      if (!fs::exists(dir, ec)) {
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
      }
      write_file_atomic(f.path, f.content, f.mode);
    }
  } catch (...) {
    wipe_kept_files(kept);
    throw;
  }
  wipe_kept_files(kept);
}

std::string wipe_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno_text(errno);
  struct stat st {};
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = errno_text(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else {
    std::vector<char> zeros(4096, '\0');
    off_t left = st.st_size;
    while (left > 0 && why.empty()) {
      ssize_t n = ::write(fd, zeros.data(), static_cast<std::size_t>(std::min<off_t>(left, 4096)));
      if (n <= 0)
        why = errno_text(errno);
      else
        left -= n;
    }
    if (why.empty() && fsync(fd) != 0) why = errno_text(errno);
  }
  ::close(fd);
  if (!why.empty()) return why;
  if (::unlink(path.c_str()) != 0) return errno_text(errno);
  return "";
}

std::vector<std::string> wipe_boot_secrets(const Layout& layout,
                                           const std::vector<fs::path>& files) {
  std::vector<std::string> out;
  for (const auto& file : files) {
    fs::path normal = file.lexically_normal();
    if (!on_boot_partition(layout, normal)) continue;
    std::error_code ec;
    if (!fs::exists(normal, ec)) continue;
    std::string why = wipe_file(normal);
    out.push_back(why.empty() ? "wiped " + normal.string()
                              : "could not wipe " + normal.string() + ": " + why);
  }
  return out;
}

bool seed_already_applied(const Layout& layout, const Seed& seed) {
  std::error_code ec;
  if (!fs::exists(seed_record(layout), ec) || !fs::exists(layout.map(kKeptProfile), ec))
    return false;
  try {
    auto record = nlohmann::json::parse(read_file(seed_record(layout)));
    return record.is_object() && record.contains("sha256") && record["sha256"].is_string() &&
           record["sha256"].get<std::string>() == sha256_hex(seed.text);
  } catch (const std::exception&) {
    return false;
  }
}

void record_seed_applied(const Layout& layout, const Seed& seed) {
  nlohmann::json record = {{"source", seed.label}, {"sha256", sha256_hex(seed.text)}};
  fs::create_directories(layout.state_dir());
  write_file_atomic(seed_record(layout), record.dump(2) + "\n", 0600);
}

}  // namespace firstboot
