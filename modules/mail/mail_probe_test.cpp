#include "mail_probe.h"

#include <gtest/gtest.h>

namespace firstboot {
namespace {

TEST(MailProbe, SaslPlainEncoding) {
  // RFC 4616 example shape: "\0tim\0tanstaaftanstaaf".
  EXPECT_EQ(sasl_plain("tim", "tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

TEST(MailProbe, ExtensionsMatchTheFirstWord) {
  std::vector<std::string> ext = {"PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "STARTTLS"};
  EXPECT_TRUE(has_extension(ext, "auth"));
  EXPECT_TRUE(has_extension(ext, "STARTTLS"));
  EXPECT_FALSE(has_extension(ext, "PLAIN"));
  EXPECT_FALSE(has_extension({}, "AUTH"));
}

TEST(MailProbe, ReplyText) {
  SmtpReply r{250, {"mail.example.com", "PIPELINING"}};
  EXPECT_EQ(r.text(), "250 mail.example.com; PIPELINING");
}

TEST(MailProbe, ConnectionRefusedIsAnError) {
  EXPECT_THROW(ProbeConnection("127.0.0.1", 1, std::chrono::milliseconds(500)), std::exception);
  EXPECT_THROW(ProbeConnection("not-an-address", 25, std::chrono::milliseconds(500)),
               std::exception);
}

}  // namespace
}  // namespace firstboot
