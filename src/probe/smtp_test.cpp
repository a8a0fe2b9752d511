#include "probe/smtp.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "engine/test_support.h"
#include "probe/test_server.h"

namespace firstboot::probe {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

TEST(SmtpReplyTest, ParsesMultiLineReplies) {
  SmtpReply r = parse_smtp_reply({"250-mail.example.com", "250-STARTTLS", "250 AUTH PLAIN LOGIN"});
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  auto ext = parse_ehlo_extensions(r);
  EXPECT_EQ(ext.count("STARTTLS"), 1u);
  EXPECT_EQ(ext["AUTH"], "PLAIN LOGIN");
  EXPECT_EQ(r.summary(), "250 mail.example.com");
}

TEST(SmtpReplyTest, RefusesMalformedReplies) {
  EXPECT_THROW(parse_smtp_reply({"hello"}), ProbeError);
  EXPECT_THROW(parse_smtp_reply({"250-a", "251 b"}), ProbeError);
  EXPECT_THROW(parse_smtp_reply({"250 a", "250 b"}), ProbeError);
  EXPECT_THROW(parse_smtp_reply({}), ProbeError);
}

TEST(SmtpReplyTest, FindsTheQueueId) {
  EXPECT_EQ(queued_as(parse_smtp_reply({"250 2.0.0 Ok: queued as 4XyZ12AbC"})), "4XyZ12AbC");
  EXPECT_EQ(queued_as(parse_smtp_reply({"250 2.0.0 Ok"})), "");
}

TEST(SmtpReplyTest, DotStuffsAndUsesCrLf) {
  EXPECT_EQ(smtp_data_payload("a\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(smtp_data_payload("x\r\n"), "x\r\n.\r\n");
}

TEST(SmtpReplyTest, RefusesLineBreaksInCommands) {
  EXPECT_THROW(require_single_line("a\r\nRCPT TO:<x>", "address"), ProbeError);
  EXPECT_NO_THROW(require_single_line("a@b", "address"));
}

TEST(Base64Test, RoundTrips) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", std::string("\0user\0pass", 10)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("abc"), "YWJj");
  EXPECT_THROW(base64_decode("abc"), ProbeError);
}

class SmtpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing::make_test_pki({"mail.example.com"});
    testing::write_text(dir_ / "cert.pem", pki_.leaf_cert_pem + pki_.ca_cert_pem);
    testing::write_text(dir_ / "key.pem", pki_.leaf_key_pem);
    std::filesystem::create_directories(dir_ / "spool");
  }
  std::vector<std::string> server_args(bool implicit_tls) {
    std::vector<std::string> args{(testing::testdata_dir() / "smtp_server.py").string(),
                                  "--cert",
                                  (dir_ / "cert.pem").string(),
                                  "--key",
                                  (dir_ / "key.pem").string(),
                                  "--auth",
                                  "probe@example.com:s3cret pass",
                                  "--refuse-domain",
                                  "outside.example",
                                  "--spool",
                                  (dir_ / "spool").string(),
                                  "--lifetime",
                                  "60"};
    if (implicit_tls) args.push_back("--implicit-tls");
    return args;
  }
  firstboot::testing::ScratchDir dir_;
  testing::TestPki pki_;
};

TEST_F(SmtpServerTest, BannerEhloStarttlsAuthAndSend) {
  TestServer server(server_args(false));
  auto deadline = Deadline::in(10s);
  auto smtp = SmtpClient::connect({"127.0.0.1", server.port(), ""}, deadline);
  EXPECT_EQ(smtp.greeting().code, 220);
  EXPECT_EQ(smtp.ehlo("probe.test", deadline).code, 250);
  EXPECT_TRUE(smtp.offers("STARTTLS"));
  EXPECT_TRUE(smtp.auth_mechanisms().empty()) << "AUTH offered before TLS";
  EXPECT_FALSE(smtp.connection().is_tls());

  smtp.starttls({"mail.example.com", 0, 0, false}, "probe.test", deadline);
  ASSERT_TRUE(smtp.connection().is_tls());
  auto& session = smtp.connection().tls_session();
  EXPECT_EQ(session.version, "TLSv1.3");
  EXPECT_FALSE(session.cipher.empty());
  ASSERT_EQ(session.chain_pem.size(), 2u);
  auto mechs = smtp.auth_mechanisms();
  EXPECT_NE(std::find(mechs.begin(), mechs.end(), "PLAIN"), mechs.end());

  EXPECT_EQ(smtp.auth_plain("probe@example.com", "wrong", deadline).code, 535);
  EXPECT_EQ(smtp.auth_plain("probe@example.com", "s3cret pass", deadline).code, 235);
  SmtpReply sent = smtp.send("probe@example.com", {"bob@example.com"},
                             "Subject: hi\r\n\r\n.leading dot\r\n", deadline);
  EXPECT_EQ(sent.code, 250) << sent.summary();
  EXPECT_EQ(queued_as(sent), "TEST0001");
  smtp.quit(deadline);
  std::ifstream in(dir_ / "spool" / "1.eml", std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_NE(got.str().find("\r\n.leading dot"), std::string::npos) << got.str();
}

TEST_F(SmtpServerTest, AuthLoginAndRefusedRecipient) {
  TestServer server(server_args(false));
  auto deadline = Deadline::in(10s);
  auto smtp = SmtpClient::connect({"127.0.0.1", server.port(), ""}, deadline);
  smtp.ehlo("probe.test", deadline);
  smtp.starttls({"", 0, 0, false}, "probe.test", deadline);
  EXPECT_EQ(smtp.auth_login("probe@example.com", "s3cret pass", deadline).code, 235);
  SmtpReply r = smtp.send("probe@example.com", {"someone@outside.example"}, "x", deadline);
  EXPECT_EQ(r.code, 554);
  EXPECT_NE(r.summary().find("Relay access denied"), std::string::npos);
  smtp.quit(deadline);
}

TEST_F(SmtpServerTest, ImplicitTls) {
  TestServer server(server_args(true));
  auto deadline = Deadline::in(10s);
  auto smtp = SmtpClient::connect({"127.0.0.1", server.port(), ""}, deadline,
                                  TlsOptions{"mail.example.com", 0, 0, false});
  EXPECT_EQ(smtp.greeting().code, 220);
  EXPECT_TRUE(smtp.connection().is_tls());
  smtp.quit(deadline);
}

TEST(SmtpClientTest, ClosedPortIsAConnectError) {
  // Bind then close a socket to get a port nothing listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  try {
    SmtpClient::connect({"127.0.0.1", ntohs(addr.sin_port), ""}, Deadline::in(2s));
    FAIL() << "connected to a closed port";
  } catch (const ProbeError& e) {
    EXPECT_EQ(e.kind(), ProbeError::Kind::connect);
    EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos) << e.what();
  }
}

TEST(SmtpClientTest, SilentServerTimesOutOnTime) {
  // A listening socket that never answers: connect succeeds, the banner never comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto start = std::chrono::steady_clock::now();
  try {
    SmtpClient::connect({"127.0.0.1", ntohs(addr.sin_port), ""}, Deadline::in(300ms));
    FAIL() << "got a banner from a silent server";
  } catch (const ProbeError& e) {
    EXPECT_EQ(e.kind(), ProbeError::Kind::timeout) << e.what();
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1s);
  EXPECT_GE(took, 250ms);
  ::close(fd);
}

TEST(SmtpClientTest, BindsToASecondLoopbackAddress) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto conn = Connection::open({"127.0.0.1", ntohs(addr.sin_port), "127.0.0.2"}, Deadline::in(2s));
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  int client = ::accept(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
  ASSERT_GE(client, 0);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), 0x7f000002u);
  ::close(client);
  ::close(fd);
}

}  // namespace
}  // namespace firstboot::probe
