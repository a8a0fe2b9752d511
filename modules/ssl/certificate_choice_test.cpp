#include "certificate_choice.h"

#include <gtest/gtest.h>

namespace firstboot {
namespace {

using Clock = std::chrono::system_clock;

CertificateCandidate make(CertificateSource source, std::vector<std::string> names, int days) {
  std::string key = generate_private_key_pem(KeyType::ec_p256);
  return {source, std::string(to_string(source)) + ".pem", std::string(to_string(source)) + ".key",
          make_self_signed_certificate(key, names, days), key};
}

TEST(CertificateChoice, PrefersLiveOverStaged) {
  auto live = make(CertificateSource::live, {"mail.example.com"}, 90);
  auto staged = make(CertificateSource::staged, {"mail.example.com"}, 365);
  auto choice = choose_certificate({staged, live}, "mail.example.com", Clock::now());
  ASSERT_TRUE(choice.chosen);
  EXPECT_EQ(choice.chosen->source, CertificateSource::live);
}

TEST(CertificateChoice, PassesOverUnusableWithReasons) {
  auto live = make(CertificateSource::live, {"other.example.com"}, 90);
  auto staged = make(CertificateSource::staged, {"mail.example.com"}, 365);
  staged.key_pem = generate_private_key_pem(KeyType::ec_p256);  // wrong key
  auto choice = choose_certificate({live, staged}, "mail.example.com", Clock::now());
  EXPECT_FALSE(choice.chosen);  // self-signed then
  ASSERT_EQ(choice.notes.size(), 2u);
  EXPECT_NE(choice.notes[0].find("not in the certificate's names (other.example.com)"),
            std::string::npos);
  EXPECT_NE(choice.notes[1].find("does not belong to the certificate"), std::string::npos);
}

TEST(CertificateChoice, ExpiredIsRejected) {
  auto staged = make(CertificateSource::staged, {"mail.example.com"}, 1);
  auto verdict =
      assess_candidate(staged, "mail.example.com", Clock::now() + std::chrono::hours(72));
  EXPECT_FALSE(verdict.usable);
  EXPECT_NE(verdict.problems.front().find("expired"), std::string::npos);
}

TEST(CertificateChoice, SelfSignedKeptUntilNamesChangeOrExpiryNears) {
  auto key = generate_private_key_pem(KeyType::ec_p256);
  auto info = inspect_certificate(make_self_signed_certificate(key, {"mail.example.com"}, 825));
  auto now = Clock::now();
  EXPECT_TRUE(self_signed_still_good(info, {"mail.example.com"}, now));
  EXPECT_FALSE(self_signed_still_good(info, {"mail.example.com", "mx.example.com"}, now));
  EXPECT_FALSE(
      self_signed_still_good(info, {"mail.example.com"}, now + std::chrono::hours(24 * 800)));
}

}  // namespace
}  // namespace firstboot
