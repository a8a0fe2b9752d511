#include "profile/profile_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/module.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;
using firstboot::testing::ScratchDir;

const fs::path kSource = FIRSTBOOT_SOURCE_DIR;

std::string all_issues(const LoadedProfile& loaded) {
  std::string out;
  for (auto& issue : loaded.issues) out += issue.format() + "\n";
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

const char* kMinimal = R"(hostname: mail.example.com
admin_email: admin@example.com
mode: local
domains:
  - name: example.com
users:
  - address: alice@example.com
)";

LoadedProfile load_text(const std::string& text) { return load_profile_text(text, "p.yaml", {}); }

const ProfileIssue* find_issue(const LoadedProfile& loaded, const std::string& field) {
  for (auto& issue : loaded.issues)
    if (issue.field == field) return &issue;
  return nullptr;
}

TEST(ProfileExamples, EveryExampleLoads) {
  int count = 0;
  for (auto& entry : fs::directory_iterator(kSource / "profiles")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    LoadedProfile loaded = load_profile(entry.path(), {});
    EXPECT_TRUE(loaded.issues.empty()) << all_issues(loaded);
    EXPECT_TRUE(loaded.profile.has_value()) << entry.path();
  }
  EXPECT_GE(count, 4);
}

TEST(ProfileExamples, FullProfileModel) {
  LoadedProfile loaded = load_profile(kSource / "profiles" / "full.yaml", {});
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  const Profile& p = *loaded.profile;
  EXPECT_EQ(p.source_file, (kSource / "profiles" / "full.yaml").string());
  EXPECT_EQ(p.hostname, "mail.example.com");
  EXPECT_EQ(p.admin_email, "admin@example.com");
  EXPECT_EQ(p.mode, MailMode::full);
  ASSERT_EQ(p.domains.size(), 1U);
  EXPECT_EQ(p.domains[0].name, "example.com");
  EXPECT_EQ(p.domains[0].dkim.selector, "mail");
  EXPECT_EQ(p.domains[0].dkim.algorithms, (std::vector<std::string>{"rsa-2048", "ed25519"}));
  EXPECT_EQ(p.domains[0].dmarc.policy, "quarantine");
  EXPECT_EQ(p.domains[0].dmarc.rua, "dmarc@example.com");
  ASSERT_EQ(p.users.size(), 2U);
  EXPECT_EQ(p.users[0].address, "alice@example.com");
  EXPECT_EQ(p.users[0].password_hash.rfind("$y$", 0), 0U);
  EXPECT_EQ(p.users[0].quota_bytes, 2ULL << 30);
  EXPECT_EQ(p.users[1].password_hash, "");
  EXPECT_EQ(p.users[1].password_file, (kSource / "profiles" / "secrets" / "bob.secret").string());
  EXPECT_EQ(p.users[1].quota_bytes, 500ULL << 20);
  ASSERT_EQ(p.aliases.size(), 2U);
  EXPECT_EQ(p.aliases[0].from, "postmaster@example.com");
  EXPECT_EQ(p.aliases[0].to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_FALSE(p.relay);
  EXPECT_EQ(p.tls.source, "self-signed");
  EXPECT_EQ(p.dns.serve, "bind");
  EXPECT_EQ(p.database, "sqlite");
  EXPECT_EQ(p.monitoring.interval_seconds, 900);
  EXPECT_EQ(p.monitoring.alert_to, "admin@example.com");
  EXPECT_EQ(p.limits.message_size_bytes, 25ULL << 20);
  Ports defaults;
  EXPECT_EQ(p.sandbox_ports.smtp, 2525);
  EXPECT_EQ(p.sandbox_ports.submission, 5587);
  EXPECT_EQ(p.sandbox_ports.imaps, defaults.imaps);
  EXPECT_EQ(p.sandbox_ports.lmtp, defaults.lmtp);
  EXPECT_EQ(p.digest.size(), 64U);
  EXPECT_NE(p.canonical_json.find("\"hostname\":\"mail.example.com\""), std::string::npos);
}

TEST(ProfileExamples, RelayProfileModel) {
  LoadedProfile loaded = load_profile(kSource / "profiles" / "relay.yaml", {});
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  const Profile& p = *loaded.profile;
  EXPECT_EQ(p.mode, MailMode::relay);
  ASSERT_TRUE(p.relay);
  EXPECT_EQ(p.relay->host, "127.0.0.1");
  EXPECT_EQ(p.relay->port, 2587);
  EXPECT_EQ(p.relay->username, "relay@example.com");
  EXPECT_EQ(p.relay->password_file, (kSource / "profiles" / "secrets" / "relay.secret").string());
  EXPECT_EQ(p.relay->spf_include, "_spf.provider.example");
  EXPECT_EQ(p.relay->mappings.at("contact-sales@mailer.example.com"), "contact-sales@example.com");
  EXPECT_TRUE(p.users.empty());
}

TEST(ProfileExamples, MultiDomainProfileModel) {
  LoadedProfile loaded = load_profile(kSource / "profiles" / "multi-domain.yaml", {});
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  const Profile& p = *loaded.profile;
  EXPECT_EQ(p.domains.size(), 3U);
  EXPECT_EQ(p.domains[2].dkim.selector, "mail");  // defaults for a domain without settings
  EXPECT_EQ(p.domains[2].dkim.algorithms, (std::vector<std::string>{"rsa-2048"}));
  EXPECT_EQ(p.dns.serve, "bind");
  EXPECT_TRUE(p.dns.dnssec);
  EXPECT_EQ(p.monitoring.interval_seconds, 300);
  EXPECT_EQ(p.limits.message_size_bytes, 50ULL << 20);
  EXPECT_EQ(p.limits.recipients_per_message, 50);
  EXPECT_EQ(p.limits.messages_per_minute, 30);
  EXPECT_EQ(p.tls.extra_names.size(), 2U);
}

TEST(ProfileExamples, CanonicalCopyHoldsNoSecret) {
  for (const char* name : {"full.yaml", "relay.yaml", "multi-domain.yaml"}) {
    LoadedProfile loaded = load_profile(kSource / "profiles" / name, {});
    ASSERT_TRUE(loaded.profile) << all_issues(loaded);
    for (const char* secret : {"alice-demo-pass", "bob-demo-pass", "relay-demo-secret",
                               "carol-demo-pass", "dave-demo-pass"})
      EXPECT_EQ(loaded.profile->canonical_json.find(secret), std::string::npos) << name;
  }
}

// The unit-level twin of tests/e2e/test_engine_bad_profiles.py: every corpus file fails with
// exactly the lines of its .expected file (FILE standing for the path), no more, no fewer.
TEST(ProfileCorpus, EveryBadProfileFailsWithItsExpectedMessages) {
  std::vector<fs::path> corpus;
  for (auto& entry : fs::directory_iterator(kSource / "tests" / "profiles" / "bad"))
    if (entry.path().extension() == ".yaml") corpus.push_back(entry.path());
  std::sort(corpus.begin(), corpus.end());
  EXPECT_GE(corpus.size(), 40U);
  for (const fs::path& path : corpus) {
    fs::path expected_path = fs::path(path).replace_extension(".expected");
    ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
    std::vector<std::string> expected;
    std::istringstream lines(read_file(expected_path));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) expected.push_back(replace_all(line, "FILE", path.string()));
    LoadedProfile loaded = load_profile(path, {});
    EXPECT_FALSE(loaded.profile) << path;
    std::vector<std::string> got;
    for (auto& issue : loaded.issues) got.push_back(issue.format());
    std::string shown;
    for (auto& line : got) shown += replace_all(line, path.string(), "FILE") + "\n";
    EXPECT_EQ(got, expected) << path.filename().string() << " gave:\n" << shown;
  }
}

TEST(ProfileLimits, OversizedFileIsRefusedBeforeParsing) {
  ScratchDir dir;
  fs::path big = dir / "big.yaml";
  {
    std::ofstream out(big, std::ios::binary);
    // Not even YAML: a parser would complain about it; the size check must come first.
    std::string line(1023, '{');
    for (int i = 0; i < 1100; ++i) out << line << "\n";
  }
  LoadedProfile loaded = load_profile(big, {});
  ASSERT_EQ(loaded.issues.size(), 1U) << all_issues(loaded);
  EXPECT_EQ(loaded.issues[0].format(),
            big.string() +
                ":1:1: the profile is 1126400 bytes; the limit is 1 MiB (1048576 "
                "bytes), so it was not parsed");
  LoadedProfile from_text = load_profile_text(std::string(kMaxProfileBytes + 1, '#'), "t.yaml", {});
  ASSERT_EQ(from_text.issues.size(), 1U);
  EXPECT_NE(from_text.issues[0].message.find("limit is 1 MiB"), std::string::npos);
}

// The same generated file as the e2e test (tests/profiles/make-oversized), the same message.
TEST(ProfileLimits, GeneratedOversizedProfileHasItsExpectedMessage) {
  ScratchDir dir;
  fs::path big = dir / "oversized.yaml";
  std::string command = "/usr/bin/python3 '" +
                        (kSource / "tests" / "profiles" / "make-oversized").string() + "' '" +
                        big.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string expected = read_file(kSource / "tests" / "profiles" / "oversized.expected");
  expected = replace_all(expected.substr(0, expected.find('\n')), "FILE", big.string());
  LoadedProfile loaded = load_profile(big, {});
  ASSERT_EQ(loaded.issues.size(), 1U) << all_issues(loaded);
  EXPECT_EQ(loaded.issues[0].format(), expected);
}

TEST(ProfileLimits, ExactlyOneMebibyteIsRead) {
  std::string text = kMinimal;
  text += std::string(kMaxProfileBytes - text.size() - 1, '#') + "\n";
  ASSERT_EQ(text.size(), kMaxProfileBytes);
  LoadedProfile loaded = load_text(text);
  EXPECT_TRUE(loaded.profile) << all_issues(loaded);
}

TEST(ProfileLimits, TooManyNodesStopReading) {
  std::string text = std::string(kMinimal) + "aliases:\n";
  for (std::size_t i = 0; i < kMaxProfileNodes; ++i) text += "- x\n";
  ASSERT_LE(text.size(), kMaxProfileBytes);
  LoadedProfile loaded = load_text(text);
  ASSERT_EQ(loaded.issues.size(), 1U) << all_issues(loaded);
  EXPECT_NE(loaded.issues[0].message.find("more than 100000 YAML nodes"), std::string::npos);
}

TEST(ProfileLimits, MissingAndNonRegularFiles) {
  ScratchDir dir;
  LoadedProfile missing = load_profile(dir / "nope.yaml", {});
  ASSERT_EQ(missing.issues.size(), 1U);
  EXPECT_EQ(
      missing.issues[0].format(),
      (dir / "nope.yaml").string() + ":1:1: cannot read the profile: No such file or directory");
  LoadedProfile directory = load_profile(dir.path(), {});
  ASSERT_EQ(directory.issues.size(), 1U);
  EXPECT_EQ(directory.issues[0].message, "the profile is not a regular file");
}

TEST(ProfilePositions, IssuesPointAtTheirNode) {
  LoadedProfile loaded = load_text(R"(hostname: mail.example.com
admin_email: admin@example.com
mode: full
domains:
  - name: example.com
    dkim:
      selector: "bad}"
      colour: blue
users:
  - address: alice@example.com
    password_hash: "$y$j9T$qSbQaKZv1s5sR.gAoZ6140$xd8/org9pvzR/nN4X027ezGmCc3EWbtrO3K.6zYFtC9"
    quota: 2 GB
relay: {port: 25}
)");
  const ProfileIssue* selector = find_issue(loaded, "domains[0].dkim.selector");
  ASSERT_TRUE(selector) << all_issues(loaded);
  EXPECT_EQ(selector->line, 7);
  EXPECT_EQ(selector->column, 17);
  const ProfileIssue* unknown = find_issue(loaded, "domains[0].dkim.colour");
  ASSERT_TRUE(unknown) << all_issues(loaded);
  EXPECT_EQ(unknown->line, 8);  // at the key
  EXPECT_EQ(unknown->column, 7);
  EXPECT_EQ(unknown->message, "unknown key 'colour'; allowed: algorithms, selector");
  const ProfileIssue* quota = find_issue(loaded, "users[0].quota");
  ASSERT_TRUE(quota) << all_issues(loaded);
  EXPECT_EQ(quota->line, 12);
  EXPECT_EQ(quota->column, 12);
  const ProfileIssue* relay = find_issue(loaded, "relay");
  ASSERT_TRUE(relay) << all_issues(loaded);
  EXPECT_EQ(relay->line, 13);
  EXPECT_EQ(relay->column, 8);
  // Issues come in file order.
  for (std::size_t i = 1; i < loaded.issues.size(); ++i)
    EXPECT_LE(loaded.issues[i - 1].line, loaded.issues[i].line) << all_issues(loaded);
}

TEST(ProfileDigest, StableAcrossKeyOrderCommentsAndQuoting) {
  LoadedProfile a = load_text(kMinimal);
  LoadedProfile b = load_text(R"(# the same profile, written differently
users: [{address: "alice@example.com"}]
domains:
  - {name: 'example.com'}
mode: "local"
admin_email: admin@example.com   # a comment
hostname: mail.example.com
)");
  ASSERT_TRUE(a.profile && b.profile) << all_issues(a) << all_issues(b);
  EXPECT_EQ(a.profile->digest, b.profile->digest);
  EXPECT_EQ(a.profile->canonical_json, b.profile->canonical_json);
  LoadedProfile c = load_text(replace_all(kMinimal, "alice@", "bob@"));
  ASSERT_TRUE(c.profile) << all_issues(c);
  EXPECT_NE(a.profile->digest, c.profile->digest);
}

TEST(ProfileDigest, RelativePathsResolveAgainstTheProfileDirectory) {
  ScratchDir dir;
  fs::create_directories(dir / "conf" / "secrets");
  write_file(dir / "conf" / "secrets" / "a.secret", "x");
  std::string text = replace_all(kMinimal, "  - address: alice@example.com\n",
                                 "  - address: alice@example.com\n"
                                 "    password_file: secrets/a.secret\n");
  LoadedProfile loaded = load_profile_text(text, (dir / "conf" / "p.yaml").string(), {});
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  EXPECT_EQ(loaded.profile->users[0].password_file,
            (dir / "conf" / "secrets" / "a.secret").string());
  // The same profile elsewhere, naming the file absolutely, has the same digest.
  std::string absolute =
      replace_all(text, "secrets/a.secret", (dir / "conf" / "secrets" / "a.secret").string());
  LoadedProfile moved = load_profile_text(absolute, (dir / "p.yaml").string(), {});
  ASSERT_TRUE(moved.profile) << all_issues(moved);
  EXPECT_EQ(loaded.profile->digest, moved.profile->digest);
  // Relative to the profile, not to the current directory: next to this profile the same name
  // is a directory. (A missing password file is fine: the mail module consumes it.)
  std::filesystem::create_directories(dir / "secrets" / "a.secret");
  LoadedProfile elsewhere = load_profile_text(text, (dir / "p.yaml").string(), {});
  ASSERT_FALSE(elsewhere.profile);
  EXPECT_NE(all_issues(elsewhere).find("secrets/a.secret is not a regular file"), std::string::npos)
      << all_issues(elsewhere);
}

// Snapshot of a tree: path -> (size, mtime).
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> snapshot(const fs::path& top) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (auto& entry : fs::recursive_directory_iterator(top)) {
    std::uintmax_t size = entry.is_regular_file() ? entry.file_size() : 0;
    out[entry.path().string()] = {size, entry.last_write_time()};
  }
  return out;
}

TEST(ProfileSideEffects, LoadingWritesNothing) {
  ScratchDir dir;
  fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path());
  auto profiles_before = snapshot(kSource / "profiles");
  auto corpus_before = snapshot(kSource / "tests" / "profiles");
  for (auto& top : {kSource / "profiles", kSource / "tests" / "profiles" / "bad"})
    for (auto& entry : fs::directory_iterator(top))
      if (entry.path().extension() == ".yaml") (void)load_profile(entry.path(), {});
  fs::current_path(old_cwd);
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_EQ(snapshot(kSource / "profiles"), profiles_before);
  EXPECT_EQ(snapshot(kSource / "tests" / "profiles"), corpus_before);
}

// A module that objects to the TLS source and to a field that does not exist.
class ObjectingModule : public Module {
 public:
  ModuleInfo info() const override { return ModuleInfo{"objecting", 99, {}, {}, "test"}; }
  void check_profile(const Profile& profile, std::vector<ProfileIssue>& issues) const override {
    issues.push_back({profile.source_file, 0, 0, "tls.source", "not on this machine"});
    issues.push_back({"", 0, 0, "tls.nonexistent", "falls back to its parent"});
  }
  void apply(ModuleContext&) override {}
  std::vector<CheckResult> validate(ModuleContext&) override { return {}; }
};

TEST(ProfileModules, ModuleIssuesArePlacedAtTheirField) {
  ObjectingModule module;
  std::string text = std::string(kMinimal) + "tls:\n  source: self-signed\n";
  LoadedProfile loaded = load_profile_text(text, "p.yaml", {&module});
  EXPECT_FALSE(loaded.profile);
  ASSERT_EQ(loaded.issues.size(), 2U) << all_issues(loaded);
  EXPECT_EQ(loaded.issues[0].format(), "p.yaml:9:3: tls.source: not on this machine");
  EXPECT_EQ(loaded.issues[1].format(), "p.yaml:8:1: tls.nonexistent: falls back to its parent");
}

TEST(ProfileModules, ModulesSeeOnlyValidProfiles) {
  ObjectingModule module;
  LoadedProfile loaded = load_profile_text("hostname: x\n", "p.yaml", {&module});
  for (auto& issue : loaded.issues) EXPECT_NE(issue.message, "not on this machine");
}

TEST(ProfileValues, PlainScalarsFollowTheYamlCoreSchema) {
  std::string text =
      std::string(kMinimal) + "sandbox:\n  ports: {smtp: 0x9c5, imap: 1144}\ndns: {dnssec: True}\n";
  LoadedProfile loaded = load_text(text);
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  EXPECT_EQ(loaded.profile->sandbox_ports.smtp, 2501);
  EXPECT_TRUE(loaded.profile->dns.dnssec);
  LoadedProfile quoted = load_text(std::string(kMinimal) + "sandbox:\n  ports: {smtp: \"2525\"}\n");
  ASSERT_EQ(quoted.issues.size(), 1U) << all_issues(quoted);
  EXPECT_EQ(quoted.issues[0].message, "expected an integer, got a string (\"2525\")");
}

TEST(ProfileValues, EveryIssueIsReportedAtOnce) {
  LoadedProfile loaded = load_text(R"(hostname: mail_x.example.com
admin_email: nobody
mode: full
domains:
  - name: example.com
users:
  - address: alice@example.com
  - address: alice@example.com
extra: 1
)");
  EXPECT_TRUE(find_issue(loaded, "hostname"));
  EXPECT_TRUE(find_issue(loaded, "admin_email"));
  EXPECT_TRUE(find_issue(loaded, "users[0]"));
  EXPECT_TRUE(find_issue(loaded, "users[1].address"));
  EXPECT_TRUE(find_issue(loaded, "extra"));
}

TEST(ProfileValues, WindowsLineEndsAndByteOrderMarkAreAccepted) {
  std::string crlf = "\xef\xbb\xbf" + replace_all(kMinimal, "\n", "\r\n");
  LoadedProfile loaded = load_text(crlf);
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  EXPECT_EQ(loaded.profile->hostname, "mail.example.com");
  EXPECT_EQ(loaded.profile->digest, load_text(kMinimal).profile->digest);
  // A carriage return inside a value is still a control character.
  LoadedProfile cr =
      load_text(replace_all(kMinimal, "mail.example.com", "\"mail.example.com\\r\""));
  ASSERT_EQ(cr.issues.size(), 1U) << all_issues(cr);
  EXPECT_EQ(cr.issues[0].field, "hostname");
}

TEST(ProfileValues, TabsAfterTheIndentationAreFine) {
  LoadedProfile loaded = load_text(replace_all(kMinimal, "mode: local", "mode:\tlocal\t# tabs"));
  EXPECT_TRUE(loaded.profile) << all_issues(loaded);
  LoadedProfile blank = load_text(replace_all(kMinimal, "mode: local\n", "mode: local\n  \t\n"));
  ASSERT_EQ(blank.issues.size(), 1U) << all_issues(blank);
  EXPECT_EQ(blank.issues[0].format(),
            "p.yaml:4:3: a tab is used for indentation; YAML indents with spaces");
}

TEST(ProfileValues, LongValuesAreCutBeforeAnyCheck) {
  std::string huge(200000, 'a');
  LoadedProfile loaded =
      load_text(replace_all(kMinimal, "hostname: mail.example.com", "hostname: " + huge));
  ASSERT_EQ(loaded.issues.size(), 1U) << all_issues(loaded);
  EXPECT_EQ(loaded.issues[0].format(),
            "p.yaml:1:11: hostname: is 200000 bytes long; values are limited to 1024 bytes");
  // At the limit, every check (schema patterns included) copes with the length.
  std::string label(63, 'a');
  std::string name;
  while (name.size() + label.size() + 1 < 1024) name += label + ".";
  name += "com";
  LoadedProfile at_limit =
      load_text(replace_all(kMinimal, "hostname: mail.example.com", "hostname: " + name));
  ASSERT_FALSE(at_limit.profile);
  EXPECT_EQ(at_limit.issues[0].field, "hostname");
  std::string path;  // 1000 characters naming "/", a directory: refused, its text cut
  while (path.size() < 1000) path += "./";
  LoadedProfile long_path =
      load_text(replace_all(kMinimal, "  - address: alice@example.com\n",
                            "  - address: alice@example.com\n    password_file: /" + path + "\n"));
  ASSERT_FALSE(long_path.profile);
  EXPECT_EQ(long_path.issues[0].field, "users[0].password_file");
}

TEST(ProfileAliases, ChainsAndCyclesThatDeliverPass) {
  std::string text = std::string(kMinimal) + "aliases:\n";
  // A chain of 200 aliases ending at a user, and a cycle with a way out.
  for (int i = 0; i < 200; ++i)
    text += "  - {from: c" + std::to_string(i) + "@example.com, to: [" +
            (i == 199 ? std::string("alice") : "c" + std::to_string(i + 1)) + "@example.com]}\n";
  text += "  - {from: a@example.com, to: [b@example.com]}\n";
  text += "  - {from: b@example.com, to: [a@example.com, friend@example.org]}\n";
  LoadedProfile loaded = load_text(text);
  EXPECT_TRUE(loaded.profile) << all_issues(loaded);
}

TEST(ProfileAliases, ABrokenTargetIsReportedOnce) {
  std::string text = std::string(kMinimal) +
                     "aliases:\n"
                     "  - {from: a@example.com, to: [b@example.com]}\n"
                     "  - {from: b@example.com, to: [nobody@example.com]}\n";
  LoadedProfile loaded = load_text(text);
  ASSERT_EQ(loaded.issues.size(), 1U) << all_issues(loaded);
  EXPECT_EQ(loaded.issues[0].field, "aliases[1].to[0]");
}

TEST(ProfileValues, ReportedIssuesAreCapped) {
  std::string text = std::string(kMinimal) + "aliases:\n";
  for (int i = 0; i < 500; ++i)
    text += "  - {from: a" + std::to_string(i) + "@example.com, to: [x@example.com]}\n";
  LoadedProfile loaded = load_text(text);
  ASSERT_EQ(loaded.issues.size(), 101U);
  EXPECT_EQ(loaded.issues.back().message, "400 more problem(s) not shown");
}

TEST(ProfileBackup, DefaultsAndValues) {
  LoadedProfile plain = load_text(kMinimal);
  ASSERT_TRUE(plain.profile) << all_issues(plain);
  EXPECT_EQ(plain.profile->backup.dir, "/var/backups/firstboot");
  EXPECT_TRUE(plain.profile->backup.passphrase_file.empty());
  EXPECT_EQ(plain.profile->backup.keep, 7);
  EXPECT_EQ(plain.profile->backup.max_age_days, 30);

  ScratchDir dir;
  write_file(dir.path() / "backup.pass", "correct horse\n");
  std::string text = std::string(kMinimal) +
                     "backup: { dir: /srv/backups, passphrase_file: backup.pass, keep: 3, "
                     "max_age_days: 0 }\n";
  write_file(dir.path() / "p.yaml", text);
  LoadedProfile loaded = load_profile(dir.path() / "p.yaml", {});
  ASSERT_TRUE(loaded.profile) << all_issues(loaded);
  EXPECT_EQ(loaded.profile->backup.dir, "/srv/backups");
  EXPECT_EQ(loaded.profile->backup.passphrase_file, (dir.path() / "backup.pass").string());
  EXPECT_EQ(loaded.profile->backup.keep, 3);
  EXPECT_EQ(loaded.profile->backup.max_age_days, 0);
}

TEST(ProfileBackup, BadValuesAreRefused) {
  auto issue_for = [](const std::string& backup, const std::string& field) {
    LoadedProfile loaded = load_text(std::string(kMinimal) + "backup: " + backup + "\n");
    const ProfileIssue* issue = find_issue(loaded, field);
    return issue ? issue->message : "(no issue) " + all_issues(loaded);
  };
  EXPECT_NE(issue_for("{ dir: backups }", "backup.dir").find("not an absolute path"),
            std::string::npos);
  EXPECT_NE(issue_for("{ dir: /var/vmail/backups }", "backup.dir").find("overlaps /var/vmail"),
            std::string::npos);
  EXPECT_NE(issue_for("{ dir: /var }", "backup.dir").find("overlaps"), std::string::npos);
  EXPECT_NE(issue_for("{ dir: \"/tmp/a b\" }", "backup.dir").find("contains"), std::string::npos);
  EXPECT_NE(issue_for("{ passphrase_file: /nonexistent/pass }", "backup.passphrase_file")
                .find("file not found"),
            std::string::npos);
  EXPECT_FALSE(load_text(std::string(kMinimal) + "backup: { keep: 0 }\n").issues.empty());
  EXPECT_FALSE(load_text(std::string(kMinimal) + "backup: { max_age_days: -1 }\n").issues.empty());
  EXPECT_FALSE(load_text(std::string(kMinimal) + "backup: { kept: 3 }\n").issues.empty());
}

}  // namespace
}  // namespace firstboot
