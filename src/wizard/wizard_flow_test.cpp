#include "wizard/wizard_flow.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <deque>

#include "crypto/password_hash.h"
#include "engine/test_support.h"

namespace firstboot::wizard {
namespace {

namespace fs = std::filesystem;

// What the scripted person does on one screen.
struct Action {
  Action(std::string screen_id, std::vector<std::string> field_values = {},
         std::string menu_choice = "", Nav how = Nav::next)
      : screen(std::move(screen_id)),
        values(std::move(field_values)),
        choice(std::move(menu_choice)),
        nav(how) {}
  std::string screen;               // expected screen id
  std::vector<std::string> values;  // form: field values in order ("=" keeps the default)
  std::string choice;               // menu: the key to pick ("=" keeps the default)
  Nav nav;
};

struct Seen {
  std::string id;
  std::string error;
  std::vector<Field> fields;  // as shown (secrets must arrive empty)
  std::string text;
};

class ScriptedUi : public WizardUi {
 public:
  explicit ScriptedUi(std::deque<Action> script) : script_(std::move(script)) {}

  Nav form(FormScreen& s) override {
    seen.push_back({s.id, s.error, s.fields, s.text});
    Action a = take(s.id);
    for (std::size_t i = 0; i < a.values.size() && i < s.fields.size(); ++i)
      if (a.values[i] != "=") s.fields[i].value = a.values[i];
    return a.nav;
  }
  Nav menu(MenuScreen& s) override {
    seen.push_back({s.id, s.error, {}, s.text});
    Action a = take(s.id);
    if (!a.choice.empty() && a.choice != "=") s.selected = a.choice;
    return a.nav;
  }
  Nav review(const ReviewScreen& s) override {
    seen.push_back({s.id, "", {}, s.text});
    return take(s.id).nav;
  }
  Nav confirm_quit(const std::string& text) override {
    seen.push_back({"quit?", "", {}, text});
    return take("quit?").nav;
  }

  std::vector<Seen> seen;
  std::vector<std::string> unexpected;

 private:
  Action take(const std::string& id) {
    if (script_.empty()) {
      unexpected.push_back(id + " (script ended)");
      return {id, {}, "", Nav::abort};
    }
    Action a = script_.front();
    script_.pop_front();
    if (a.screen != id) {
      unexpected.push_back("wanted " + a.screen + ", got " + id);
      return {id, {}, "", Nav::abort};
    }
    return a;
  }
  std::deque<Action> script_;
};

const std::string kPassword = "correct horse battery";
const std::string kRelayPassword = "provider-secret-42";

class WizardFlowTest : public ::testing::Test {
 protected:
  WizardFlowTest() {
    options.default_hostname = "mail.example.com";
    options.profile_file = (scratch / "profile.yaml").string();
    options.relay_password_file = (scratch / "relay.secret").string();
    options.check_profile = [this](const std::string& yaml) {
      ++checks;
      last_yaml = yaml;
      return load_profile_text(yaml, options.profile_file, {});
    };
    options.hash_password = [this](const std::string& password) {
      ++hashes;
      return firstboot::hash_password(password);
    };
  }

  std::optional<WizardResult> run(std::deque<Action> script) {
    ui = std::make_unique<ScriptedUi>(std::move(script));
    auto result = run_wizard(*ui, options);
    EXPECT_TRUE(ui->unexpected.empty()) << ui->unexpected.front();
    return result;
  }

  int count(const std::string& id) const {
    int n = 0;
    for (const auto& s : ui->seen) n += s.id == id ? 1 : 0;
    return n;
  }
  const Seen& last(const std::string& id) const {
    for (auto it = ui->seen.rbegin(); it != ui->seen.rend(); ++it)
      if (it->id == id) return *it;
    throw std::runtime_error("screen never shown: " + id);
  }

  testing::ScratchDir scratch;
  WizardOptions options;
  std::unique_ptr<ScriptedUi> ui;
  int checks = 0;
  int hashes = 0;
  std::string last_yaml;
};

std::deque<Action> full_mode_script() {
  return {{"hostname", {"="}},
          {"mode", {}, "full"},
          {"domains", {"="}},
          {"admin", {"=", kPassword, kPassword}},
          {"users", {}, "add"},
          {"user", {"alice@example.com", "alice-password", "alice-password", "2g"}},
          {"users", {}, "done"},
          {"tls", {}, "self-signed"},
          {"dns", {}, "none"},
          {"summary"}};
}

TEST_F(WizardFlowTest, FullModeWalkThroughMakesALoadableProfileWithHashesOnly) {
  auto result = run(full_mode_script());
  ASSERT_TRUE(result);
  EXPECT_EQ(result->profile.hostname, "mail.example.com");
  EXPECT_EQ(result->profile.mode, MailMode::full);
  ASSERT_EQ(result->profile.domains.size(), 1u);
  EXPECT_EQ(result->profile.domains[0].name, "example.com");
  ASSERT_EQ(result->profile.users.size(), 2u);
  EXPECT_EQ(result->profile.users[0].address, "admin@example.com");
  EXPECT_TRUE(verify_password(kPassword, result->profile.users[0].password_hash));
  EXPECT_EQ(result->profile.users[1].address, "alice@example.com");
  EXPECT_TRUE(verify_password("alice-password", result->profile.users[1].password_hash));
  EXPECT_EQ(result->profile.users[1].quota_bytes, 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(result->profile.tls.source, "self-signed");
  EXPECT_EQ(result->profile.dns.serve, "none");
  EXPECT_EQ(result->yaml.find(kPassword), std::string::npos);
  EXPECT_EQ(result->yaml.find("alice-password"), std::string::npos);
  EXPECT_TRUE(result->relay_secret.empty());
  EXPECT_EQ(hashes, 2);
  // The YAML is the document the loader accepted.
  EXPECT_EQ(result->yaml, last_yaml);
  // Password fields never arrive pre-filled.
  for (const auto& s : ui->seen)
    for (const auto& f : s.fields)
      if (f.secret) {
        EXPECT_TRUE(f.value.empty()) << s.id;
      }
}

TEST_F(WizardFlowTest, DefaultsComeFromTheMachineAndTheHostName) {
  options.default_hostname = "mx1.mail.example.org";
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "="},
                     {"domains", {"="}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(last("hostname").fields[0].value, "mx1.mail.example.org");
  EXPECT_EQ(last("domains").fields[0].value, "mail.example.org");
  EXPECT_EQ(last("admin").fields[0].value, "admin@mail.example.org");
  EXPECT_EQ(result->profile.mode, MailMode::full);
}

TEST_F(WizardFlowTest, RelayModeKeepsTheSecretOutOfTheProfile) {
  auto result = run(
      {{"hostname", {"relay.example.com"}},
       {"mode", {}, "relay"},
       {"domains", {"example.com"}},
       {"admin", {"ops@example.com"}},
       {"relay",
        {"smtp.provider.example", "587", "relay@example.com", kRelayPassword, kRelayPassword,
         "_spf.provider.example", "contact-sales@mailer.example.com=contact-sales@example.com"}},
       {"tls", {}, "self-signed"},
       {"dns", {}, "none"},
       {"summary"}});
  ASSERT_TRUE(result) << last("relay").error;
  EXPECT_EQ(result->profile.mode, MailMode::relay);
  ASSERT_TRUE(result->profile.relay);
  EXPECT_EQ(result->profile.relay->host, "smtp.provider.example");
  EXPECT_EQ(result->profile.relay->port, 587);
  EXPECT_EQ(result->profile.relay->username, "relay@example.com");
  EXPECT_EQ(result->profile.relay->password_file, options.relay_password_file);
  EXPECT_EQ(result->profile.relay->spf_include, "_spf.provider.example");
  EXPECT_EQ(result->profile.relay->mappings.at("contact-sales@mailer.example.com"),
            "contact-sales@example.com");
  EXPECT_EQ(result->relay_secret, kRelayPassword);
  EXPECT_EQ(result->yaml.find(kRelayPassword), std::string::npos);
  EXPECT_TRUE(result->profile.users.empty());
  EXPECT_EQ(result->profile.admin_email, "ops@example.com");
  EXPECT_EQ(hashes, 0);
  EXPECT_EQ(count("users"), 0);
  // Relay mode asks no admin password.
  EXPECT_EQ(last("admin").fields.size(), 1u);
}

TEST_F(WizardFlowTest, LocalModeWithBindAndAcme) {
  auto result = run({{"hostname", {"mail.example.net"}},
                     {"mode", {}, "local"},
                     {"domains", {"example.net, example.org"}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "done"},
                     {"tls", {}, "acme"},
                     {"tls-acme", {"=", "="}},
                     {"dns", {}, "bind"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->profile.mode, MailMode::local);
  ASSERT_EQ(result->profile.domains.size(), 2u);
  EXPECT_EQ(result->profile.domains[1].name, "example.org");
  EXPECT_EQ(result->profile.tls.source, "acme");
  EXPECT_EQ(result->profile.tls.acme_directory, "https://acme-v02.api.letsencrypt.org/directory");
  EXPECT_EQ(result->profile.tls.acme_email, "admin@example.net");
  EXPECT_EQ(result->profile.dns.serve, "bind");
}

TEST_F(WizardFlowTest, ProvidedCertificateMustBeReadable) {
  fs::path cert = scratch / "cert.pem", key = scratch / "key.pem";
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "full"},
                     {"domains", {"="}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "done"},
                     {"tls", {}, "provided"},
                     {"tls-provided", {cert.string(), key.string()}},
                     {"tls-provided", {"=", "="}, "", Nav::back},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_NE(last("tls-provided").error.find("Cannot read"), std::string::npos);
  EXPECT_EQ(result->profile.tls.source, "self-signed");
}

TEST_F(WizardFlowTest, InvalidHostNameIsShownAndAskedAgain) {
  auto script = full_mode_script();
  script.pop_front();
  script.push_front({"hostname", {"mail.example.com"}});
  script.push_front({"hostname", {"mail"}});
  script.push_front({"hostname", {"bad_host!.example.com"}});
  auto result = run(script);
  ASSERT_TRUE(result);
  ASSERT_EQ(count("hostname"), 3);
  EXPECT_EQ(ui->seen[0].error, "");
  EXPECT_NE(ui->seen[1].error.find("not a valid host name"), std::string::npos)
      << ui->seen[1].error;
  EXPECT_NE(ui->seen[2].error.find("not fully qualified"), std::string::npos) << ui->seen[2].error;
  // The refused answer stays in the field so it can be corrected.
  EXPECT_EQ(ui->seen[2].fields[0].value, "mail");
}

TEST_F(WizardFlowTest, MismatchedPasswordsAreShownAndAskedAgainWithEmptyFields) {
  auto script = full_mode_script();
  script.erase(script.begin() + 3);
  script.insert(script.begin() + 3, {"admin", {"=", kPassword, kPassword}});
  script.insert(script.begin() + 3, {"admin", {"=", "short", "short"}});
  script.insert(script.begin() + 3, {"admin", {"=", kPassword, kPassword + "x"}});
  auto result = run(script);
  ASSERT_TRUE(result);
  ASSERT_EQ(count("admin"), 3);
  std::vector<const Seen*> admin;
  for (const auto& s : ui->seen)
    if (s.id == "admin") admin.push_back(&s);
  EXPECT_NE(admin[1]->error.find("differ"), std::string::npos) << admin[1]->error;
  EXPECT_NE(admin[2]->error.find("too short"), std::string::npos) << admin[2]->error;
  EXPECT_TRUE(admin[1]->fields[1].value.empty());
  EXPECT_TRUE(admin[1]->fields[2].value.empty());
  EXPECT_EQ(admin[1]->fields[0].value, "admin@example.com");
  // Only the accepted password was hashed.
  EXPECT_EQ(hashes, 2);
}

TEST_F(WizardFlowTest, MailboxOutsideTheDomainsOrTakenIsRefused) {
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "full"},
                     {"domains", {"="}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "add"},
                     {"user", {"bob@elsewhere.example", "bob-password", "bob-password", ""}},
                     {"user", {"ADMIN@example.com", "bob-password", "bob-password", ""}},
                     {"user", {"bob@example.com", "bob-password", "bob-password", "lots"}},
                     {"user", {"bob@example.com", "bob-password", "bob-password", ""}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary"}});
  ASSERT_TRUE(result);
  std::vector<std::string> errors;
  for (const auto& s : ui->seen)
    if (s.id == "user") errors.push_back(s.error);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[1].find("not in one of this server's domains"), std::string::npos);
  EXPECT_NE(errors[2].find("already exists"), std::string::npos);
  EXPECT_NE(errors[3].find("not a size"), std::string::npos);
  ASSERT_EQ(result->profile.users.size(), 2u);
}

TEST_F(WizardFlowTest, EscapeAsksAndQuitWritesNothing) {
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "full"},
                     {"domains", {"="}, "", Nav::cancel},
                     {"quit?", {}, "", Nav::next}});
  EXPECT_FALSE(result);
  EXPECT_EQ(checks, 0);
}

TEST_F(WizardFlowTest, EscapeThenContinueStaysOnTheQuestion) {
  auto script = full_mode_script();
  script.push_front({"quit?", {}, "", Nav::back});
  script.push_front({"hostname", {"="}, "", Nav::cancel});
  ASSERT_TRUE(run(script));
}

TEST_F(WizardFlowTest, CtrlCAbortsAtOnceEvenOnTheSummary) {
  auto script = full_mode_script();
  script.back().nav = Nav::abort;
  EXPECT_FALSE(run(script));
  EXPECT_EQ(count("quit?"), 0);
}

TEST_F(WizardFlowTest, QuitOnTheSummaryReturnsNothing) {
  auto script = full_mode_script();
  script.back().nav = Nav::cancel;
  script.push_back({"quit?", {}, "", Nav::next});
  EXPECT_FALSE(run(script));
}

TEST_F(WizardFlowTest, BackGoesToThePreviousQuestionAndKeepsAnswers) {
  auto result = run({{"hostname", {"mail.example.com"}},
                     {"mode", {}, "full"},
                     {"domains", {"example.com"}, "", Nav::back},
                     {"mode", {}, "local", Nav::back},
                     {"hostname", {"="}},
                     {"mode", {}, "="},
                     {"domains", {"="}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary", {}, "", Nav::back},
                     {"dns", {}, "nsd"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->profile.mode, MailMode::full);  // Back does not keep the choice shown
  EXPECT_EQ(result->profile.dns.serve, "nsd");
  EXPECT_EQ(last("hostname").fields[0].value, "mail.example.com");
}

TEST_F(WizardFlowTest, GoingBackToTheAdminKeepsTheHashWhenThePasswordIsLeftEmpty) {
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "full"},
                     {"domains", {"="}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "done", Nav::back},
                     {"admin", {"=", "", ""}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(hashes, 1);
  EXPECT_TRUE(verify_password(kPassword, result->profile.users[0].password_hash));
}

TEST_F(WizardFlowTest, ALoaderIssueSendsThePersonBackToItsQuestion) {
  int calls = 0;
  options.check_profile = [&](const std::string& yaml) {
    LoadedProfile loaded = load_profile_text(yaml, "wizard", {});
    if (calls++ == 0) {
      loaded.profile.reset();
      loaded.issues.push_back({"wizard", 5, 3, "domains[0].name", "is reserved for testing"});
    }
    return loaded;
  };
  auto script = full_mode_script();
  script.pop_back();  // the summary is not shown: the loader refused the profile
  script.push_back({"domains", {"example.net"}});
  script.push_back({"admin", {"admin@example.net", "", ""}});
  script.push_back({"users", {}, "add"});
  script.push_back({"user", {"alice@example.net", "alice-password", "alice-password", ""}});
  script.push_back({"users", {}, "remove:alice@example.com"});
  script.push_back({"users", {}, "done"});
  script.push_back({"tls", {}, "="});
  script.push_back({"dns", {}, "="});
  script.push_back({"summary"});
  auto result = run(script);
  ASSERT_TRUE(result);
  EXPECT_EQ(last("domains").error, "domains[0].name: is reserved for testing");
  EXPECT_EQ(result->profile.domains[0].name, "example.net");
  ASSERT_EQ(result->profile.users.size(), 2u);
  EXPECT_EQ(result->profile.users[1].address, "alice@example.net");
}

TEST_F(WizardFlowTest, RemovingADomainSendsBackToItsMailboxes) {
  auto result = run({{"hostname", {"="}},
                     {"mode", {}, "full"},
                     {"domains", {"example.com example.org"}},
                     {"admin", {"=", kPassword, kPassword}},
                     {"users", {}, "add"},
                     {"user", {"bob@example.org", "bob-password", "bob-password", ""}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none", Nav::back},
                     {"tls", {}, "self-signed", Nav::back},
                     {"users", {}, "done", Nav::back},
                     {"admin", {"=", "", ""}, "", Nav::back},
                     {"domains", {"example.com"}},
                     {"admin", {"=", "", ""}},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"users", {}, "remove:bob@example.org"},
                     {"users", {}, "done"},
                     {"tls", {}, "self-signed"},
                     {"dns", {}, "none"},
                     {"summary"}});
  ASSERT_TRUE(result);
  EXPECT_NE(ui->seen[17].error.find("bob@example.org is not in one of the domains"),
            std::string::npos)
      << ui->seen[17].error;
  EXPECT_EQ(result->profile.users.size(), 1u);
}

TEST_F(WizardFlowTest, SummaryShowsTheDnsRecordsFromTheHook) {
  options.dns_records = [](const Profile& p) { return "RECORDS FOR " + p.domains[0].name + "\n"; };
  options.accept_label = "Write";
  ASSERT_TRUE(run(full_mode_script()));
  const Seen& summary = last("summary");
  EXPECT_NE(summary.text.find("RECORDS FOR example.com"), std::string::npos);
  EXPECT_NE(summary.text.find("admin@example.com (password hashed)"), std::string::npos);
  EXPECT_NE(summary.text.find(options.profile_file), std::string::npos);
}

TEST_F(WizardFlowTest, ARefusedScreenIsNotAskedForever) {
  std::deque<Action> script = {{"hostname", {"="}}, {"mode", {}, "full"}};
  for (int i = 0; i < 250; ++i) script.push_back({"domains", {"not a domain!"}});
  ui = std::make_unique<ScriptedUi>(script);
  EXPECT_FALSE(run_wizard(*ui, options));
}

}  // namespace
}  // namespace firstboot::wizard
