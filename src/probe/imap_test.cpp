#include "probe/imap.h"

#include <gtest/gtest.h>

#include <chrono>

#include "engine/test_support.h"
#include "probe/test_server.h"

namespace firstboot::probe {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

TEST(ImapParseTest, QuotesAndCapabilities) {
  EXPECT_EQ(imap_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_FALSE(imap_quoted("line\r\nbreak"));
  EXPECT_FALSE(imap_quoted("caf\xc3\xa9"));
  auto caps = parse_imap_capabilities("CAPABILITY IMAP4rev1 STARTTLS auth=plain");
  EXPECT_TRUE(caps.count("STARTTLS"));
  EXPECT_TRUE(caps.count("AUTH=PLAIN"));
  EXPECT_EQ(parse_imap_search("SEARCH 3 17 4"), (std::vector<std::uint32_t>{3, 17, 4}));
  EXPECT_TRUE(parse_imap_search("SEARCH").empty());
}

class ImapServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing::make_test_pki({"mail.example.com"});
    testing::write_text(dir_ / "cert.pem", pki_.leaf_cert_pem);
    testing::write_text(dir_ / "key.pem", pki_.leaf_key_pem);
    testing::write_text(dir_ / "m1.eml",
                        "From: a@example.com\nMessage-ID: <first@example.com>\n\nbody one\n");
    testing::write_text(dir_ / "m2.eml",
                        "From: a@example.com\nMessage-ID: <probe-42@example.com>\n"
                        "Subject: probe\n\nbody two\n");
  }
  std::vector<std::string> args(bool implicit_tls, const std::string& password = "p\"w d") {
    std::vector<std::string> a{(testing::testdata_dir() / "imap_server.py").string(),
                               "--cert",
                               (dir_ / "cert.pem").string(),
                               "--key",
                               (dir_ / "key.pem").string(),
                               "--user",
                               "probe@example.com",
                               "--password",
                               password,
                               "--message",
                               (dir_ / "m1.eml").string(),
                               "--message",
                               (dir_ / "m2.eml").string()};
    if (implicit_tls) a.push_back("--implicit-tls");
    return a;
  }
  firstboot::testing::ScratchDir dir_;
  testing::TestPki pki_;
};

TEST_F(ImapServerTest, StarttlsLoginFindFetchDelete) {
  TestServer server(args(false));
  auto deadline = Deadline::in(10s);
  auto imap = ImapClient::connect({"127.0.0.1", server.port(), ""}, deadline);
  EXPECT_TRUE(imap.has_capability("STARTTLS"));
  EXPECT_TRUE(imap.has_capability("LOGINDISABLED"));
  EXPECT_FALSE(imap.login("probe@example.com", "p\"w d", deadline).ok());

  imap.starttls({"mail.example.com", 0, 0, false}, deadline);
  EXPECT_TRUE(imap.connection().is_tls());
  EXPECT_FALSE(imap.has_capability("LOGINDISABLED"));
  EXPECT_FALSE(imap.login("probe@example.com", "wrong", deadline).ok());
  ASSERT_TRUE(imap.login("probe@example.com", "p\"w d", deadline).ok());
  EXPECT_EQ(imap.select("INBOX", deadline), 2u);
  auto uids = imap.uid_search_header("Message-ID", "<probe-42@example.com>", deadline);
  ASSERT_EQ(uids, (std::vector<std::uint32_t>{2}));
  std::string msg = imap.uid_fetch_message(uids[0], deadline);
  EXPECT_NE(msg.find("body two\r\n"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Subject: probe\r\n"), std::string::npos);
  imap.uid_delete(uids, deadline);
  EXPECT_TRUE(imap.uid_search_header("Message-ID", "<probe-42@example.com>", deadline).empty());
  EXPECT_EQ(imap.uid_search_header("Message-ID", "<first@example.com>", deadline).size(), 1u);
  imap.logout(deadline);
}

TEST_F(ImapServerTest, ImplicitTlsAndALiteralPassword) {
  TestServer server(args(true, "pässwörd"));
  auto deadline = Deadline::in(10s);
  auto imap = ImapClient::connect({"127.0.0.1", server.port(), ""}, deadline,
                                  TlsOptions{"mail.example.com", 0, 0, false});
  EXPECT_TRUE(imap.connection().is_tls());
  EXPECT_TRUE(imap.login("probe@example.com", "pässwörd", deadline).ok());
  EXPECT_EQ(imap.select("INBOX", deadline), 2u);
  imap.logout(deadline);
}

}  // namespace
}  // namespace firstboot::probe
