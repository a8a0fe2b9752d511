#include "engine/file_writer.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "engine/error.h"

namespace firstboot {

namespace fs = std::filesystem;

const char* to_string(FileChange change) {
  switch (change) {
    case FileChange::unchanged:
      return "unchanged";
    case FileChange::created:
      return "create";
    case FileChange::updated:
      return "update";
    case FileChange::removed:
      return "remove";
  }
  return "?";
}

namespace {

struct Ids {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// Resolves owner/group names; -1 means "leave as is". Only root can change owners.
Ids resolve_ids(const std::string& owner, const std::string& group) {
  Ids ids;
  if (geteuid() != 0) return ids;
  if (!owner.empty()) {
    struct passwd* pw = getpwnam(owner.c_str());
    if (!pw) throw Error("unknown user '" + owner + "' (is its package installed?)");
    ids.uid = pw->pw_uid;
    if (group.empty()) ids.gid = pw->pw_gid;
  }
  if (!group.empty()) {
    struct group* gr = getgrnam(group.c_str());
    if (!gr) throw Error("unknown group '" + group + "' (is its package installed?)");
    ids.gid = gr->gr_gid;
  }
  return ids;
}

bool attrs_differ(const struct stat& st, const FileAttrs& attrs, const Ids& ids) {
  if ((st.st_mode & 07777) != (attrs.mode & 07777)) return true;
  if (ids.uid != static_cast<uid_t>(-1) && st.st_uid != ids.uid) return true;
  if (ids.gid != static_cast<gid_t>(-1) && st.st_gid != ids.gid) return true;
  return false;
}

void apply_attrs(const fs::path& path, int fd, const FileAttrs& attrs, const Ids& ids) {
  int rc = fd >= 0 ? fchown(fd, ids.uid, ids.gid) : chown(path.c_str(), ids.uid, ids.gid);
  if (rc != 0) throw Error("setting owner of " + path.string() + ": " + errno_text(errno));
  rc = fd >= 0 ? fchmod(fd, attrs.mode) : chmod(path.c_str(), attrs.mode);
  if (rc != 0) throw Error("setting mode of " + path.string() + ": " + errno_text(errno));
}

void fsync_directory(const fs::path& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

void make_parents(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw Error("creating directory " + path.parent_path().string() + ": " + ec.message());
}

}  // namespace

fs::path temp_path_for(const fs::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".firstboot-tmp");
}

void remove_stale_temp(const fs::path& path) {
  struct stat st {};
  fs::path tmp = temp_path_for(path);
  if (::lstat(tmp.c_str(), &st) == 0) ::unlink(tmp.c_str());
}

namespace {

void write_atomic(const fs::path& path, std::string_view content, const FileAttrs& attrs,
                  const Ids& ids) {
  make_parents(path);
  // A fixed temporary name: the state lock allows one writer at a time, and a run killed between
  // create and rename leaves at most this one file, which the next run removes or reuses.
  std::string tmpl = temp_path_for(path).string();
  int fd = ::open(tmpl.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("writing " + path.string() + ": " + errno_text(errno));
  auto fail = [&](const std::string& what) {
    int err = errno;
    close(fd);
    unlink(tmpl.c_str());
    throw Error("writing " + path.string() + ": " + what + ": " + errno_text(err));
  };
  // Mode and owner are set before the content lands, so a secret is never briefly readable.
  try {
    apply_attrs(tmpl, fd, attrs, ids);
  } catch (...) {
    close(fd);
    unlink(tmpl.c_str());
    throw;
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) fail("fsync");
  if (close(fd) != 0) {
    unlink(tmpl.c_str());
    throw Error("writing " + path.string() + ": close: " + errno_text(errno));
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    throw Error("writing " + path.string() + ": rename: " + errno_text(err));
  }
  fsync_directory(path.parent_path());
}

std::optional<std::string> read_if_exists(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool looks_binary(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// A short diff: the changed middle between the common head and tail, at most kMax lines a side.
std::string short_diff(std::string_view before, std::string_view after) {
  if (looks_binary(before) || looks_binary(after)) return "  (binary content differs)\n";
  auto a = split_lines(before);
  auto b = split_lines(after);
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  constexpr std::size_t kMax = 12;
  std::string out;
  auto emit = [&](const std::vector<std::string>& lines, char sign) {
    std::size_t n = lines.size() - head - tail;
    for (std::size_t i = 0; i < std::min(n, kMax); ++i)
      out += std::string("  ") + sign + " " + lines[head + i] + "\n";
    if (n > kMax)
      out += "  " + std::string(1, sign) + " ... (" + std::to_string(n - kMax) + " more lines)\n";
  };
  out += "  @@ line " + std::to_string(head + 1) + " @@\n";
  emit(a, '-');
  emit(b, '+');
  return out;
}

}  // namespace

void FileWriter::about_to_change() {
  if (dry_run_ || !first_change_hook_) return;
  auto hook = std::move(first_change_hook_);
  first_change_hook_ = nullptr;
  hook();
}

FileWriter::FileWriter(fs::path backup_root, std::string run_id, bool dry_run)
    : backup_root_(std::move(backup_root)), run_id_(std::move(run_id)), dry_run_(dry_run) {}

fs::path FileWriter::backup_path(const fs::path& path) const {
  return backup_root_ / run_id_ / path.relative_path();
}

void FileWriter::backup(const fs::path& path) {
  fs::path dest = backup_path(path);
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) throw Error("backing up " + path.string() + ": " + ec.message());
  fs::permissions(backup_root_, fs::perms::owner_all, fs::perm_options::replace, ec);
  // A copy keeps the original's mode; the 0700 backup root keeps secrets private.
  fs::copy_file(path, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error("backing up " + path.string() + ": " + ec.message());
}

FileChange FileWriter::write(const fs::path& path, std::string_view content, const FileAttrs& attrs,
                             bool secret) {
  Ids ids = resolve_ids(attrs.owner, attrs.group);
  auto existing = read_if_exists(path);
  struct stat st {};
  bool have_stat = existing && ::stat(path.c_str(), &st) == 0;
  if (existing && *existing == content) {
    if (!dry_run_) remove_stale_temp(path);
    if (!have_stat || !attrs_differ(st, attrs, ids)) return FileChange::unchanged;
    // Same content, wrong mode or owner: fix in place.
    about_to_change();
    if (!dry_run_) apply_attrs(path, -1, attrs, ids);
    events_.push_back({path, FileChange::updated, "  (mode/owner corrected)\n", secret});
    return FileChange::updated;
  }
  FileChange change = existing ? FileChange::updated : FileChange::created;
  std::string diff;
  if (!secret) diff = existing ? short_diff(*existing, content) : short_diff("", content);
  about_to_change();
  if (!dry_run_) {
    if (existing) backup(path);
    write_atomic(path, content, attrs, ids);
  }
  FileEvent event{path, change, std::move(diff), secret};
  if (have_stat) {
    event.previous_mode = st.st_mode & 07777;
    event.previous_uid = st.st_uid;
    event.previous_gid = st.st_gid;
  }
  events_.push_back(std::move(event));
  return change;
}

FileChange FileWriter::create_once(const fs::path& path,
                                   const std::function<std::string()>& generate,
                                   const FileAttrs& attrs, bool secret) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!dry_run_) remove_stale_temp(path);
    Ids ids = resolve_ids(attrs.owner, attrs.group);
    if (!attrs_differ(st, attrs, ids)) return FileChange::unchanged;
    about_to_change();
    if (!dry_run_) apply_attrs(path, -1, attrs, ids);
    events_.push_back({path, FileChange::updated, "  (mode/owner corrected)\n", secret});
    return FileChange::updated;
  }
  if (dry_run_) {
    events_.push_back({path, FileChange::created, secret ? "" : "  (generated)\n", secret});
    return FileChange::created;
  }
  return write(path, generate(), attrs, secret);
}

FileChange FileWriter::ensure_directory(const fs::path& path, const FileAttrs& attrs) {
  Ids ids = resolve_ids(attrs.owner, attrs.group);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(path.string() + " exists and is not a directory");
    if (!attrs_differ(st, attrs, ids)) return FileChange::unchanged;
    about_to_change();
    if (!dry_run_) apply_attrs(path, -1, attrs, ids);
    events_.push_back({path, FileChange::updated, "  (mode/owner corrected)\n", false});
    return FileChange::updated;
  }
  about_to_change();
  if (!dry_run_) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw Error("creating directory " + path.string() + ": " + ec.message());
    apply_attrs(path, -1, attrs, ids);
  }
  events_.push_back({path, FileChange::created, "", false});
  return FileChange::created;
}

FileChange FileWriter::remove(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return FileChange::unchanged;
  about_to_change();
  if (!dry_run_) {
    backup(path);
    if (::unlink(path.c_str()) != 0)
      throw Error("removing " + path.string() + ": " + errno_text(errno));
    fsync_directory(path.parent_path());
  }
  FileEvent event{path, FileChange::removed, "", false};
  event.previous_mode = st.st_mode & 07777;
  event.previous_uid = st.st_uid;
  event.previous_gid = st.st_gid;
  events_.push_back(std::move(event));
  return FileChange::removed;
}

void FileWriter::rollback_to(std::size_t checkpoint) {
  while (events_.size() > checkpoint) {
    FileEvent event = events_.back();
    events_.pop_back();
    if (dry_run_) continue;
    std::error_code ec;
    struct stat st {};
    bool is_dir = ::stat(event.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) continue;  // directories are harmless to keep
    if (event.change == FileChange::created) {
      fs::remove(event.path, ec);
    } else if (event.change == FileChange::updated || event.change == FileChange::removed) {
      fs::path saved = backup_path(event.path);
      if (event.previous_mode != 0 && fs::exists(saved, ec)) {
        FileAttrs attrs{event.previous_mode, "", ""};
        Ids ids{geteuid() == 0 ? event.previous_uid : static_cast<uid_t>(-1),
                geteuid() == 0 ? event.previous_gid : static_cast<gid_t>(-1)};
        write_atomic(event.path, read_file(saved), attrs, ids);
      }
    }
  }
}

std::size_t FileWriter::changed_count() const {
  return static_cast<std::size_t>(std::count_if(
      events_.begin(), events_.end(), [](auto& e) { return e.change != FileChange::unchanged; }));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("reading " + path.string() + ": " + errno_text(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
  write_atomic(path, content, FileAttrs{mode, "", ""}, Ids{});
}

void set_owner(const fs::path& path, const std::string& owner, const std::string& group) {
  Ids ids = resolve_ids(owner, group);
  if (chown(path.c_str(), ids.uid, ids.gid) != 0)
    throw Error("setting owner of " + path.string() + ": " + errno_text(errno));
}

}  // namespace firstboot
