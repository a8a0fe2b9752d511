#include "crypto/keys.h"

#include <gtest/gtest.h>

#include "engine/error.h"

namespace firstboot {
namespace {

using std::chrono::hours;
using Clock = std::chrono::system_clock;

TEST(Keys, GeneratesEachKeyTypeAsPkcs8) {
  for (auto type : {KeyType::ec_p256, KeyType::rsa_2048, KeyType::ed25519}) {
    std::string pem = generate_private_key_pem(type);
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  }
  EXPECT_EQ(key_algorithm(generate_private_key_pem(KeyType::ed25519)), "ed25519");
  EXPECT_EQ(key_algorithm(generate_private_key_pem(KeyType::rsa_2048)), "rsa");
}

TEST(Keys, DkimPublicKeys) {
  // Ed25519: the raw 32-byte key, 44 base64 characters (RFC 8463).
  EXPECT_EQ(dkim_public_key_base64(generate_private_key_pem(KeyType::ed25519)).size(), 44u);
  // RSA-2048: DER SubjectPublicKeyInfo, 294 bytes -> 392 base64 characters.
  EXPECT_EQ(dkim_public_key_base64(generate_private_key_pem(KeyType::rsa_2048)).size(), 392u);
}

TEST(Keys, SelfSignedCertificateCoversNamesAndMatchesKey) {
  std::string key = generate_private_key_pem(KeyType::ec_p256);
  std::string cert = make_self_signed_certificate(key, {"mail.example.com", "mx.example.org"}, 825);
  CertificateInfo info = inspect_certificate(cert);
  EXPECT_TRUE(info.self_signed);
  EXPECT_EQ(info.dns_names, (std::vector<std::string>{"mail.example.com", "mx.example.org"}));
  EXPECT_TRUE(certificate_covers(info, "MAIL.example.com"));
  EXPECT_FALSE(certificate_covers(info, "other.example.com"));
  EXPECT_TRUE(key_matches_certificate(key, cert));
  EXPECT_FALSE(key_matches_certificate(generate_private_key_pem(KeyType::ec_p256), cert));
  auto days = std::chrono::duration_cast<hours>(info.not_after - Clock::now()).count() / 24;
  EXPECT_GE(days, 824);
  EXPECT_LE(days, 825);
  std::string why;
  EXPECT_TRUE(chain_in_order(cert, &why));
}

TEST(Keys, WildcardCoversOneLabelOnly) {
  CertificateInfo info;
  info.dns_names = {"*.example.com"};
  EXPECT_TRUE(certificate_covers(info, "mail.example.com"));
  EXPECT_FALSE(certificate_covers(info, "a.mail.example.com"));
  EXPECT_FALSE(certificate_covers(info, "example.com"));
}

TEST(Keys, ChainOutOfOrderIsDetected) {
  std::string k1 = generate_private_key_pem(KeyType::ec_p256);
  std::string k2 = generate_private_key_pem(KeyType::ec_p256);
  std::string two = make_self_signed_certificate(k1, {"a.example"}, 10) +
                    make_self_signed_certificate(k2, {"b.example"}, 10);
  std::string why;
  EXPECT_FALSE(chain_in_order(two, &why));
  EXPECT_NE(why.find("not issued by"), std::string::npos);
}

TEST(Keys, GarbageIsAnError) {
  EXPECT_THROW(inspect_certificate("not a certificate"), Error);
  EXPECT_THROW(key_algorithm("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
               Error);
}

TEST(Keys, Sha256AndTokens) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(random_token(16).size(), 32u);
  EXPECT_NE(random_token(16), random_token(16));
}

}  // namespace
}  // namespace firstboot
