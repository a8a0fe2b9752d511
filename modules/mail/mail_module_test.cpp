#include "mail_module.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "crypto/password_hash.h"
#include "engine/error.h"
#include "engine/test_support.h"
#include "mail_config.h"
#include "profile/profile_loader.h"
#include "store/store.h"

namespace firstboot {

namespace {

namespace fs = std::filesystem;

// Answers the config checkers: everything passes unless a command is told to fail.
class FakeCommands : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex);  // the module runs checkers side by side
    std::string line;
    for (auto& a : argv) line += (line.empty() ? "" : " ") + a;
    calls.push_back(line);
    for (auto& [needle, message] : failures)
      if (line.find(needle) != std::string::npos) return {1, message, false, 0};
    return {0, "", false, 0};
  }
  std::vector<std::string> calls;
  std::map<std::string, std::string> failures;
  std::mutex mutex;
};

struct MailFixture : ::testing::Test {
  testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path() / "sb");
  testing::FakeSupervisor services;
  TemplateRenderer templates{data_dir() / "templates"};
  std::ostringstream log_text;
  spdlog::logger log{"mail", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text)};
  std::shared_ptr<FakeCommands> commands = std::make_shared<FakeCommands>();
  std::unique_ptr<Module> module = make_mail_module(commands);
  Profile profile;
  std::unique_ptr<Store> store;

  MailFixture() {
    profile.hostname = "mail.example.com";
    profile.admin_email = "admin@example.com";
    profile.mode = MailMode::full;
    Domain d;
    d.name = "example.com";
    d.dkim.algorithms = {"rsa-2048", "ed25519"};
    profile.domains = {d};
    std::ofstream(dir / "bob.secret") << "bob-demo-pass\n";
    profile.users = {{"alice@example.com", hash_password("alice-demo-pass"), "", 0},
                     {"bob@example.com", "", (dir / "bob.secret").string(), 500u << 20}};
    profile.aliases = {{"postmaster@example.com", {"alice@example.com"}}};
    // Ports nobody else uses on a test machine, so the port-in-use check passes.
    Ports& p = profile.sandbox_ports;
    p.smtp = 42525, p.submission = 42587, p.smtps = 42465, p.imap = 42143, p.imaps = 42993;
    p.pop3 = 42110, p.pop3s = 42995, p.opendkim = 42891, p.opendmarc = 42893, p.lmtp = 42024;
    log.set_level(spdlog::level::debug);
  }

  Store& the_store() {
    if (!store) store = open_store(profile, layout);
    return *store;
  }

  struct Result {
    std::size_t files_changed;
    std::vector<std::string> services_changed;
  };
  Result apply(bool dry_run = false) {
    FileWriter files(layout.state_dir() / "backup", "r" + std::to_string(++runs), dry_run);
    ModuleContext ctx(
        profile, layout, files, services, templates, log,
        [this]() -> Store& { return the_store(); }, dry_run);
    module->apply(ctx);
    return {files.changed_count(), ctx.services_changed};
  }
  fs::path sb(const std::string& sys) { return layout.map(sys); }
  int runs = 0;
};

TEST_F(MailFixture, FullModeFirstRunThenNoop) {
  Result first = apply();
  EXPECT_GT(first.files_changed, 10u);
  for (const char* s : {"opendkim", "opendkim-ed25519", "opendmarc", "dovecot", "postfix"})
    EXPECT_EQ(services.starts[s], 1) << s;
  EXPECT_TRUE(fs::exists(sb("/etc/postfix/main.cf")));
  EXPECT_TRUE(fs::exists(sb("/etc/opendkim/keys/example.com/mail.private")));
  EXPECT_TRUE(fs::exists(sb("/etc/opendkim/keys/example.com/mail-ed25519.private")));
  // Users and their hashes; bob's password file was consumed and wiped.
  auto users = the_store().users();
  ASSERT_EQ(users.size(), 3u);  // alice, bob, the probe account
  auto bob = the_store().password_hash("bob@example.com");
  ASSERT_TRUE(bob);
  EXPECT_TRUE(verify_password("bob-demo-pass", *bob));
  EXPECT_FALSE(fs::exists(dir / "bob.secret"));
  EXPECT_NE(log_text.str().find("overwritten and removed"), std::string::npos);
  EXPECT_EQ(log_text.str().find("bob-demo-pass"), std::string::npos);
  // Required addresses and the probe account.
  bool abuse = false;
  for (auto& a : the_store().aliases())
    if (a.source == "abuse@example.com" && a.destination == "alice@example.com") abuse = true;
  EXPECT_TRUE(abuse);
  struct stat st {};
  ASSERT_EQ(::stat(sb(probe::kProbeSecretPath).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto probe = the_store().password_hash("firstboot-probe@example.com");
  ASSERT_TRUE(probe);
  std::ifstream secret(sb(probe::kProbeSecretPath));
  std::string probe_pw;
  secret >> probe_pw;
  EXPECT_TRUE(verify_password(probe_pw, *probe));
  // DKIM public keys published for the dns module.
  auto records = the_store().dns_records("example.com");
  int dkim = 0;
  for (auto& r : records)
    if (r.purpose == "dkim") ++dkim;
  EXPECT_EQ(dkim, 2);
  // The checkers ran.
  bool postfix_check = false;
  for (auto& c : commands->calls)
    if (c.find("postsuper -c") != std::string::npos) postfix_check = true;
  EXPECT_TRUE(postfix_check);

  // A second run: nothing written, nothing restarted, no checker run.
  commands->calls.clear();
  Result second = apply();
  EXPECT_EQ(second.files_changed, 0u);
  EXPECT_TRUE(second.services_changed.empty());
  EXPECT_TRUE(commands->calls.empty());
  for (auto& [name, n] : services.restarts) EXPECT_EQ(n, 0) << name;
  // The hash stays although the password file is gone.
  EXPECT_EQ(the_store().password_hash("bob@example.com"), bob);
}

TEST_F(MailFixture, AddingAUserChangesOnlyTheStore) {
  apply();
  profile.users.push_back({"carol@example.com", hash_password("carol-pass"), "", 0});
  Result r = apply();
  EXPECT_EQ(r.files_changed, 0u);
  EXPECT_TRUE(r.services_changed.empty());
  EXPECT_TRUE(the_store().password_hash("carol@example.com"));
}

TEST_F(MailFixture, MissingPasswordFileWithoutStoredHashFails) {
  fs::remove(dir / "bob.secret");
  EXPECT_THROW(apply(), Error);
}

TEST_F(MailFixture, ReadOnlyPasswordFileIsLeftInPlace) {
  ::chmod((dir / "bob.secret").c_str(), 0444);
  apply();
  EXPECT_TRUE(fs::exists(dir / "bob.secret"));
  EXPECT_NE(log_text.str().find("left in place"), std::string::npos);
}

TEST_F(MailFixture, FailedCheckRestoresThePreviousConfig) {
  apply();
  std::string before = read_file(sb("/etc/postfix/main.cf"));
  profile.limits.message_size_bytes = 1234;
  commands->failures["postsuper -c"] = "postsuper: fatal: bad numerical configuration";
  try {
    apply();
    FAIL() << "expected the check to fail";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("bad numerical configuration"), std::string::npos) << what;
    EXPECT_NE(what.find("main"), std::string::npos) << what;
    EXPECT_NE(what.find("previous configuration was restored"), std::string::npos) << what;
  }
  EXPECT_EQ(read_file(sb("/etc/postfix/main.cf")), before);
  EXPECT_EQ(services.restarts["postfix"], 0);
}

TEST_F(MailFixture, ConfigChangeRestartsOnlyItsService) {
  apply();
  profile.limits.message_size_bytes = 1234;
  Result r = apply();
  EXPECT_GT(r.files_changed, 0u);
  EXPECT_EQ(services.restarts["postfix"], 1);
  EXPECT_EQ(services.restarts["dovecot"], 0);
  EXPECT_EQ(services.restarts["opendkim"], 0);
}

TEST_F(MailFixture, PlanWritesNothing) {
  Result r = apply(true);
  EXPECT_GT(r.files_changed, 0u);
  EXPECT_FALSE(fs::exists(sb("/etc/postfix/main.cf")));
  EXPECT_TRUE(fs::exists(dir / "bob.secret"));
  EXPECT_TRUE(commands->calls.empty());
}

TEST_F(MailFixture, RelayModeKeepsThePasswordAfterTheFileIsGone) {
  profile.mode = MailMode::relay;
  profile.users.clear();
  profile.aliases.clear();
  Relay relay;
  relay.host = "127.0.0.1";
  relay.port = 2587;
  relay.username = "relay@example.com";
  relay.password_file = (dir / "relay.secret").string();
  relay.mappings = {{"contact-sales@mailer.example.com", "contact-sales@example.com"}};
  profile.relay = relay;
  std::ofstream(dir / "relay.secret") << "relay-demo-secret\n";
  apply();
  EXPECT_FALSE(services.running["dovecot"]);
  EXPECT_FALSE(fs::exists(dir / "relay.secret"));
  std::string map = read_file(sb("/etc/postfix/sasl_passwd"));
  EXPECT_NE(map.find("[127.0.0.1]:2587 relay@example.com:relay-demo-secret"), std::string::npos);
  struct stat st {};
  ::stat(sb("/etc/postfix/sasl_passwd").c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(log_text.str().find("relay-demo-secret"), std::string::npos);
  Result again = apply();
  EXPECT_EQ(again.files_changed, 0u);
  EXPECT_EQ(read_file(sb("/etc/postfix/sasl_passwd")), map);
}

TEST_F(MailFixture, SwitchingModeStopsUnusedServices) {
  apply();
  EXPECT_TRUE(services.running["dovecot"]);
  profile.mode = MailMode::local;
  profile.users[1].password_file.clear();
  apply();
  EXPECT_FALSE(services.running["dovecot"]);
  EXPECT_TRUE(services.running["opendmarc"]);
}

TEST_F(MailFixture, CheckProfileNeedsADomain) {
  profile.domains.clear();
  std::vector<ProfileIssue> issues;
  module->check_profile(profile, issues);
  EXPECT_FALSE(issues.empty());
}

}  // namespace
}  // namespace firstboot
