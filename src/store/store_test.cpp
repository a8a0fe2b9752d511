#include "store/store.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"
#include "profile/profile.h"
#include "store/lookup_queries.h"
#include "store/schema.h"
#include "store/sql_store.h"
#include "store/sqlite_connection.h"
#include "store/store_paths.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct FileState {
  struct timespec mtime;
  std::string sha256;
};

FileState file_state(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(stat(p.c_str(), &st), 0);
  return {st.st_mtim, sha256_hex(file_bytes(p))};
}

// Backdates the file so any later write shows up in its mtime, whatever the clock resolution.
void backdate(const fs::path& p) {
  struct timespec times[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return {-1, out};
  char buf[512];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// 'x' -> the SQL literal body with quotes doubled, as Postfix and Dovecot escape lookup keys.
std::string sql_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out;
}

std::string substitute(std::string query, const std::string& var, const std::string& key) {
  for (auto pos = query.find(var); pos != std::string::npos; pos = query.find(var, pos + 1))
    query.replace(pos, var.size(), sql_escaped(key));
  return query;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(bool read_only = false) {
    return open_store(profile, layout, read_only);
  }
  fs::path db_file() const { return layout.map(kStoreSystemPath); }

  // Runs a query on the file directly, as a daemon's lookup would.
  std::vector<SqlRow> raw(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    auto conn = SqliteConnection::open_file(db_file());
    return conn->query(sql, params);
  }

  void fill(Store& s) {
    s.sync_domains({"example.com", "example.org"});
    s.sync_users({{"alice@example.com", "$y$j9T$abc$def", 1000000},
                  {"bob@example.org", "$y$j9T$ghi$jkl", 0}});
    s.sync_aliases({{"postmaster@example.com", "alice@example.com"},
                    {"abuse@example.com", "alice@example.com"},
                    {"team@example.com", "alice@example.com"},
                    {"team@example.com", "bob@example.org"}});
    s.put_dns_records(
        "example.com", "dkim",
        {{"example.com", "mail._domainkey", "TXT", 3600, "v=DKIM1; k=rsa; p=AAA", "dkim"}});
    s.put_dns_records("example.com", "mx",
                      {{"example.com", "@", "MX", 3600, "10 mail.example.com.", "mx"}});
    s.put_certificate({"mail.example.com", "self-signed", "ab12", "2030-01-01T00:00:00Z",
                       "/etc/ssl/firstboot/mail.example.com/fullchain.pem",
                       "/etc/ssl/firstboot/mail.example.com/privkey.pem"});
    s.verification_token("example.com");
  }

  testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path());
  Profile profile;
};

TEST_F(StoreTest, MigratesAnEmptyDatabaseToTheCurrentSchema) {
  auto s = open();
  EXPECT_EQ(s->schema_version(), current_schema_version());
  EXPECT_EQ(s->driver(), "sqlite");
  for (const char* table : {"domains", "users", "aliases", "dns_records", "certificates",
                            "schema_version", "mail_users", "sender_logins"})
    EXPECT_FALSE(
        raw("SELECT name FROM sqlite_master WHERE name = $1", {std::string(table)}).empty())
        << table;
  auto versions = raw("SELECT version FROM schema_version ORDER BY version");
  ASSERT_EQ(versions.size(), store_migrations().size());
  EXPECT_EQ(*versions.back()[0], std::to_string(current_schema_version()));
}

TEST_F(StoreTest, MigrateOnACurrentDatabaseWritesNothing) {
  open().reset();
  backdate(db_file());
  auto before = file_state(db_file());
  auto s = open();
  s->migrate();
  s->migrate();
  EXPECT_EQ(s->schema_version(), current_schema_version());
  s.reset();
  auto after = file_state(db_file());
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
  EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec);
  EXPECT_EQ(after.sha256, before.sha256);
}

TEST_F(StoreTest, RefusesADatabaseFromANewerVersion) {
  open().reset();
  raw("INSERT INTO schema_version (version, description, applied) VALUES (999, 'future', 'x')");
  try {
    open();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, KeepsRowsWhenMigratingFromAnOlderVersion) {
  // A database at version 1 with data keeps it when later steps apply (only version 1 exists
  // today: this checks that re-running migrate over existing data neither fails nor drops it).
  {
    auto s = open();
    fill(*s);
  }
  auto s = open();
  EXPECT_EQ(s->users().size(), 2u);
  EXPECT_EQ(s->aliases().size(), 4u);
}

TEST_F(StoreTest, SyncUsersReportsChangesOnly) {
  auto s = open();
  std::vector<UserRow> users = {{"alice@example.com", "$y$a", 0}, {"bob@example.com", "$y$b", 5}};
  EXPECT_TRUE(s->sync_users(users));
  EXPECT_FALSE(s->sync_users(users));
  users[1].quota_bytes = 6;
  EXPECT_TRUE(s->sync_users(users));
  EXPECT_FALSE(s->sync_users(users));
  users[0].password_hash = "$y$c";
  EXPECT_TRUE(s->sync_users(users));
  users.pop_back();
  EXPECT_TRUE(s->sync_users(users));
  auto stored = s->users();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].address, "alice@example.com");
  EXPECT_EQ(stored[0].password_hash, "$y$c");
  EXPECT_EQ(s->password_hash("alice@example.com"), "$y$c");
  EXPECT_EQ(s->password_hash("ALICE@Example.com"), "$y$c");
  EXPECT_FALSE(s->password_hash("bob@example.com"));
  // Case differences are not changes: addresses are stored lower case.
  EXPECT_FALSE(s->sync_users({{"Alice@EXAMPLE.com", "$y$c", 0}}));
}

TEST_F(StoreTest, UserRowsCarryWhatTheDaemonsQuery) {
  auto s = open();
  fill(*s);
  auto rows = raw("SELECT local_part, domain, maildir FROM users WHERE address = $1",
                  {std::string("alice@example.com")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0][0], "alice");
  EXPECT_EQ(*rows[0][1], "example.com");
  EXPECT_EQ(*rows[0][2], "example.com/alice/");
  auto dovecot =
      raw("SELECT password, quota_rule FROM mail_users WHERE address = 'alice@example.com'");
  ASSERT_EQ(dovecot.size(), 1u);
  EXPECT_EQ(*dovecot[0][0], "{CRYPT}$y$j9T$abc$def");
  EXPECT_EQ(*dovecot[0][1], "*:storage=1000000B");
  auto unlimited = raw("SELECT quota_rule FROM mail_users WHERE address = 'bob@example.org'");
  ASSERT_EQ(unlimited.size(), 1u);
  EXPECT_FALSE(unlimited[0][0]);
  // Postfix: one row per alias destination; who may send as an alias.
  EXPECT_EQ(raw("SELECT destination FROM aliases WHERE source = 'team@example.com'").size(), 2u);
  auto logins =
      raw("SELECT login FROM sender_logins WHERE sender = 'team@example.com' "
          "ORDER BY login");
  ASSERT_EQ(logins.size(), 2u);
  EXPECT_EQ(*logins[0][0], "alice@example.com");
  EXPECT_EQ(*logins[1][0], "bob@example.org");
  EXPECT_EQ(raw("SELECT login FROM sender_logins WHERE sender = 'alice@example.com'").size(), 1u);
  EXPECT_EQ(raw("SELECT 1 FROM domains WHERE name = 'example.org'").size(), 1u);
}

TEST_F(StoreTest, SyncDomainsAndAliasesReportChangesOnly) {
  auto s = open();
  EXPECT_TRUE(s->sync_domains({"example.com"}));
  EXPECT_FALSE(s->sync_domains({"example.com"}));
  EXPECT_FALSE(s->sync_domains({"EXAMPLE.com."}));
  EXPECT_TRUE(s->sync_domains({"example.com", "example.net"}));
  EXPECT_EQ(s->domains(), (std::vector<std::string>{"example.com", "example.net"}));
  EXPECT_TRUE(s->sync_domains({"example.net"}));
  EXPECT_EQ(s->domains(), std::vector<std::string>{"example.net"});

  std::vector<AliasRow> aliases = {{"a@example.net", "x@example.net"},
                                   {"a@example.net", "y@example.net"}};
  EXPECT_TRUE(s->sync_aliases(aliases));
  EXPECT_FALSE(s->sync_aliases(aliases));
  EXPECT_FALSE(s->sync_aliases({aliases[1], aliases[0], aliases[0]}));
  aliases.pop_back();
  EXPECT_TRUE(s->sync_aliases(aliases));
  EXPECT_EQ(s->aliases().size(), 1u);
  EXPECT_TRUE(s->sync_aliases({{"@example.net", "x@example.net"}}));  // catch-all
  EXPECT_TRUE(s->sync_aliases({}));
  EXPECT_TRUE(s->aliases().empty());
}

TEST_F(StoreTest, DnsRecordsAreReplacedPerGroup) {
  auto s = open();
  std::vector<DnsRecordRow> dkim = {
      {"example.com", "mail._domainkey", "TXT", 3600, "v=DKIM1; k=rsa; p=AAA", "dkim"},
      {"example.com", "ed._domainkey", "TXT", 3600, "v=DKIM1; k=ed25519; p=BBB", "dkim"}};
  std::vector<DnsRecordRow> spf = {{"", "@", "txt", 300, "v=spf1 mx -all", "spf"}};
  EXPECT_TRUE(s->put_dns_records("example.com", "dkim", dkim));
  EXPECT_TRUE(s->put_dns_records("example.com", "spf", spf));
  EXPECT_FALSE(s->put_dns_records("example.com", "dkim", dkim));
  EXPECT_FALSE(s->put_dns_records("example.com", "spf", spf));
  EXPECT_EQ(s->dns_records("example.com").size(), 3u);
  dkim[0].ttl = 600;
  EXPECT_TRUE(s->put_dns_records("example.com", "dkim", dkim));
  dkim.pop_back();
  EXPECT_TRUE(s->put_dns_records("example.com", "dkim", dkim));
  auto rows = s->dns_records("example.com");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "mail._domainkey");
  EXPECT_EQ(rows[0].ttl, 600);
  EXPECT_EQ(rows[1].type, "TXT");
  EXPECT_EQ(rows[1].domain, "example.com");
  EXPECT_TRUE(s->dns_records("example.org").empty());
  EXPECT_THROW(s->put_dns_records("example.com", "spf", {{"example.org", "@", "TXT", 1, "x", ""}}),
               Error);
}

TEST_F(StoreTest, CertificatesCompareBeforeWrite) {
  auto s = open();
  CertificateRow cert{"mail.example.com", "self-signed", "ab", "2030-01-01T00:00:00Z", "/f", "/k"};
  EXPECT_TRUE(s->put_certificate(cert));
  EXPECT_FALSE(s->put_certificate(cert));
  cert.source = "live";
  cert.sha256 = "cd";
  EXPECT_TRUE(s->put_certificate(cert));
  auto certs = s->certificates();
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].source, "live");
  EXPECT_EQ(certs[0].sha256, "cd");
}

TEST_F(StoreTest, IdenticalResyncLeavesTheFileUntouched) {
  fill(*open());
  backdate(db_file());
  auto before = file_state(db_file());
  {
    auto s = open();
    s->sync_domains({"example.com", "example.org"});
    EXPECT_FALSE(s->sync_users({{"alice@example.com", "$y$j9T$abc$def", 1000000},
                                {"bob@example.org", "$y$j9T$ghi$jkl", 0}}));
    EXPECT_FALSE(s->sync_aliases({{"postmaster@example.com", "alice@example.com"},
                                  {"abuse@example.com", "alice@example.com"},
                                  {"team@example.com", "alice@example.com"},
                                  {"team@example.com", "bob@example.org"}}));
    EXPECT_FALSE(s->sync_domains({"example.com", "example.org"}));
    EXPECT_FALSE(s->put_dns_records(
        "example.com", "dkim",
        {{"example.com", "mail._domainkey", "TXT", 3600, "v=DKIM1; k=rsa; p=AAA", "dkim"}}));
    EXPECT_FALSE(s->put_dns_records(
        "example.com", "mx", {{"example.com", "@", "MX", 3600, "10 mail.example.com.", "mx"}}));
    EXPECT_FALSE(
        s->put_certificate({"mail.example.com", "self-signed", "ab12", "2030-01-01T00:00:00Z",
                            "/etc/ssl/firstboot/mail.example.com/fullchain.pem",
                            "/etc/ssl/firstboot/mail.example.com/privkey.pem"}));
    s->verification_token("example.com");
    s->users();
    s->dns_records("example.com");
  }
  auto after = file_state(db_file());
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
  EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec);
  EXPECT_EQ(after.sha256, before.sha256);
  EXPECT_FALSE(fs::exists(db_file().string() + "-journal"));
  EXPECT_FALSE(fs::exists(db_file().string() + "-wal"));
}

TEST_F(StoreTest, VerificationTokensAreCreatedOnceAndKept) {
  std::string token;
  {
    auto s = open();
    token = s->verification_token("example.com");
    EXPECT_EQ(token.size(), 32u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(s->verification_token("Example.COM"), token);
    // Syncing the domain set keeps the existing row and its token.
    EXPECT_FALSE(s->sync_domains({"example.com"}));
    EXPECT_TRUE(s->sync_domains({"example.com", "example.org"}));
    EXPECT_NE(s->verification_token("example.org"), token);
  }
  auto s = open();
  EXPECT_EQ(s->verification_token("example.com"), token);
  auto plan = open(true);
  EXPECT_EQ(plan->verification_token("example.com"), token);
}

TEST_F(StoreTest, ReadOnlyNeverCreatesTheDatabase) {
  auto s = open(true);
  EXPECT_EQ(s->schema_version(), current_schema_version());
  EXPECT_TRUE(s->users().empty());
  EXPECT_TRUE(s->domains().empty());
  EXPECT_EQ(s->verification_token("example.com"), SqlStore::token_placeholder);
  EXPECT_EQ(s->verification_token("example.com"), SqlStore::token_placeholder);
  // Plan mode still tells whether applying would change something.
  EXPECT_TRUE(s->sync_users({{"alice@example.com", "$y$a", 0}}));
  EXPECT_TRUE(s->sync_domains({"example.com"}));
  s.reset();
  EXPECT_FALSE(fs::exists(layout.state_dir()));
  EXPECT_FALSE(fs::exists(db_file()));
}

TEST_F(StoreTest, ReadOnlyReadsAnExistingDatabaseWithoutWriting) {
  fill(*open());
  backdate(db_file());
  auto before = file_state(db_file());
  {
    auto s = open(true);
    EXPECT_EQ(s->users().size(), 2u);
    EXPECT_FALSE(s->sync_users({{"alice@example.com", "$y$j9T$abc$def", 1000000},
                                {"bob@example.org", "$y$j9T$ghi$jkl", 0}}));
    EXPECT_TRUE(s->sync_users({}));
    EXPECT_EQ(s->verification_token("example.org").size(), 32u);  // made by sync_domains
    EXPECT_EQ(s->verification_token("new.example"), SqlStore::token_placeholder);
  }
  auto after = file_state(db_file());
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
  EXPECT_EQ(after.sha256, before.sha256);
  EXPECT_EQ(open()->users().size(), 2u);
}

TEST_F(StoreTest, FileModeOwnerAndJournal) {
  open()->sync_domains({"example.com"});
  struct stat st {};
  ASSERT_EQ(stat(db_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  struct stat dst {};
  ASSERT_EQ(stat(layout.state_dir().c_str(), &dst), 0);
  EXPECT_EQ(dst.st_mode & 07777, 0755u);
  if (geteuid() == 0) {
    if (struct passwd* pw = getpwnam("dovecot")) {
      EXPECT_EQ(st.st_uid, pw->pw_uid);
    }
    if (struct group* gr = getgrnam("postfix")) {
      EXPECT_EQ(st.st_gid, gr->gr_gid);
    }
  }
  auto mode = raw("PRAGMA journal_mode");
  ASSERT_EQ(mode.size(), 1u);
  EXPECT_EQ(*mode[0][0], "delete");

  // A wrong mode on an existing file is corrected on the next open.
  ASSERT_EQ(chmod(db_file().c_str(), 0644), 0);
  open();
  ASSERT_EQ(stat(db_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(StoreTest, OfflineTreeFileBelongsToTheImagesDaemonUsers) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  Layout offline = Layout::offline(dir / "image");
  fs::create_directories(offline.map("/etc"));
  std::ofstream(offline.map("/etc/passwd")) << "root:x:0:0:root:/root:/bin/sh\n"
                                            << "dovecot:x:4242:4243::/usr/lib/dovecot:/bin/false\n";
  std::ofstream(offline.map("/etc/group")) << "root:x:0:\npostfix:x:4244:\n";
  auto s = open_store(profile, offline);
  EXPECT_EQ(s->location(), "/var/lib/firstboot/users.sqlite");
  struct stat st {};
  ASSERT_EQ(stat(offline.map(kStoreSystemPath).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4244u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(StoreTest, AWriterWaitsForAReaderInsteadOfFailing) {
  open()->sync_domains({"example.com"});
  // A daemon in the middle of a lookup holds a shared lock for a moment.
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_file().c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM domains;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread release([reader] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto s = open();
  EXPECT_TRUE(s->sync_domains({"example.com", "example.org"}));
  release.join();
  sqlite3_close(reader);
  EXPECT_EQ(s->domains().size(), 2u);
}

TEST_F(StoreTest, AnUnreadableDatabaseIsReportedWithItsPath) {
  fs::create_directories(layout.state_dir());
  std::ofstream(db_file()) << std::string(4096, 'x');
  for (bool read_only : {false, true}) {
    try {
      open(read_only);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(db_file().string()), std::string::npos) << what;
      EXPECT_NE(what.find("not a database"), std::string::npos) << what;
    }
  }
}

TEST_F(StoreTest, ValuesWithQuotesRoundTrip) {
  auto s = open();
  std::string hash = "$y$j9T$'\";DROP-TABLE-users;--";
  std::string address = "o'brien@example.com";
  EXPECT_TRUE(s->sync_users({{address, hash, 7}}));
  EXPECT_EQ(s->password_hash(address), hash);
  EXPECT_FALSE(s->sync_users({{address, hash, 7}}));
  EXPECT_TRUE(s->sync_aliases({{"x'y@example.com", "o'brien@example.com"}}));
  EXPECT_EQ(s->aliases()[0].source, "x'y@example.com");
  std::string txt = "v=spf1 include:'x'; \"quoted\" ); DELETE FROM domains; --";
  EXPECT_TRUE(s->put_dns_records("example.com", "g'1", {{"", "@", "TXT", 60, txt, "it's"}}));
  EXPECT_EQ(s->dns_records("example.com")[0].value, txt);
  EXPECT_EQ(s->dns_records("example.com")[0].purpose, "it's");
  EXPECT_FALSE(s->put_dns_records("example.com", "g'1", {{"", "@", "TXT", 60, txt, "it's"}}));
  EXPECT_EQ(s->users().size(), 1u);
  // What Postfix's sqlite map would run after escaping the key: the row is found.
  EXPECT_EQ(raw("SELECT maildir FROM users WHERE address = 'o''brien@example.com'").size(), 1u);
}

TEST_F(StoreTest, RefusesInvalidRows) {
  auto s = open();
  EXPECT_THROW(s->sync_users({{"alice", "$y$a", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"..@example.com", "$y$a", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a/b@example.com", "$y$a", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a@exa/mple.com", "$y$a", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a@example.com", "", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a@example.com", "$y$a\n", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a@example.com", "$y$a", 0}, {"A@example.com", "$y$b", 0}}), Error);
  EXPECT_THROW(s->sync_users({{"a@example.com", "$y$a", ~std::uint64_t{0}}}), Error);
  EXPECT_THROW(s->sync_domains({"bad domain"}), Error);
  EXPECT_THROW(s->sync_aliases({{"a@example.com", "nobody"}}), Error);
  EXPECT_TRUE(s->users().empty());
}

TEST_F(StoreTest, MigratesAnOlderDatabaseKeepingItsRows) {
  prepare_store_file(layout);
  {
    auto conn = SqliteConnection::open_file(db_file());
    ASSERT_TRUE(migrate_schema(*conn, 1));
    EXPECT_EQ(stored_schema_version(*conn), 1);
    conn->execute(
        "INSERT INTO users (address, local_part, domain, password_hash, quota_bytes, maildir) "
        "VALUES ('alice@example.com', 'alice', 'example.com', '$y$a', 0, 'example.com/alice/')");
    conn->execute(
        "INSERT INTO domains (name, verification_token, created) VALUES ('example.com', 'tok', "
        "'2024-01-01T00:00:00Z')");
  }
  auto s = open();
  EXPECT_EQ(s->schema_version(), current_schema_version());
  EXPECT_EQ(s->password_hash("alice@example.com"), "$y$a");
  EXPECT_EQ(s->verification_token("example.com"), "tok");
  EXPECT_EQ(
      raw("SELECT destination FROM virtual_aliases WHERE source = 'alice@example.com'").size(), 1u);
  EXPECT_EQ(raw("SELECT version FROM schema_version").size(), store_migrations().size());
}

TEST_F(StoreTest, MigrationVersionsAreNumberedInOrder) {
  int expected = 1;
  for (const auto& m : store_migrations()) {
    EXPECT_EQ(m.version, expected++);
    EXPECT_FALSE(m.statements.empty());
    for (const auto& sql : m.statements) EXPECT_EQ(sql.find("DROP"), std::string::npos) << sql;
  }
}

TEST_F(StoreTest, DocumentedLookupQueriesAnswer) {
  auto s = open();
  fill(*s);
  s->sync_aliases({{"@example.org", "alice@example.com"},
                   {"team@example.com", "bob@example.org"},
                   {"o'hara@example.com", "alice@example.com"}});
  auto q = lookup_queries(s->driver(), "/var/vmail");
  auto one = [&](const std::string& query, const std::string& var, const std::string& key) {
    std::vector<std::string> out;
    for (auto& row : raw(substitute(query, var, key))) {
      std::string line;
      for (auto& col : row) line += (line.empty() ? "" : "|") + col.value_or("NULL");
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(one(q.virtual_mailbox_domains, "%s", "example.org"), V{"example.org"});
  EXPECT_EQ(one(q.virtual_mailbox_domains, "%s", "example.net"), V{});
  EXPECT_EQ(one(q.virtual_mailbox_maps, "%s", "alice@example.com"), V{"example.com/alice/"});
  EXPECT_EQ(one(q.virtual_alias_maps, "%s", "team@example.com"), V{"bob@example.org"});
  EXPECT_EQ(one(q.virtual_alias_maps, "%s", "o'hara@example.com"), V{"alice@example.com"});
  // A mailbox resolves to itself before the catch-all is tried.
  EXPECT_EQ(one(q.virtual_alias_maps, "%s", "bob@example.org"), V{"bob@example.org"});
  EXPECT_EQ(one(q.virtual_alias_maps, "%s", "@example.org"), V{"alice@example.com"});
  EXPECT_EQ(one(q.smtpd_sender_login_maps, "%s", "team@example.com"), V{"bob@example.org"});
  EXPECT_EQ(one(q.password_query, "%u", "alice@example.com"),
            V{"alice@example.com|{CRYPT}$y$j9T$abc$def"});
  EXPECT_EQ(one(q.user_query, "%u", "alice@example.com"),
            V{"/var/vmail/example.com/alice/|*:storage=1000000B"});
  EXPECT_EQ(one(q.user_query, "%u", "bob@example.org"), V{"/var/vmail/example.org/bob/|NULL"});
  EXPECT_EQ(one(q.iterate_query, "%u", ""), (V{"alice@example.com", "bob@example.org"}));
  EXPECT_EQ(one(q.password_query, "%u", "x' OR '1'='1"), V{});

  EXPECT_THROW(lookup_queries("sqlite", "/var/v'mail"), Error);
  EXPECT_THROW(lookup_queries("sqlite", "/var/%d"), Error);
  EXPECT_THROW(lookup_queries("sqlite", "relative"), Error);
  EXPECT_THROW(lookup_queries("mysql", "/var/vmail"), Error);
  EXPECT_NE(lookup_queries("postgresql", "/v").password_query.find("AS \"user\""),
            std::string::npos);
}

// Postfix's own sqlite client (postmap, as the postfix user) reads the store with those queries.
TEST_F(StoreTest, PostfixReadsTheStoreAsItsUser) {
  if (run_command("command -v postmap >/dev/null 2>&1").first != 0)
    GTEST_SKIP() << "postmap is not installed";
  auto s = open();
  fill(*s);
  auto q = lookup_queries(s->driver(), "/var/vmail");
  fs::path conf = dir / "postfix";
  fs::create_directories(conf);
  std::ofstream(conf / "main.cf")
      << "compatibility_level = 3.6\nmyhostname = localhost.localdomain\nmydomain = localdomain\n";
  // Postfix waits for a config file modified in the last second to settle: backdate them.
  backdate(conf / "main.cf");
  if (run_command("postconf -c " + conf.string() + " -m 2>/dev/null | grep -qx sqlite").first != 0)
    GTEST_SKIP() << "Postfix has no sqlite map support (postfix-sqlite)";
  auto map = [&](const std::string& name, const std::string& query) {
    std::ofstream(conf / (name + ".cf"))
        << "dbpath = " << db_file().string() << "\nquery = " << query << "\n";
    backdate(conf / (name + ".cf"));
    return "sqlite:" + (conf / (name + ".cf")).string();
  };
  std::string prefix = "postmap -c " + conf.string() + " -q ";
  bool as_postfix = geteuid() == 0 && getpwnam("postfix");
  if (as_postfix) prefix = "runuser -u postfix -- " + prefix;
  auto lookup = [&](const std::string& key, const std::string& table) {
    auto [rc, out] = run_command(prefix + "'" + key + "' " + table + " 2>&1");
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return rc == 0 ? out : "rc=" + std::to_string(rc) + " " + out;
  };
  EXPECT_EQ(lookup("Example.COM", map("domains", q.virtual_mailbox_domains)), "example.com");
  EXPECT_EQ(lookup("alice@example.com", map("mailboxes", q.virtual_mailbox_maps)),
            "example.com/alice/");
  std::string aliases = lookup("team@example.com", map("aliases", q.virtual_alias_maps));
  EXPECT_TRUE(aliases == "alice@example.com,bob@example.org" ||
              aliases == "bob@example.org,alice@example.com")
      << aliases;
  EXPECT_EQ(lookup("postmaster@example.com", map("logins", q.smtpd_sender_login_maps)),
            "alice@example.com");
  EXPECT_EQ(lookup("nobody@example.com", map("mailboxes", q.virtual_mailbox_maps)).substr(0, 4),
            "rc=1");
  // Reading took no lock that stayed behind and wrote nothing.
  EXPECT_FALSE(fs::exists(db_file().string() + "-journal"));
}

TEST_F(StoreTest, DovecotUserCanReadTheStore) {
  if (geteuid() != 0 || !getpwnam("dovecot") ||
      run_command("command -v sqlite3 >/dev/null 2>&1").first != 0)
    GTEST_SKIP() << "needs root, the dovecot user and the sqlite3 shell";
  auto s = open();
  fill(*s);
  auto [rc, out] =
      run_command("runuser -u dovecot -- sqlite3 -readonly " + db_file().string() +
                  " \"SELECT password FROM mail_users WHERE address = 'bob@example.org'\" 2>&1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "{CRYPT}$y$j9T$ghi$jkl\n");
  // Anyone else cannot read it.
  if (getpwnam("nobody")) {
    auto other = run_command("runuser -u nobody -- cat " + db_file().string() + " >/dev/null 2>&1");
    EXPECT_NE(other.first, 0);
  }
}

TEST_F(StoreTest, LocationIsWhereTheDaemonsReadTheFile) {
  EXPECT_EQ(open(true)->location(), (dir.path() / "var/lib/firstboot/users.sqlite").string());
  EXPECT_EQ(store_location(Layout::system()), "/var/lib/firstboot/users.sqlite");
  EXPECT_EQ(store_location(Layout::offline(dir.path())), "/var/lib/firstboot/users.sqlite");
}

TEST_F(StoreTest, PostgresqlIsNotAvailableYet) {
  profile.database = "postgresql://mail:s3cret@db.example:5432/mail";
  try {
    open();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("PostgreSQL store is not available"), std::string::npos) << what;
    EXPECT_NE(what.find("postgresql://mail@db.example:5432/mail"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(db_file()));
  profile.database = "mysql";
  EXPECT_THROW(open(), Error);
}

}  // namespace
}  // namespace firstboot
