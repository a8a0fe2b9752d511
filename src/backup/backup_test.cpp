#include "backup/backup.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "backup/contents.h"
#include "backup/manifest.h"
#include "backup/retention.h"
#include "backup/stream_cipher.h"
#include "crypto/keys.h"
#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"

namespace firstboot::backup {
namespace {

namespace fs = std::filesystem;
using firstboot::testing::ScratchDir;

constexpr ScryptParams kFastScrypt{10, 8, 1};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void put(const fs::path& path, const std::string& text, mode_t mode = 0644) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

// ---- entry names -------------------------------------------------------------------------------

TEST(BackupPaths, SavedEntriesPass) {
  EXPECT_EQ(entry_path_problem("var/vmail"), "");
  EXPECT_EQ(entry_path_problem("var/vmail/"), "");
  EXPECT_EQ(entry_path_problem("var/vmail/example.com/alice/Maildir/cur/1.host:2,S"), "");
  EXPECT_EQ(entry_path_problem("etc/opendkim/keys/example.com/mail.private"), "");
  EXPECT_EQ(entry_path_problem("var/lib/firstboot/users.sqlite"), "");
  EXPECT_EQ(entry_path_problem(kManifestEntry), "");
}

TEST(BackupPaths, UnsafeEntriesAreRefused) {
  EXPECT_EQ(entry_path_problem("/etc/passwd"), "an absolute path");
  EXPECT_EQ(entry_path_problem("../etc/passwd"), "a '..' component");
  EXPECT_EQ(entry_path_problem("var/vmail/../../etc/shadow"), "a '..' component");
  EXPECT_EQ(entry_path_problem("var/vmail/./x"), "a '.' component");
  EXPECT_EQ(entry_path_problem("var/vmail//x"), "an empty path component");
  EXPECT_EQ(entry_path_problem("etc/shadow"), "a path outside what a backup saves");
  EXPECT_EQ(entry_path_problem("var/vmailx/a"), "a path outside what a backup saves");
  EXPECT_EQ(entry_path_problem("var/lib/firstboot/journal.json"),
            "a path outside what a backup saves");
  EXPECT_EQ(entry_path_problem(std::string("var/vmail/a\nb")), "a control character in the name");
  EXPECT_EQ(entry_path_problem(""), "an empty name");
  EXPECT_EQ(entry_path_problem(std::string(5000, 'a')), "a name longer than 4096 bytes");
}

// ---- manifest ----------------------------------------------------------------------------------

Manifest sample_manifest() {
  Manifest m;
  m.created = "2026-12-02T16:25:54Z";
  m.created_unix = 1796228754;
  m.hostname = "mail.example.com";
  m.firstboot_version = "0.1.0";
  m.profile_digest = std::string(64, 'a');
  m.database = "sqlite";
  ManifestEntry dir;
  dir.path = "var/vmail";
  dir.directory = true;
  dir.mode = 0770;
  dir.owner = "mail";
  dir.group = "mail";
  dir.uid = 8;
  dir.gid = 8;
  ManifestEntry file;
  file.path = "etc/opendkim/keys/example.com/mail.private";
  file.size = 3;
  file.sha256 = std::string(64, 'b');
  file.mode = 0600;
  file.owner = "opendkim";
  file.group = "opendkim";
  file.mtime = 12345;
  m.entries = {dir, file};
  return m;
}

TEST(BackupManifest, RoundTrip) {
  Manifest m = sample_manifest();
  Manifest back = manifest_from_json(manifest_to_json(m));
  EXPECT_EQ(back.hostname, m.hostname);
  EXPECT_EQ(back.created_unix, m.created_unix);
  ASSERT_EQ(back.entries.size(), 2U);
  EXPECT_TRUE(back.entries[0].directory);
  EXPECT_EQ(back.entries[0].mode, 0770U);
  EXPECT_EQ(back.entries[0].owner, "mail");
  EXPECT_EQ(back.entries[1].sha256, std::string(64, 'b'));
  EXPECT_EQ(back.entries[1].mode, 0600U);
  EXPECT_EQ(back.entries[1].mtime, 12345);
  EXPECT_EQ(back.file_count(), 1U);
  EXPECT_EQ(back.total_bytes(), 3U);
}

TEST(BackupManifest, MalformedIsRefused) {
  auto with_path = [](const std::string& path) {
    Manifest m = sample_manifest();
    m.entries[1].path = path;
    return manifest_to_json(m);
  };
  EXPECT_THROW(manifest_from_json(with_path("../etc/shadow")), Error);
  EXPECT_THROW(manifest_from_json(with_path("/etc/opendkim/keys/x")), Error);
  EXPECT_THROW(manifest_from_json(with_path("var/vmail")), Error);  // listed twice
  EXPECT_THROW(manifest_from_json("{not json"), Error);
  EXPECT_THROW(manifest_from_json("[]"), Error);
  Manifest bad_sum = sample_manifest();
  bad_sum.entries[1].sha256 = "xyz";
  EXPECT_THROW(manifest_from_json(manifest_to_json(bad_sum)), Error);
  std::string future = manifest_to_json(sample_manifest());
  future.replace(future.find("\"format\": 1"), 11, "\"format\": 9");
  EXPECT_THROW(manifest_from_json(future), Error);
}

TEST(BackupManifest, ComparisonFindsEveryKindOfDifference) {
  Manifest m = sample_manifest();
  std::map<std::string, ManifestEntry> read;
  for (auto& e : m.entries) read[e.path] = e;
  EXPECT_EQ(compare_with_manifest(m, read), "");
  auto changed = read;
  changed[m.entries[1].path].sha256 = std::string(64, 'c');
  EXPECT_NE(compare_with_manifest(m, changed).find("does not match"), std::string::npos);
  auto shorter = read;
  shorter[m.entries[1].path].size = 2;
  EXPECT_NE(compare_with_manifest(m, shorter).find("2 bytes in the archive"), std::string::npos);
  auto missing = read;
  missing.erase(m.entries[1].path);
  EXPECT_NE(compare_with_manifest(m, missing).find("missing from the archive"), std::string::npos);
  auto extra = read;
  extra["var/vmail/x"] = m.entries[1];
  EXPECT_NE(compare_with_manifest(m, extra).find("not in the manifest"), std::string::npos);
}

// ---- encryption --------------------------------------------------------------------------------

std::string encrypt(const std::string& plain, const std::string& passphrase) {
  std::string out;
  EncryptingSink sink([&](const unsigned char* d,
                          std::size_t n) { out.append(reinterpret_cast<const char*>(d), n); },
                      passphrase, kFastScrypt);
  // Uneven pieces, so chunk boundaries fall inside writes.
  std::size_t pos = 0, step = 1;
  while (pos < plain.size()) {
    std::size_t n = std::min(step, plain.size() - pos);
    sink.write(reinterpret_cast<const unsigned char*>(plain.data() + pos), n);
    pos += n;
    step = step * 3 + 7;
  }
  sink.finish();
  return out;
}

std::string decrypt(const std::string& sealed, const std::string& passphrase) {
  std::size_t pos = 0;
  DecryptingSource source(
      [&](unsigned char* d, std::size_t n) {
        n = std::min(n, sealed.size() - pos);
        std::memcpy(d, sealed.data() + pos, n);
        pos += n;
        return n;
      },
      passphrase);
  std::string out;
  unsigned char buf[10000];
  for (int i = 0; i < 100000; ++i) {
    std::size_t n = source.read(buf, sizeof buf);
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf), n);
  }
  return out;
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7919) % 251);
  return s;
}

TEST(BackupCipher, RoundTripAtEverySize) {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{kChunkSize - 1}, std::size_t{kChunkSize},
        std::size_t{kChunkSize + 1}, std::size_t{3 * kChunkSize}, std::size_t{200000}}) {
    std::string plain = pattern(size);
    std::string sealed = encrypt(plain, "correct horse");
    EXPECT_TRUE(looks_encrypted(sealed.data(), sealed.size()));
    if (plain.size() >= 64) {
      EXPECT_EQ(sealed.find(plain.substr(0, 64)), std::string::npos);
    }
    EXPECT_EQ(decrypt(sealed, "correct horse"), plain) << size;
  }
  // A fresh salt each time: the same input never gives the same bytes.
  EXPECT_NE(encrypt("same", "p"), encrypt("same", "p"));
}

TEST(BackupCipher, WrongPassphraseIsRefused) {
  std::string sealed = encrypt(pattern(1000), "correct horse");
  EXPECT_THROW(decrypt(sealed, "battery staple"), WrongPassphrase);
}

TEST(BackupCipher, EveryTamperedByteIsDetected) {
  std::string plain = pattern(2 * kChunkSize + 100);
  std::string sealed = encrypt(plain, "pw");
  // Header, key check, first chunk, a tag, the middle chunk, the last chunk.
  for (std::size_t at :
       {std::size_t{0}, std::size_t{9}, std::size_t{20}, std::size_t{40},
        std::size_t{kHeaderSize + 5}, std::size_t{kHeaderSize + kChunkSize + 3},
        std::size_t{kHeaderSize + kChunkSize + kTagSize + 10}, sealed.size() - 1}) {
    std::string bad = sealed;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    EXPECT_ANY_THROW(decrypt(bad, "pw")) << "byte " << at;
  }
}

TEST(BackupCipher, TruncationAndAppendingAreDetected) {
  std::string sealed = encrypt(pattern(2 * kChunkSize + 100), "pw");
  std::size_t chunk = kChunkSize + kTagSize;
  for (std::size_t keep : {std::size_t{10}, kHeaderSize, kHeaderSize + 5, kHeaderSize + chunk,
                           kHeaderSize + 2 * chunk, sealed.size() - 1}) {
    EXPECT_ANY_THROW(decrypt(sealed.substr(0, keep), "pw")) << "cut at " << keep;
  }
  EXPECT_ANY_THROW(decrypt(sealed + "x", "pw"));
}

TEST(BackupCipher, PassphraseFile) {
  ScratchDir dir;
  put(dir / "p", "secret words\nignored\n", 0600);
  EXPECT_EQ(read_passphrase_file((dir / "p").string()), "secret words");
  put(dir / "empty", "\n", 0600);
  EXPECT_THROW(read_passphrase_file((dir / "empty").string()), Error);
  put(dir / "long", std::string(2000, 'x'), 0600);
  EXPECT_THROW(read_passphrase_file((dir / "long").string()), Error);
  try {
    read_passphrase_file((dir / "long").string());
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("xxxx"), std::string::npos);  // never the content
  }
}

// ---- retention ---------------------------------------------------------------------------------

TEST(BackupRetention, NamesRoundTrip) {
  auto parsed = parse_archive_name(archive_name(1796228754, 0, false));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->created, 1796228754);
  EXPECT_EQ(archive_name(1796228754, 2, true), parsed->name.substr(0, 26) + "-2.tar.zst.enc");
  EXPECT_TRUE(parse_archive_name(archive_name(1796228754, 2, true)));
  EXPECT_FALSE(parse_archive_name("firstboot-2026.tar.zst"));
  EXPECT_FALSE(parse_archive_name("other-20261202T162554Z.tar.zst"));
  EXPECT_FALSE(parse_archive_name(".firstboot-20261202T162554Z.tar.zst.partial"));
  EXPECT_FALSE(parse_archive_name("firstboot-20261302T162554Z.tar.zst"));
}

TEST(BackupRetention, KeepsByCountAndAge) {
  const std::int64_t day = 86400, now = 1796228754;
  std::vector<ArchiveName> archives;
  for (int i = 0; i < 10; ++i)
    archives.push_back({archive_name(now - i * day, 0, false), now - i * day});
  // Count only.
  auto gone = expired_archives(archives, 3, 0, now);
  EXPECT_EQ(gone.size(), 7U);
  for (auto& name : gone) EXPECT_NE(name, archives[0].name);
  // Age only: older than 4 days.
  gone = expired_archives(archives, 100, 4, now);
  EXPECT_EQ(gone.size(), 5U);  // 5..9 days old
  // Both: the stricter wins.
  EXPECT_EQ(expired_archives(archives, 2, 4, now).size(), 8U);
  // The newest stays even when it is too old.
  std::vector<ArchiveName> old = {{archive_name(now - 100 * day, 0, false), now - 100 * day}};
  EXPECT_TRUE(expired_archives(old, 1, 30, now).empty());
  // Same second: the later sequence is the newer.
  std::vector<ArchiveName> same = {{archive_name(now, 0, false), now},
                                   {archive_name(now, 1, false), now}};
  EXPECT_EQ(expired_archives(same, 1, 0, now),
            std::vector<std::string>{archive_name(now, 0, false)});
}

// ---- create, verify, restore -------------------------------------------------------------------

void make_store(const fs::path& file) {
  fs::create_directories(file.parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE users (address TEXT PRIMARY KEY, password_hash TEXT);"
                         "INSERT INTO users VALUES ('alice@example.com', '$y$hash');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ::chmod(file.c_str(), 0640);
}

std::string store_user(const fs::path& file) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, "SELECT address FROM users", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

struct Machine {
  ScratchDir scratch;
  Layout layout = Layout::sandbox(scratch / "sandbox");
  fs::path path(const std::string& system) const { return layout.map(system); }

  void provision() {
    put(path("/var/vmail/example.com/alice/Maildir/cur/1.host:2,S"), "Subject: hi\n\nbody\n", 0600);
    put(path("/var/vmail/example.com/alice/Maildir/new/2.host"), pattern(300000), 0600);
    fs::create_directories(path("/var/vmail/example.com/alice/Maildir/tmp"));
    ::chmod(path("/var/vmail").c_str(), 0770);
    put(path("/etc/opendkim/keys/example.com/mail.private"), "-----BEGIN PRIVATE KEY-----\nk\n",
        0600);
    put(path("/etc/firstboot/tls/self-signed/mail.example.com/privkey.pem"), "key", 0640);
    put(path("/etc/firstboot/profile.yaml"), "hostname: mail.example.com\n", 0600);
    put(path("/etc/postfix/main.cf"), "myhostname = mail.example.com\n");
    put(path("/var/lib/firstboot/journal.json"), "{}");  // not saved: machine state
    make_store(path("/var/lib/firstboot/users.sqlite"));
  }

  BackupSettings settings(const std::string& passphrase_file = "") const {
    BackupSettings s;
    s.dir = path("/var/backups/firstboot");
    s.passphrase_file = passphrase_file;
    s.hostname = "mail.example.com";
    return s;
  }
};

const std::vector<std::string> kSaved = {
    "/var/vmail/example.com/alice/Maildir/cur/1.host:2,S",
    "/var/vmail/example.com/alice/Maildir/new/2.host",
    "/etc/opendkim/keys/example.com/mail.private",
    "/etc/firstboot/tls/self-signed/mail.example.com/privkey.pem",
    "/etc/firstboot/profile.yaml",
    "/etc/postfix/main.cf",
};

void quiet(const std::string&) {}

TEST(BackupRoundTrip, CreateVerifyRestore) {
  Machine source;
  source.provision();
  CreateResult made = create_backup(source.layout, source.settings(), quiet);
  EXPECT_TRUE(fs::exists(made.archive));
  EXPECT_FALSE(made.encrypted);
  EXPECT_EQ(mode_of(made.archive), 0600U);
  EXPECT_EQ(made.manifest.file_count(), kSaved.size() + 1);  // + the store
  VerifyResult verified = verify_backup(made.archive, "");
  EXPECT_EQ(verified.manifest.file_count(), kSaved.size() + 1);

  Machine target;
  RestoreResult restored = restore_backup(made.archive, "", target.layout, quiet);
  EXPECT_EQ(restored.placed, kSaved.size() + 1);
  for (auto& file : kSaved) {
    EXPECT_EQ(slurp(target.path(file)), slurp(source.path(file))) << file;
    EXPECT_EQ(mode_of(target.path(file)), mode_of(source.path(file))) << file;
  }
  EXPECT_EQ(mode_of(target.path("/var/vmail")), 0770U);
  EXPECT_TRUE(fs::is_directory(target.path("/var/vmail/example.com/alice/Maildir/tmp")));
  EXPECT_EQ(store_user(target.path("/var/lib/firstboot/users.sqlite")), "alice@example.com");
  EXPECT_EQ(mode_of(target.path("/var/lib/firstboot/users.sqlite")), 0640U);
  EXPECT_FALSE(fs::exists(target.path("/var/lib/firstboot/journal.json")));
  EXPECT_TRUE(restored.previous_dir.empty());

  // Again onto the same tree: nothing differs, nothing is replaced.
  RestoreResult again = restore_backup(made.archive, "", target.layout, quiet);
  EXPECT_EQ(again.placed, 0U);
  EXPECT_EQ(again.unchanged, kSaved.size() + 1);

  // A changed file is replaced and the previous one kept.
  put(target.path("/etc/postfix/main.cf"), "changed\n");
  RestoreResult third = restore_backup(made.archive, "", target.layout, quiet);
  EXPECT_EQ(third.placed, 1U);
  ASSERT_FALSE(third.previous_dir.empty());
  EXPECT_EQ(slurp(third.previous_dir / "etc/postfix/main.cf"), "changed\n");
  EXPECT_EQ(slurp(target.path("/etc/postfix/main.cf")), "myhostname = mail.example.com\n");
}

TEST(BackupRoundTrip, EncryptedArchive) {
  Machine source;
  source.provision();
  put(source.path("/etc/firstboot/backup.pass"), "correct horse\n", 0600);
  CreateResult made = create_backup(
      source.layout, source.settings(source.path("/etc/firstboot/backup.pass").string()), quiet,
      kFastScrypt);
  EXPECT_TRUE(made.encrypted);
  EXPECT_TRUE(archive_is_encrypted(made.archive));
  EXPECT_TRUE(made.archive.string().ends_with(".tar.zst.enc"));
  // The passphrase file itself is not in the archive.
  for (auto& e : made.manifest.entries) EXPECT_NE(e.path, "etc/firstboot/backup.pass");
  EXPECT_NO_THROW(verify_backup(made.archive, "correct horse"));
  EXPECT_THROW(verify_backup(made.archive, "wrong"), WrongPassphrase);
  EXPECT_THROW(verify_backup(made.archive, ""), Error);

  Machine target;
  EXPECT_THROW(restore_backup(made.archive, "wrong", target.layout, quiet), WrongPassphrase);
  EXPECT_FALSE(fs::exists(target.path("/")));
  restore_backup(made.archive, "correct horse", target.layout, quiet);
  EXPECT_EQ(slurp(target.path("/etc/opendkim/keys/example.com/mail.private")),
            slurp(source.path("/etc/opendkim/keys/example.com/mail.private")));
}

TEST(BackupRoundTrip, DamagedArchivesChangeNothing) {
  Machine source;
  source.provision();
  CreateResult made = create_backup(source.layout, source.settings(), quiet);
  std::string bytes = slurp(made.archive);
  Machine target;
  put(target.path("/etc/postfix/main.cf"), "theirs\n");
  auto attempt = [&](const std::string& content, const char* what) {
    fs::path bad = target.scratch / "bad.tar.zst";
    put(bad, content, 0600);
    EXPECT_ANY_THROW(verify_backup(bad, "")) << what;
    EXPECT_ANY_THROW(restore_backup(bad, "", target.layout, quiet)) << what;
    EXPECT_EQ(slurp(target.path("/etc/postfix/main.cf")), "theirs\n") << what;
    EXPECT_FALSE(fs::exists(target.path("/var/vmail"))) << what;
  };
  attempt(bytes.substr(0, bytes.size() / 2), "truncated in the middle");
  attempt(bytes.substr(0, bytes.size() - 1), "truncated by one byte");
  for (std::size_t at : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 20}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    attempt(flipped, "a flipped byte");
  }
  attempt("", "empty");
}

// An archive written by hand, with one entry of the given name (and a valid manifest of nothing).
void craft_archive(const fs::path& file, const std::string& entry_name, bool symlink = false) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_zstd(a);
  archive_write_open_filename(a, file.c_str());
  auto add = [&](const std::string& name, const std::string& data, bool link) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, link ? AE_IFLNK : AE_IFREG);
    if (link) archive_entry_set_symlink(e, "/etc");
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, link ? 0 : static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
    if (!link) archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  };
  add(entry_name, "evil\n", symlink);
  Manifest m = sample_manifest();
  m.entries.clear();
  std::string text = manifest_to_json(m);
  add(kManifestEntry, text, false);
  add(kManifestSumEntry, firstboot::sha256_hex(text) + "\n", false);
  archive_write_close(a);
  archive_write_free(a);
}

TEST(BackupRoundTrip, UnsafeEntriesAreRefusedBeforeAnythingIsWritten) {
  Machine target;
  for (auto [name, link] :
       std::vector<std::pair<std::string, bool>>{{"../escaped", false},
                                                 {"/etc/cron.d/evil", false},
                                                 {"var/vmail/../../etc/passwd", false},
                                                 {"etc/shadow", false},
                                                 {"var/vmail/link", true}}) {
    fs::path bad = target.scratch / "crafted.tar.zst";
    fs::remove(bad);
    craft_archive(bad, name, link);
    try {
      verify_backup(bad, "");
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("refusing entry"), std::string::npos) << e.what();
    }
    EXPECT_ANY_THROW(restore_backup(bad, "", target.layout, quiet)) << name;
    EXPECT_FALSE(fs::exists(target.path("/"))) << name;
    EXPECT_FALSE(fs::exists(target.scratch / "escaped"));
  }
}

TEST(BackupCreate, RetentionAfterCreate) {
  Machine source;
  source.provision();
  BackupSettings s = source.settings();
  s.keep = 2;
  s.max_age_days = 0;
  fs::create_directories(s.dir);
  std::int64_t now = std::time(nullptr);
  for (int i = 1; i <= 3; ++i) put(s.dir / archive_name(now - i * 86400, 0, false), "old", 0600);
  put(s.dir / "unrelated.txt", "keep me", 0600);
  CreateResult made = create_backup(source.layout, s, quiet);
  EXPECT_EQ(made.removed.size(), 2U);
  EXPECT_TRUE(fs::exists(made.archive));
  EXPECT_TRUE(fs::exists(s.dir / archive_name(now - 86400, 0, false)));
  EXPECT_FALSE(fs::exists(s.dir / archive_name(now - 3 * 86400, 0, false)));
  EXPECT_TRUE(fs::exists(s.dir / "unrelated.txt"));
  auto listed = list_backups(s.dir, "");
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_FALSE(listed[0].files.has_value());  // the fake "old" one is not an archive
  EXPECT_FALSE(listed[0].problem.empty());
  ASSERT_TRUE(listed[1].files.has_value());
  EXPECT_EQ(*listed[1].files, kSaved.size() + 1);
}

TEST(BackupCreate, PostgresqlIsRefusedByName) {
  Machine source;
  BackupSettings s = source.settings();
  s.database = "postgresql://mail@db.example.com/mail";
  try {
    create_backup(source.layout, s, quiet);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pg_dump"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("PostgreSQL store"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(s.dir));
}

}  // namespace
}  // namespace firstboot::backup
