#include "ssl_module.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>

#include "crypto/keys.h"
#include "engine/error.h"
#include "engine/test_support.h"
#include "profile/profile_loader.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

struct SslFixture : ::testing::Test {
  testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path() / "sb");
  testing::FakeSupervisor services;
  TemplateRenderer templates{dir.path()};
  spdlog::logger log{"ssl", std::make_shared<spdlog::sinks::null_sink_mt>()};
  Profile profile;
  std::unique_ptr<Module> module = make_ssl_module();

  SslFixture() { profile.hostname = "mail.example.com"; }

  std::size_t apply(bool dry_run = false) {
    FileWriter files(layout.state_dir() / "backup", "r", dry_run);
    ModuleContext ctx(profile, layout, files, services, templates, log, nullptr, dry_run);
    module->apply(ctx);
    return files.changed_count();
  }
  std::vector<CheckResult> validate() {
    FileWriter files(layout.state_dir() / "backup", "r", false);
    ModuleContext ctx(profile, layout, files, services, templates, log, nullptr, false);
    return module->validate(ctx);
  }
  fs::path active_cert() { return layout.map(active_certificate_path(profile.hostname)); }
  fs::path active_key() { return layout.map(active_key_path(profile.hostname)); }
};

TEST_F(SslFixture, SelfSignedOnFirstRunKeptOnSecond) {
  EXPECT_GT(apply(), 0u);
  std::string cert = read_file(active_cert());
  auto info = inspect_certificate(cert);
  EXPECT_TRUE(info.self_signed);
  EXPECT_EQ(info.dns_names, std::vector<std::string>{"mail.example.com"});
  struct stat st {};
  ::stat(active_key().c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(apply(), 0u);
  EXPECT_EQ(read_file(active_cert()), cert);
  for (auto& c : validate()) EXPECT_EQ(c.status, CheckStatus::pass) << c.id << ": " << c.detail;
}

TEST_F(SslFixture, NewNameReissuesCertificateButKeepsKey) {
  apply();
  std::string key = read_file(active_key());
  profile.tls.extra_names = {"mx.example.com"};
  EXPECT_GT(apply(), 0u);
  EXPECT_EQ(read_file(active_key()), key);
  EXPECT_EQ(inspect_certificate(read_file(active_cert())).dns_names.size(), 2u);
}

TEST_F(SslFixture, PlanWritesNothing) {
  EXPECT_GT(apply(true), 0u);
  EXPECT_FALSE(fs::exists(dir.path() / "sb"));
}

TEST_F(SslFixture, LiveCertificateWinsOverSelfSigned) {
  apply();
  std::string key = generate_private_key_pem(KeyType::ec_p256);
  std::string cert = make_self_signed_certificate(key, {"mail.example.com"}, 90);
  fs::create_directories(layout.map("/etc/firstboot/tls/live/mail.example.com"));
  std::ofstream(layout.map("/etc/firstboot/tls/live/mail.example.com/fullchain.pem")) << cert;
  std::ofstream(layout.map("/etc/firstboot/tls/live/mail.example.com/privkey.pem")) << key;
  EXPECT_GT(apply(), 0u);
  EXPECT_EQ(read_file(active_cert()), cert);
  EXPECT_EQ(read_file(active_key()), key);
}

TEST_F(SslFixture, ProvidedCertificateProblemsAreProfileErrors) {
  std::string key = generate_private_key_pem(KeyType::ec_p256);
  std::string cert = make_self_signed_certificate(key, {"other.example.com"}, 90);
  std::ofstream(dir / "cert.pem") << cert;
  std::ofstream(dir / "key.pem") << generate_private_key_pem(KeyType::ec_p256);
  profile.tls.source = "provided";
  profile.tls.cert_file = (dir / "cert.pem").string();
  profile.tls.key_file = (dir / "key.pem").string();
  std::vector<ProfileIssue> issues;
  module->check_profile(profile, issues);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].field, "tls.key");
  EXPECT_NE(issues[0].message.find("does not belong"), std::string::npos);
  EXPECT_EQ(issues[1].field, "tls.cert");
  EXPECT_NE(issues[1].message.find("not in the certificate's names"), std::string::npos);
  EXPECT_THROW(apply(), Error);
}

TEST_F(SslFixture, ValidateFlagsReadableKey) {
  apply();
  ::chmod(active_key().c_str(), 0644);
  bool flagged = false;
  for (auto& c : validate())
    if (c.id == "ssl.key-permissions.mail.example.com") flagged = c.status == CheckStatus::fail;
  EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace firstboot
