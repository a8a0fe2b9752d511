#include <gtest/gtest.h>

#include <filesystem>

#include "profile/profile_loader.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = FIRSTBOOT_SOURCE_DIR;

std::string all_issues(const LoadedProfile& loaded) {
  std::string out;
  for (auto& issue : loaded.issues) out += issue.format() + "\n";
  return out;
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
  EXPECT_EQ(p.hostname, "mail.example.com");
  EXPECT_EQ(p.mode, MailMode::full);
  ASSERT_EQ(p.domains.size(), 1U);
  EXPECT_EQ(p.domains[0].dkim.algorithms, (std::vector<std::string>{"rsa-2048", "ed25519"}));
  ASSERT_EQ(p.users.size(), 2U);
  EXPECT_EQ(p.users[0].quota_bytes, 2ULL << 30);
  EXPECT_EQ(p.users[1].password_file, (kSource / "profiles" / "secrets" / "bob.secret").string());
  EXPECT_EQ(p.sandbox_ports.smtp, 2525);
  EXPECT_EQ(p.monitoring.interval_seconds, 900);
  EXPECT_EQ(p.digest.size(), 64U);
}

}  // namespace
}  // namespace firstboot
