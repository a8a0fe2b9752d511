#include "crypto/password_hash.h"

#include <gtest/gtest.h>

namespace firstboot {
namespace {

TEST(PasswordHash, YescryptRoundTrip) {
  std::string h = hash_password("correct horse");
  EXPECT_EQ(h.rfind("$y$", 0), 0u);
  EXPECT_TRUE(looks_like_crypt_hash(h));
  EXPECT_TRUE(verify_password("correct horse", h));
  EXPECT_FALSE(verify_password("wrong horse", h));
  EXPECT_NE(hash_password("correct horse"), h);  // fresh salt every time
}

TEST(PasswordHash, RecognisesSchemesAndRefusesPlainText) {
  EXPECT_TRUE(looks_like_crypt_hash("$6$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789"));
  EXPECT_FALSE(looks_like_crypt_hash("hunter2"));
  EXPECT_FALSE(looks_like_crypt_hash("$1$md5isweak$abcdefgh"));
  EXPECT_FALSE(looks_like_crypt_hash("$y$j9T$abc\nrelayhost=evil"));
}

}  // namespace
}  // namespace firstboot
