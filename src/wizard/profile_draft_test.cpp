#include "wizard/profile_draft.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "wizard/dns_preview.h"

namespace firstboot::wizard {
namespace {

ProfileDraft relay_draft() {
  ProfileDraft d;
  d.hostname = "relay.example.com";
  d.mode = MailMode::relay;
  d.domains = {"example.com"};
  d.admin_email = "ops@example.com";
  d.relay.host = "smtp.provider.example";
  d.relay.port = 465;
  d.relay.username = "yes";  // a YAML 1.1 boolean word must stay a string
  d.relay.password_file = "/etc/firstboot/relay.secret";
  d.relay.mappings = {{"a@mailer.example.com", "a@example.com"}};
  return d;
}

TEST(ProfileDraft, RelayYamlHasNoUsersAndQuotedStrings) {
  std::string text = to_yaml(relay_draft(), {"written by a test"});
  EXPECT_EQ(text.rfind("# written by a test\n", 0), 0u) << text;
  YAML::Node doc = YAML::Load(text);
  EXPECT_EQ(doc["mode"].as<std::string>(), "relay");
  EXPECT_FALSE(doc["users"]);
  EXPECT_EQ(doc["relay"]["port"].as<int>(), 465);
  EXPECT_EQ(doc["relay"]["username"].Tag(), "!");  // double-quoted: a string, not a boolean
  EXPECT_EQ(doc["relay"]["password_file"].as<std::string>(), "/etc/firstboot/relay.secret");
  EXPECT_EQ(doc["relay"]["mappings"]["a@mailer.example.com"].as<std::string>(), "a@example.com");
  EXPECT_EQ(doc["tls"]["source"].as<std::string>(), "self-signed");
  EXPECT_EQ(doc["dns"]["serve"].as<std::string>(), "none");
  EXPECT_EQ(doc["monitoring"]["alert_to"].as<std::string>(), "ops@example.com");
}

TEST(ProfileDraft, FullYamlListsTheAdminFirst) {
  ProfileDraft d;
  d.hostname = "mail.example.com";
  d.domains = {"example.com", "example.org"};
  d.admin_email = "admin@example.com";
  d.admin_password_hash = "$y$j9T$abc$def";
  d.users = {{"bob@example.org", "$y$j9T$x$y", "2G"}};
  d.tls.source = "provided";
  d.tls.cert_file = "/etc/ssl/mail.pem";
  d.tls.key_file = "/etc/ssl/mail.key";
  d.dns_serve = "nsd";
  YAML::Node doc = YAML::Load(to_yaml(d));
  ASSERT_EQ(doc["users"].size(), 2u);
  EXPECT_EQ(doc["users"][0]["address"].as<std::string>(), "admin@example.com");
  EXPECT_EQ(doc["users"][0]["password_hash"].as<std::string>(), "$y$j9T$abc$def");
  EXPECT_EQ(doc["users"][1]["quota"].as<std::string>(), "2G");
  EXPECT_EQ(doc["domains"][1]["name"].as<std::string>(), "example.org");
  EXPECT_EQ(doc["tls"]["cert"].as<std::string>(), "/etc/ssl/mail.pem");
  EXPECT_EQ(doc["tls"]["key"].as<std::string>(), "/etc/ssl/mail.key");
  EXPECT_FALSE(doc["relay"]);
}

TEST(DnsPreview, ListsTheRecordNamesOfEachDomain) {
  Profile p;
  p.hostname = "mail.example.com";
  p.admin_email = "admin@example.com";
  p.domains = {Domain{"example.com", {}, {}}, Domain{"example.org", {}, {}}};
  std::string text = derived_dns_record_names(p);
  EXPECT_NE(text.find("Create these records"), std::string::npos);
  EXPECT_NE(text.find("MX    @                        10 mail.example.com."), std::string::npos)
      << text;
  EXPECT_NE(text.find("A     mail "), std::string::npos) << text;
  EXPECT_NE(text.find("mail._domainkey"), std::string::npos);
  EXPECT_NE(text.find("_dmarc"), std::string::npos);
  EXPECT_NE(text.find("_submission._tcp"), std::string::npos);
  EXPECT_NE(text.find("example.org\n"), std::string::npos);
  for (const auto& line : std::vector<std::string>{text})
    EXPECT_EQ(line.find('\t'), std::string::npos);
}

TEST(DnsPreview, HostOutsideTheDomainsAndServedZones) {
  Profile p;
  p.hostname = "mx.provider.example";
  p.admin_email = "admin@example.com";
  p.mode = MailMode::relay;
  p.dns.serve = "bind";
  p.relay = Relay{"smtp.provider.example", 587, "u", "/x", "_spf.provider.example", {}};
  p.domains = {Domain{"example.com", {}, {}}};
  std::string text = derived_dns_record_names(p);
  EXPECT_NE(text.find("delegate"), std::string::npos);
  EXPECT_NE(text.find("mx.provider.example (outside these domains)"), std::string::npos) << text;
  EXPECT_NE(text.find("include:_spf.provider.example"), std::string::npos);
  EXPECT_EQ(text.find("_submission._tcp"), std::string::npos);
}

}  // namespace
}  // namespace firstboot::wizard
