#include "secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "engine/error.h"
#include "engine/layout.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

bool is_under(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::path f = fs::weakly_canonical(file, ec);
  if (ec) return false;
  fs::path d = fs::weakly_canonical(dir, ec);
  if (ec || d.empty()) return false;
  auto rel = f.lexically_relative(d);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

std::optional<std::string> read_secret_file(const fs::path& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error("reading " + file.string() + ": " + errno_text(errno));
  }
  struct Close {
    int fd;
    ~Close() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(file.string() + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > kMaxSecretBytes)
    throw Error(file.string() + " is larger than " + std::to_string(kMaxSecretBytes) +
                " bytes; a password file holds one password");
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t r = read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string read_only_reason(const fs::path& file) {
  // The example profiles ship their demo secrets; tests point at them directly.
  fs::path fixtures = data_dir() / "profiles";
  if (is_under(file, fixtures)) return "it is an example fixture under " + fixtures.string();
#ifdef FIRSTBOOT_SOURCE_DATA_DIR
  if (is_under(file, fs::path(FIRSTBOOT_SOURCE_DATA_DIR) / "profiles"))
    return "it is an example fixture in the source tree";
#endif
  struct stat st {};
  if (stat(file.c_str(), &st) == 0 && (st.st_mode & 0222) == 0) return "it has no write permission";
  struct statvfs vfs {};
  if (statvfs(file.parent_path().empty() ? "." : file.parent_path().c_str(), &vfs) == 0 &&
      (vfs.f_flag & ST_RDONLY))
    return "it is on a read-only file system";
  if (access(file.parent_path().empty() ? "." : file.parent_path().c_str(), W_OK) != 0)
    return "its directory is not writable";
  return "";
}

void wipe_secret_file(const fs::path& file) {
  int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw Error("wiping " + file.string() + ": " + errno_text(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    std::vector<char> zeros(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < zeros.size()) {
      ssize_t w = write(fd, zeros.data() + done, zeros.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    fsync(fd);
  }
  close(fd);
  if (unlink(file.c_str()) != 0 && errno != ENOENT)
    throw Error("removing " + file.string() + ": " + errno_text(errno));
  int dir = open(file.parent_path().empty() ? "." : file.parent_path().c_str(),
                 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
}

}  // namespace firstboot
