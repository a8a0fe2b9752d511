#include "backup/backup.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "backup/contents.h"
#include "backup/retention.h"
#include "crypto/keys.h"
#include "engine/error.h"
#include "engine/file_writer.h"
#include "engine/layout.h"
#include "engine/runner.h"

namespace firstboot::backup {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBuffer = 256 * 1024;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

void write_all(int fd, const unsigned char* data, std::size_t size, const fs::path& path) {
  // Bounded: each pass writes at least one byte or throws.
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("writing " + path.string() + ": " + errno_text(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::size_t read_some(int fd, unsigned char* data, std::size_t size, const fs::path& path) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw Error("reading " + path.string() + ": " + errno_text(errno));
  }
  throw Error("reading " + path.string() + ": interrupted too often");
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("sha256: init");
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  std::string hex() {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// User and group names and ids as the target knows them: an offline tree's own /etc/passwd and
// /etc/group, else this machine's.
class Accounts {
 public:
  explicit Accounts(const Layout& layout) {
    if (layout.target() != Target::offline) return;
    offline_ = true;
    if (FILE* f = std::fopen(layout.map("/etc/passwd").c_str(), "re")) {
      for (int i = 0; i < 100000; ++i) {
        struct passwd* pw = fgetpwent(f);
        if (!pw) break;
        users_[pw->pw_name] = pw->pw_uid;
      }
      std::fclose(f);
    }
    if (FILE* f = std::fopen(layout.map("/etc/group").c_str(), "re")) {
      for (int i = 0; i < 100000; ++i) {
        struct group* gr = fgetgrent(f);
        if (!gr) break;
        groups_[gr->gr_name] = gr->gr_gid;
      }
      std::fclose(f);
    }
  }
  std::optional<uid_t> uid(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (offline_) {
      auto it = users_.find(name);
      return it == users_.end() ? std::nullopt : std::optional<uid_t>(it->second);
    }
    struct passwd* pw = getpwnam(name.c_str());
    return pw ? std::optional<uid_t>(pw->pw_uid) : std::nullopt;
  }
  std::optional<gid_t> gid(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (offline_) {
      auto it = groups_.find(name);
      return it == groups_.end() ? std::nullopt : std::optional<gid_t>(it->second);
    }
    struct group* gr = getgrnam(name.c_str());
    return gr ? std::optional<gid_t>(gr->gr_gid) : std::nullopt;
  }
  std::string user_name(uid_t id) {
    auto it = user_names_.find(id);
    if (it != user_names_.end()) return it->second;
    std::string name;
    if (offline_) {
      for (auto& [n, u] : users_)
        if (u == id) name = n;
    } else if (struct passwd* pw = getpwuid(id)) {
      name = pw->pw_name;
    }
    return user_names_[id] = name;
  }
  std::string group_name(gid_t id) {
    auto it = group_names_.find(id);
    if (it != group_names_.end()) return it->second;
    std::string name;
    if (offline_) {
      for (auto& [n, g] : groups_)
        if (g == id) name = n;
    } else if (struct group* gr = getgrgid(id)) {
      name = gr->gr_name;
    }
    return group_names_[id] = name;
  }

 private:
  bool offline_ = false;
  std::map<std::string, uid_t> users_;
  std::map<std::string, gid_t> groups_;
  std::map<uid_t, std::string> user_names_;
  std::map<gid_t, std::string> group_names_;
};

std::string iso_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Writing

struct ArchiveOutput {
  int fd = -1;
  fs::path path;
  std::unique_ptr<EncryptingSink> cipher;
  std::string error;

  void put(const unsigned char* data, std::size_t size) {
    if (cipher)
      cipher->write(data, size);
    else
      write_all(fd, data, size, path);
  }
};

la_ssize_t output_write(struct archive* a, void* client, const void* data, size_t size) {
  auto* out = static_cast<ArchiveOutput*>(client);
  try {
    out->put(static_cast<const unsigned char*>(data), size);
    return static_cast<la_ssize_t>(size);
  } catch (const std::exception& e) {
    out->error = e.what();
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

int output_close(struct archive*, void*) { return ARCHIVE_OK; }

class ArchiveWriter {
 public:
  ArchiveWriter(ArchiveOutput& out) : out_(out), a_(archive_write_new()) {
    if (!a_) throw Error("libarchive: out of memory");
    if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(a_) != ARCHIVE_OK ||
        archive_write_set_filter_option(a_, "zstd", "compression-level", "3") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a_, 1) != ARCHIVE_OK ||
        archive_write_open(a_, &out_, nullptr, output_write, output_close) != ARCHIVE_OK)
      fail("setting up the archive");
  }
  ~ArchiveWriter() { archive_write_free(a_); }
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  void header(const ManifestEntry& e) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_filetype(entry.get(), e.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), e.mode & 07777);
    archive_entry_set_size(entry.get(), e.directory ? 0 : static_cast<la_int64_t>(e.size));
    archive_entry_set_uid(entry.get(), e.uid);
    archive_entry_set_gid(entry.get(), e.gid);
    if (!e.owner.empty()) archive_entry_set_uname(entry.get(), e.owner.c_str());
    if (!e.group.empty()) archive_entry_set_gname(entry.get(), e.group.c_str());
    archive_entry_set_mtime(entry.get(), e.mtime, 0);
    int rc = archive_write_header(a_, entry.get());
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail("adding " + e.path);
  }
  void data(const unsigned char* bytes, std::size_t size) {
    if (size == 0) return;
    la_ssize_t n = archive_write_data(a_, bytes, size);
    if (n < 0 || static_cast<std::size_t>(n) != size) fail("writing data");
  }
  void close() {
    if (archive_write_close(a_) != ARCHIVE_OK) fail("finishing the archive");
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    std::string why = !out_.error.empty()        ? out_.error
                      : archive_error_string(a_) ? archive_error_string(a_)
                                                 : "unknown error";
    throw Error("creating the backup: " + what + ": " + why);
  }
  ArchiveOutput& out_;
  struct archive* a_;
};

struct Creator {
  const Layout& layout;
  ArchiveWriter& writer;
  Accounts accounts;
  Manifest& manifest;
  std::set<fs::path> excluded;  // the backup directory, the passphrase file
  std::set<std::string> added;
  std::vector<unsigned char> buffer = std::vector<unsigned char>(kBuffer);

  ManifestEntry entry_for(const std::string& name, const struct stat& st) {
    ManifestEntry e;
    e.path = name;
    e.directory = S_ISDIR(st.st_mode);
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.owner = accounts.user_name(st.st_uid);
    e.group = accounts.group_name(st.st_gid);
    e.mtime = st.st_mtim.tv_sec;
    return e;
  }

  bool is_excluded(const fs::path& p) const {
    for (auto& x : excluded) {
      auto rel = p.lexically_relative(x);
      if (!rel.empty() && *rel.begin() != "..") return true;
    }
    return p.filename().string().ends_with(".firstboot-tmp");
  }

  // name: the entry name; source: the file to read (the store snapshot reads another file).
  void add_file(const std::string& name, const fs::path& source, const struct stat* meta) {
    int fd = ::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      // A message Dovecot moved (new/ to cur/) while the backup ran: it is saved under its new
      // name when the walk reaches it.
      if (errno == ENOENT) {
        ++manifest.skipped;
        return;
      }
      throw Error("reading " + source.string() + ": " + errno_text(errno));
    }
    Fd closer(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw Error("reading " + source.string() + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) {
      ++manifest.skipped;
      return;
    }
    ManifestEntry e = entry_for(name, meta ? *meta : st);
    e.size = static_cast<std::uint64_t>(st.st_size);
    writer.header(e);
    Sha256 sum;
    std::uint64_t left = e.size;
    // Bounded by the size recorded in the header: a file that grows is cut there; one that shrinks
    // is padded with zeros (the sum is of what the archive holds).
    while (left > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
      std::size_t n = read_some(fd, buffer.data(), want, source);
      if (n == 0) {
        std::fill(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(want), 0);
        n = want;
      }
      sum.update(buffer.data(), n);
      writer.data(buffer.data(), n);
      left -= n;
    }
    e.sha256 = sum.hex();
    manifest.entries.push_back(std::move(e));
    if (manifest.entries.size() > kMaxEntries)
      throw Error("more than " + std::to_string(kMaxEntries) + " files to back up");
  }

  void add_directory(const std::string& name, const struct stat& st) {
    ManifestEntry e = entry_for(name, st);
    writer.header(e);
    manifest.entries.push_back(std::move(e));
  }

  void add_tree(const std::string& system_path) {
    fs::path top = layout.map(system_path);
    if (is_excluded(top)) return;
    struct stat st {};
    if (::lstat(top.c_str(), &st) != 0) return;  // not on this machine (another mode, no DNS)
    std::string name = system_path.substr(1);
    if (S_ISREG(st.st_mode)) return add_file(name, top, nullptr);
    if (!S_ISDIR(st.st_mode)) {
      ++manifest.skipped;
      return;
    }
    add_directory(name, st);
    std::error_code ec;
    fs::recursive_directory_iterator it(top, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw Error("reading " + top.string() + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw Error("reading " + top.string() + ": " + ec.message());
      const fs::path& p = it->path();
      if (is_excluded(p)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it.depth() > 64) {
        it.disable_recursion_pending();
        ++manifest.skipped;
        continue;
      }
      std::string entry = name + "/" + p.lexically_relative(top).string();
      if (!entry_path_problem(entry).empty()) {  // e.g. a control character in a file name
        ++manifest.skipped;
        continue;
      }
      struct stat est {};
      if (::lstat(p.c_str(), &est) != 0) {
        ++manifest.skipped;  // vanished
        continue;
      }
      if (S_ISDIR(est.st_mode))
        add_directory(entry, est);
      else if (S_ISREG(est.st_mode))
        add_file(entry, p, nullptr);
      else
        ++manifest.skipped;  // symlinks (packaged ones come back with the package), sockets
    }
  }
};

// A consistent copy of the live SQLite store through the online backup API, into dest.
void snapshot_store(const fs::path& live, const fs::path& dest) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  struct Close {
    sqlite3*& db;
    ~Close() { sqlite3_close_v2(db); }
  } close_src{src}, close_dst{dst};
  if (sqlite3_open_v2(live.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw Error("opening the store " + live.string() + ": " +
                (src ? sqlite3_errmsg(src) : "out of memory"));
  sqlite3_busy_timeout(src, 5000);
  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("creating " + dest.string() + ": " + errno_text(errno));
  ::close(fd);
  if (sqlite3_open_v2(dest.c_str(), &dst, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    throw Error("opening the snapshot " + dest.string());
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) throw Error("snapshot of the store: " + std::string(sqlite3_errmsg(dst)));
  int rc = SQLITE_OK;
  // Bounded: a writer holding the lock is waited for at most 100 x 100 ms.
  for (int attempt = 0; attempt < 100; ++attempt) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE)
    throw Error("snapshot of the store " + live.string() + ": " + sqlite3_errstr(rc));
  sqlite3_stmt* check = nullptr;
  std::string verdict;
  if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &check, nullptr) == SQLITE_OK &&
      sqlite3_step(check) == SQLITE_ROW)
    verdict = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
  sqlite3_finalize(check);
  if (verdict != "ok") throw Error("the snapshot of the store fails its check: " + verdict);
}

class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fs::path file = dir / ".lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) throw Error("opening " + file.string() + ": " + errno_text(errno));
    // Bounded: another backup of the same directory gets 10 minutes.
    for (int i = 0; i < 6000; ++i) {
      if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::close(fd_);
    throw Error("another backup holds " + file.string() + " (waited 10 minutes)");
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

void ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error("creating " + dir.string() + ": " + errno_text(errno));
}

std::vector<ArchiveName> archives_in(const fs::path& dir) {
  std::vector<ArchiveName> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return out;
  std::size_t seen = 0;
  for (; it != fs::directory_iterator() && seen < 100000; it.increment(ec), ++seen) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    if (auto name = parse_archive_name(it->path().filename().string())) out.push_back(*name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

struct ArchiveInput {
  int fd = -1;
  fs::path path;
  std::unique_ptr<DecryptingSource> cipher;
  std::vector<unsigned char> buffer = std::vector<unsigned char>(kBuffer);
  std::string error;
};

la_ssize_t input_read(struct archive* a, void* client, const void** data) {
  auto* in = static_cast<ArchiveInput*>(client);
  try {
    std::size_t n = in->cipher ? in->cipher->read(in->buffer.data(), in->buffer.size())
                               : read_some(in->fd, in->buffer.data(), in->buffer.size(), in->path);
    *data = in->buffer.data();
    return static_cast<la_ssize_t>(n);
  } catch (const std::exception& e) {
    in->error = e.what();
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

int input_close(struct archive*, void*) { return ARCHIVE_OK; }

struct ReadOutcome {
  Manifest manifest;
  bool encrypted = false;
};

// Reads the whole archive; each file's bytes go to sink (may be null) after its entry passed the
// name check. Throws Error on anything wrong.
ReadOutcome read_archive(const fs::path& archive_path, const std::string& passphrase,
                         const fs::path* staging) {
  const std::string shown = archive_path.filename().string();
  int fd = ::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + archive_path.string() + ": " + errno_text(errno));
  Fd closer(fd);
  ArchiveInput in;
  in.fd = fd;
  in.path = archive_path;
  ReadOutcome outcome;
  unsigned char magic[8];
  ssize_t got = ::pread(fd, magic, sizeof magic, 0);
  outcome.encrypted = got == sizeof magic && looks_encrypted(magic, sizeof magic);
  if (outcome.encrypted) {
    if (passphrase.empty())
      throw Error(shown +
                  " is encrypted: give the passphrase (backup.passphrase_file in the "
                  "profile, or --passphrase-file)");
    try {
      in.cipher = std::make_unique<DecryptingSource>(
          [fd, &archive_path](unsigned char* d, std::size_t n) {
            return read_some(fd, d, n, archive_path);
          },
          passphrase);
    } catch (const WrongPassphrase&) {
      throw WrongPassphrase(shown + ": wrong passphrase (or the archive's header is damaged)");
    }
  }

  std::unique_ptr<struct archive, decltype(&archive_read_free)> a(archive_read_new(),
                                                                  archive_read_free);
  if (!a || archive_read_support_filter_zstd(a.get()) != ARCHIVE_OK ||
      archive_read_support_format_tar(a.get()) != ARCHIVE_OK)
    throw Error("libarchive: no zstd/tar support");
  auto damaged = [&](const std::string& what) -> Error {
    std::string why = !in.error.empty()               ? in.error
                      : archive_error_string(a.get()) ? archive_error_string(a.get())
                                                      : "unexpected end of data";
    return Error(shown + " is truncated or damaged (" + what + "): " + why);
  };
  if (archive_read_open(a.get(), &in, nullptr, input_read, input_close) != ARCHIVE_OK)
    throw damaged("opening");

  std::map<std::string, ManifestEntry> read;
  std::string manifest_text, manifest_sum;
  std::vector<unsigned char> buffer(kBuffer);
  int stage = 0;  // 0: data entries, 1: manifest read, 2: its sum read
  for (std::size_t count = 0;; ++count) {
    if (count > kMaxEntries + 2) throw Error(shown + ": more than the allowed number of entries");
    struct archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) throw damaged("reading an entry header");
    const char* raw_name = archive_entry_pathname(entry);
    std::string raw = raw_name ? raw_name : "";
    std::string why = entry_path_problem(raw);
    if (!why.empty())
      throw Error(shown + ": refusing entry '" + raw.substr(0, 200) + "': " + why +
                  "; nothing was restored");
    std::string name = normalized_entry(raw);
    auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR)
      throw Error(shown + ": refusing entry '" + name +
                  "': only regular files and directories are restored");
    if (stage == 2) throw Error(shown + ": entry '" + name + "' after the manifest's sum");
    bool is_meta = name == kManifestEntry || name == kManifestSumEntry;
    if (stage == 1 && name != kManifestSumEntry)
      throw Error(shown + ": entry '" + name + "' after the manifest");
    if (is_meta && type != AE_IFREG) throw Error(shown + ": the manifest is not a file");
    if (!is_meta && read.count(name)) throw Error(shown + ": entry '" + name + "' appears twice");
    if (!is_meta && read.size() >= kMaxEntries) throw Error(shown + ": too many entries");

    ManifestEntry r;
    r.path = name;
    r.directory = type == AE_IFDIR;
    int out_fd = -1;
    if (staging && !is_meta) {
      fs::path dest = *staging / name;
      std::error_code ec;
      if (r.directory) {
        fs::create_directories(dest, ec);
        if (ec) throw Error("staging " + dest.string() + ": " + ec.message());
      } else {
        fs::create_directories(dest.parent_path(), ec);
        if (ec) throw Error("staging " + dest.string() + ": " + ec.message());
        out_fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out_fd < 0) throw Error("staging " + dest.string() + ": " + errno_text(errno));
      }
    }
    Fd out_closer(out_fd);
    Sha256 sum;
    std::uint64_t size = 0;
    std::string meta_text;
    // Bounded by the entry's size: libarchive returns 0 at its end.
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n < 0) throw damaged("reading " + name);
      if (n == 0) break;
      sum.update(buffer.data(), static_cast<std::size_t>(n));
      size += static_cast<std::uint64_t>(n);
      if (is_meta) {
        if (meta_text.size() + static_cast<std::size_t>(n) > kMaxManifestBytes)
          throw Error(shown + ": the manifest is larger than allowed");
        meta_text.append(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(n));
      }
      if (out_fd >= 0) write_all(out_fd, buffer.data(), static_cast<std::size_t>(n), name);
    }
    if (name == kManifestEntry) {
      if (stage != 0) throw Error(shown + ": two manifests");
      manifest_text = std::move(meta_text);
      stage = 1;
      continue;
    }
    if (name == kManifestSumEntry) {
      if (stage != 1) throw Error(shown + ": the manifest's sum without a manifest");
      manifest_sum = std::move(meta_text);
      stage = 2;
      continue;
    }
    r.size = size;
    if (!r.directory) r.sha256 = sum.hex();
    read.emplace(name, std::move(r));
  }
  if (stage != 2)
    throw Error(shown + " is truncated or damaged: it ends before its manifest" +
                (in.error.empty() ? std::string() : " (" + in.error + ")"));
  while (!manifest_sum.empty() && (manifest_sum.back() == '\n' || manifest_sum.back() == ' '))
    manifest_sum.pop_back();
  if (sha256_hex(manifest_text) != manifest_sum)
    throw Error(shown + " is damaged: its manifest does not match the manifest's sha256");
  try {
    outcome.manifest = manifest_from_json(manifest_text);
  } catch (const Error& e) {
    throw Error(shown + " is damaged: " + e.what());
  }
  std::string differences = compare_with_manifest(outcome.manifest, read);
  if (!differences.empty())
    throw Error(shown + " is damaged: the files do not match its manifest:\n" + differences);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Restoring

struct Placer {
  const Layout& layout;
  Accounts accounts;
  RestoreResult& result;
  fs::path previous_root;  // layout-mapped /var/lib/firstboot/backup/restore-<stamp>
  std::set<fs::path> dirs_to_sync;
  std::set<std::string> missing_names;
  std::vector<unsigned char> buffer = std::vector<unsigned char>(kBuffer);

  std::pair<uid_t, gid_t> ids_for(const ManifestEntry& e) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (auto u = accounts.uid(e.owner))
      uid = *u;
    else if (!e.owner.empty() && missing_names.insert("user " + e.owner).second)
      result.warnings.push_back("user " + e.owner + " does not exist here; its files stay root's");
    if (auto g = accounts.gid(e.group))
      gid = *g;
    else if (!e.group.empty() && missing_names.insert("group " + e.group).second)
      result.warnings.push_back("group " + e.group +
                                " does not exist here; its files stay in group root");
    return {uid, gid};
  }

  mode_t mode_for(const ManifestEntry& e) const { return e.mode & 03777; }  // never setuid

  void set_attrs(int fd, const ManifestEntry& e, const fs::path& shown) {
    if (::geteuid() == 0) {
      auto [uid, gid] = ids_for(e);
      if (::fchown(fd, uid, gid) != 0)
        throw Error("setting the owner of " + shown.string() + ": " + errno_text(errno));
    }
    if (::fchmod(fd, mode_for(e)) != 0)
      throw Error("setting the mode of " + shown.string() + ": " + errno_text(errno));
  }

  // Keeps what a restore replaces, under the previous-files directory.
  void keep_previous(const fs::path& dest, const std::string& name) {
    if (previous_root.empty()) {
      auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      std::tm tm{};
      gmtime_r(&now, &tm);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
      fs::path base = layout.map("/var/lib/firstboot/backup");
      std::error_code ec;
      fs::create_directories(base, ec);
      ::chmod(base.c_str(), 0700);
      previous_root = base / (std::string("restore-") + stamp);
      ensure_private_dir(previous_root);
      result.previous_dir = previous_root;
    }
    fs::path keep = previous_root / name;
    std::error_code ec;
    fs::create_directories(keep.parent_path(), ec);
    if (ec) throw Error("creating " + keep.parent_path().string() + ": " + ec.message());
    // Same file system: a rename moves it away; the new file then takes its place.
    if (::rename(dest.c_str(), keep.c_str()) == 0) return;
    if (errno != EXDEV)
      throw Error("keeping the previous " + dest.string() + ": " + errno_text(errno));
    fs::copy(dest, keep, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) throw Error("keeping the previous " + dest.string() + ": " + ec.message());
  }

  void ensure_parents(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    if (dir.has_parent_path() && dir.parent_path() != dir) ensure_parents(dir.parent_path());
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error("creating " + dir.string() + ": " + errno_text(errno));
  }

  void place_directory(const ManifestEntry& e) {
    fs::path dest = layout.map("/" + e.path);
    ensure_parents(dest.parent_path());
    struct stat st {};
    if (::stat(dest.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) keep_previous(dest, e.path);
    if (::mkdir(dest.c_str(), 0700) != 0 && errno != EEXIST)
      throw Error("creating " + dest.string() + ": " + errno_text(errno));
    int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw Error("opening " + dest.string() + ": " + errno_text(errno));
    Fd closer(fd);
    set_attrs(fd, e, dest);
    dirs_to_sync.insert(dest.parent_path());
  }

  bool same_file(const fs::path& dest, const ManifestEntry& e) {
    struct stat st {};
    if (::lstat(dest.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (static_cast<std::uint64_t>(st.st_size) != e.size || (st.st_mode & 07777) != mode_for(e))
      return false;
    if (::geteuid() == 0) {
      auto [uid, gid] = ids_for(e);
      if (st.st_uid != uid || st.st_gid != gid) return false;
    }
    int fd = ::open(dest.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    Fd closer(fd);
    Sha256 sum;
    for (std::uint64_t total = 0; total <= e.size;) {
      std::size_t n = read_some(fd, buffer.data(), buffer.size(), dest);
      if (n == 0) break;
      sum.update(buffer.data(), n);
      total += n;
    }
    return sum.hex() == e.sha256;
  }

  void place_file(const ManifestEntry& e, const fs::path& staged) {
    fs::path dest = layout.map("/" + e.path);
    ensure_parents(dest.parent_path());
    if (same_file(dest, e)) {
      ++result.unchanged;
      return;
    }
    struct stat st {};
    if (::lstat(dest.c_str(), &st) == 0) keep_previous(dest, e.path);
    fs::path tmp = temp_path_for(dest);
    ::unlink(tmp.c_str());
    if (::rename(staged.c_str(), tmp.c_str()) != 0) {
      if (errno != EXDEV) throw Error("placing " + dest.string() + ": " + errno_text(errno));
      int in = ::open(staged.c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) throw Error("reading " + staged.string() + ": " + errno_text(errno));
      Fd in_closer(in);
      int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0) throw Error("writing " + tmp.string() + ": " + errno_text(errno));
      Fd out_closer(out);
      for (std::uint64_t total = 0; total <= e.size;) {
        std::size_t n = read_some(in, buffer.data(), buffer.size(), staged);
        if (n == 0) break;
        write_all(out, buffer.data(), n, tmp);
        total += n;
      }
    }
    int fd = ::open(tmp.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw Error("opening " + tmp.string() + ": " + errno_text(errno));
    {
      Fd closer(fd);
      set_attrs(fd, e, dest);
      struct timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
      ::futimens(fd, times);
      if (::fsync(fd) != 0) throw Error("syncing " + tmp.string() + ": " + errno_text(errno));
    }
    if (::rename(tmp.c_str(), dest.c_str()) != 0)
      throw Error("placing " + dest.string() + ": " + errno_text(errno));
    dirs_to_sync.insert(dest.parent_path());
    ++result.placed;
  }
};

fs::path make_staging_dir() {
  const char* env = std::getenv("TMPDIR");
  fs::path base = env && *env ? fs::path(env) : fs::path("/var/tmp");
  std::string templ = (base / "firstboot-restore-XXXXXX").string();
  if (!::mkdtemp(templ.data()))
    throw Error("creating a staging directory under " + base.string() + ": " + errno_text(errno));
  return templ;
}

}  // namespace

CreateResult create_backup(const Layout& layout, const BackupSettings& settings, const Note& note,
                           ScryptParams scrypt) {
  if (settings.database != "sqlite" && !settings.database.empty())
    throw Error(
        "backing up a PostgreSQL store (pg_dump) is not available in this build yet: "
        "the PostgreSQL store itself is missing (issue 9); nothing was written");
  std::string passphrase;
  if (!settings.passphrase_file.empty())
    passphrase = read_passphrase_file(settings.passphrase_file);
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{passphrase};
  const bool encrypted = !passphrase.empty();

  ensure_private_dir(settings.dir);
  DirLock lock(settings.dir);
  // Leftovers of a backup that was killed: only ever partial, never listed.
  std::error_code ec;
  for (fs::directory_iterator it(settings.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(".firstboot-") &&
        (name.ends_with(".partial") || name.ends_with(".snapshot")))
      fs::remove_all(it->path(), ec);
  }

  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::string name;
  for (int seq = 0; seq < 1000; ++seq) {
    name = archive_name(now, seq, encrypted);
    if (!fs::exists(settings.dir / name)) break;
  }
  fs::path final_path = settings.dir / name;
  fs::path temp = settings.dir / (".firstboot-" + name + ".partial");
  fs::path snapshot = settings.dir / (".firstboot-" + name + ".snapshot");

  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("creating " + temp.string() + ": " + errno_text(errno));
  struct Cleanup {
    fs::path temp, snapshot;
    bool keep = false;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(snapshot, ec);
      if (!keep) fs::remove(temp, ec);
    }
  } cleanup{temp, snapshot};
  Fd closer(fd);

  CreateResult result;
  result.encrypted = encrypted;
  Manifest& manifest = result.manifest;
  manifest.created_unix = now;
  manifest.created = iso_time(now);
  manifest.hostname = settings.hostname;
  manifest.firstboot_version = engine_version();
  manifest.profile_digest = settings.profile_digest;
  manifest.database = "sqlite";

  ArchiveOutput out;
  out.fd = fd;
  out.path = temp;
  if (encrypted)
    out.cipher = std::make_unique<EncryptingSink>(
        [fd, &temp](const unsigned char* d, std::size_t n) { write_all(fd, d, n, temp); },
        passphrase, scrypt);
  {
    ArchiveWriter writer(out);
    Creator creator{layout, writer, Accounts(layout), manifest, {}, {}};
    creator.excluded.insert(settings.dir);
    if (!settings.passphrase_file.empty()) creator.excluded.insert(settings.passphrase_file);
    for (const SavedPath& saved : saved_paths()) {
      if (std::string(saved.system_path) == kStorePath) {
        fs::path live = layout.map(kStorePath);
        struct stat st {};
        if (::stat(live.c_str(), &st) != 0) {
          note("no user store at " + live.string() + " (nothing provisioned in mode full/local?)");
          continue;
        }
        snapshot_store(live, snapshot);
        creator.add_file(std::string(kStorePath).substr(1), snapshot, &st);
        continue;
      }
      creator.add_tree(saved.system_path);
    }
    std::string text = manifest_to_json(manifest);
    auto add_meta = [&](const char* entry, const std::string& content) {
      ManifestEntry e;
      e.path = entry;
      e.mode = 0600;
      e.mtime = now;
      e.size = content.size();
      writer.header(e);
      writer.data(reinterpret_cast<const unsigned char*>(content.data()), content.size());
    };
    add_meta(kManifestEntry, text);
    add_meta(kManifestSumEntry, sha256_hex(text) + "\n");
    writer.close();
  }
  if (out.cipher) out.cipher->finish();
  if (::fsync(fd) != 0) throw Error("syncing " + temp.string() + ": " + errno_text(errno));
  struct stat st {};
  ::fstat(fd, &st);
  result.archive_bytes = static_cast<std::uint64_t>(st.st_size);
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) != 0)
    throw Error("moving the archive into place as " + final_path.string() + ": " +
                errno_text(errno));
  cleanup.keep = true;
  fsync_dir(settings.dir);
  result.archive = final_path;

  for (const std::string& old :
       expired_archives(archives_in(settings.dir), settings.keep, settings.max_age_days, now)) {
    if (old == name) continue;
    if (fs::remove(settings.dir / old, ec)) result.removed.push_back(old);
  }
  if (!result.removed.empty()) fsync_dir(settings.dir);
  return result;
}

bool archive_is_encrypted(const fs::path& archive) {
  int fd = ::open(archive.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + archive.string() + ": " + errno_text(errno));
  Fd closer(fd);
  unsigned char magic[8];
  ssize_t got = ::pread(fd, magic, sizeof magic, 0);
  return got == sizeof magic && looks_encrypted(magic, sizeof magic);
}

std::vector<ArchiveListing> list_backups(const fs::path& dir, const std::string& passphrase) {
  auto names = archives_in(dir);
  std::sort(names.begin(), names.end(), [](const ArchiveName& a, const ArchiveName& b) {
    return a.created != b.created ? a.created < b.created : a.name < b.name;
  });
  std::vector<ArchiveListing> out;
  for (auto& n : names) {
    ArchiveListing l;
    l.name = n.name;
    l.path = dir / n.name;
    l.created = n.created;
    std::error_code ec;
    l.size = fs::file_size(l.path, ec);
    try {
      l.encrypted = archive_is_encrypted(l.path);
      if (l.encrypted && passphrase.empty()) {
        l.problem = "encrypted; no passphrase given";
      } else {
        ReadOutcome r = read_archive(l.path, passphrase, nullptr);
        l.files = r.manifest.file_count();
      }
    } catch (const std::exception& e) {
      l.problem = e.what();
    }
    out.push_back(std::move(l));
  }
  return out;
}

VerifyResult verify_backup(const fs::path& archive, const std::string& passphrase) {
  ReadOutcome r = read_archive(archive, passphrase, nullptr);
  return VerifyResult{std::move(r.manifest), r.encrypted};
}

RestoreResult restore_backup(const fs::path& archive, const std::string& passphrase,
                             const Layout& target, const Note& note,
                             const std::function<void()>& before_placing) {
  fs::path staging = make_staging_dir();
  struct Remove {
    fs::path dir;
    ~Remove() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove{staging};
  note("verifying " + archive.filename().string() + " (every file against its sha256)");
  ReadOutcome r = read_archive(archive, passphrase, &staging);
  note("verified " + std::to_string(r.manifest.file_count()) + " file(s); putting them in place");
  if (before_placing) before_placing();

  RestoreResult result;
  result.manifest = r.manifest;
  Placer placer{target, Accounts(target), result, {}, {}, {}};
  std::vector<const ManifestEntry*> dirs, files;
  for (auto& e : result.manifest.entries) (e.directory ? dirs : files).push_back(&e);
  // Parents before children: a parent's name is a prefix of its children's.
  std::sort(dirs.begin(), dirs.end(),
            [](const ManifestEntry* a, const ManifestEntry* b) { return a->path < b->path; });
  for (auto* e : dirs) placer.place_directory(*e);
  for (auto* e : files) placer.place_file(*e, staging / e->path);
  for (auto& dir : placer.dirs_to_sync) fsync_dir(dir);
  return result;
}

}  // namespace firstboot::backup
