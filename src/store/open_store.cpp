// open_store: picks the backend from profile.database and prepares the SQLite file (directory,
// mode, owner) before SQLite ever writes to it.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <system_error>

#include "engine/error.h"
#include "engine/layout.h"
#include "profile/profile.h"
#include "store/sql_store.h"
#include "store/sqlite_connection.h"
#include "store/store.h"
#include "store/store_paths.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

// The URL without its password, for messages: postgresql://user:secret@h/db ->
// postgresql://user@h/db.
std::string redact_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  auto at = url.rfind('@', authority_end == std::string::npos ? url.size() : authority_end);
  if (at == std::string::npos || at < authority_start) return url;
  auto colon = url.find(':', authority_start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

// The daemons' ids as the machine that runs them knows them: the image's own /etc/passwd and
// /etc/group for an offline tree (its ids may differ from the build host's), else this machine's.
struct Ids {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

Ids daemon_ids(const Layout& layout) {
  Ids ids;
  if (layout.target() != Target::offline) {
    if (struct passwd* pw = getpwnam(kStoreFileOwner)) ids.uid = pw->pw_uid;
    if (struct group* gr = getgrnam(kStoreFileGroup)) ids.gid = gr->gr_gid;
    return ids;
  }
  if (FILE* f = std::fopen(layout.map("/etc/passwd").c_str(), "re")) {
    while (struct passwd* pw = fgetpwent(f))
      if (std::strcmp(pw->pw_name, kStoreFileOwner) == 0) ids.uid = pw->pw_uid;
    std::fclose(f);
  }
  if (FILE* f = std::fopen(layout.map("/etc/group").c_str(), "re")) {
    while (struct group* gr = fgetgrent(f))
      if (std::strcmp(gr->gr_name, kStoreFileGroup) == 0) ids.gid = gr->gr_gid;
    std::fclose(f);
  }
  return ids;
}

// Creates the directories that are missing, each 0755; existing ones are left as they are.
void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (dir.has_parent_path() && dir.parent_path() != dir) ensure_directory(dir.parent_path());
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error("creating " + dir.string() + ": " + errno_text(errno));
  if (chmod(dir.c_str(), 0755) != 0)
    throw Error("setting the mode of " + dir.string() + ": " + errno_text(errno));
}

}  // namespace

void prepare_store_file(const Layout& layout) {
  fs::path file = layout.map(kStoreSystemPath);
  ensure_directory(file.parent_path());
  // Created empty (a valid empty SQLite database) with its final mode and owner, so no row ever
  // lands in a file others could read.
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, kStoreFileMode);
  if (fd < 0) throw Error("opening database " + file.string() + ": " + errno_text(errno));
  struct Close {
    int fd;
    ~Close() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) throw Error("reading " + file.string() + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw Error("database " + file.string() + " is not a regular file");
  if ((st.st_mode & 07777) != kStoreFileMode && fchmod(fd, kStoreFileMode) != 0)
    throw Error("setting the mode of " + file.string() + ": " + errno_text(errno));
  // Only root can give the file to the daemons' users; an unprivileged run (tests) keeps its own.
  if (geteuid() != 0) return;
  Ids ids = daemon_ids(layout);
  uid_t uid = ids.uid.value_or(st.st_uid);
  gid_t gid = ids.gid.value_or(st.st_gid);
  if ((uid != st.st_uid || gid != st.st_gid) && fchown(fd, uid, gid) != 0)
    throw Error("setting the owner of " + file.string() + ": " + errno_text(errno));
}

std::string store_location(const Layout& layout) {
  // An offline image's daemons run after boot and see the system path; a sandbox's daemons run
  // now and read the file where it is.
  if (layout.target() == Target::offline) return kStoreSystemPath;
  return layout.map(kStoreSystemPath).string();
}

std::unique_ptr<Store> open_store(const Profile& profile, const Layout& layout, bool read_only) {
  const std::string& database = profile.database;
  if (database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0)
    throw Error("database " + redact_url(database) +
                ": the PostgreSQL store is not available in this build yet");
  if (database != "sqlite" && !database.empty())
    throw Error("database '" + redact_url(database) +
                "': expected \"sqlite\" or a postgresql:// URL");

  fs::path file = layout.map(kStoreSystemPath);
  std::unique_ptr<SqlConnection> db;
  if (read_only) {
    db = SqliteConnection::open_memory_copy(file);
  } else {
    prepare_store_file(layout);
    db = SqliteConnection::open_file(file);
  }
  auto store = std::make_unique<SqlStore>(std::move(db), store_location(layout), read_only);
  store->migrate();
  return store;
}

}  // namespace firstboot
