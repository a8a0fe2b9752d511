#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>

#include "engine/test_support.h"
#include "probe/certificate_check.h"
#include "probe/connection.h"
#include "probe/test_server.h"

namespace firstboot::probe {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using Clock = std::chrono::system_clock;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing::make_test_pki({"mail.example.com", "*.example.org"});
    testing::write_text(dir_ / "chain.pem", pki_.leaf_cert_pem + pki_.ca_cert_pem);
    testing::write_text(dir_ / "key.pem", pki_.leaf_key_pem);
    testing::write_text(dir_ / "ca.pem", pki_.ca_cert_pem);
  }
  // openssl s_server on a free port, serving the chain; extra options select protocol versions.
  std::vector<std::string> s_server(std::vector<std::string> extra) {
    std::vector<std::string> args{"openssl",     "s_server",
                                  "-4",          "-accept",
                                  "0",           "-www",
                                  "-naccept",    "5",
                                  "-cert",       (dir_ / "chain.pem").string(),
                                  "-key",        (dir_ / "key.pem").string(),
                                  "-cert_chain", (dir_ / "ca.pem").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  firstboot::testing::ScratchDir dir_;
  testing::TestPki pki_;
};

TEST_F(TlsTest, ModernHandshakeReportsVersionCipherAndChain) {
  TestServer server(s_server({}));
  auto conn = Connection::open({"127.0.0.1", server.port(), ""}, Deadline::in(5s));
  conn.start_tls({"mail.example.com", 0, 0, false}, Deadline::in(5s));
  EXPECT_EQ(conn.tls_session().version, "TLSv1.3");
  ASSERT_EQ(conn.tls_session().chain_pem.size(), 2u);
  auto a = assess_chain(conn.tls_session().chain_pem, "mail.example.com", Clock::now(),
                        (dir_ / "ca.pem").string());
  EXPECT_TRUE(a.readable);
  EXPECT_TRUE(a.host_matches);
  EXPECT_TRUE(a.complete);
  EXPECT_TRUE(a.trusted);
  EXPECT_FALSE(a.self_signed);
  EXPECT_TRUE(a.problem.empty()) << a.problem;
  EXPECT_GT(a.days_left, 88);
}

TEST_F(TlsTest, LegacyClientProvesAServerAcceptsTls11) {
  TestServer server(s_server({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}));
  // The default client refuses TLS 1.1 itself...
  auto strict = Connection::open({"127.0.0.1", server.port(), ""}, Deadline::in(5s));
  EXPECT_THROW(strict.start_tls({"", TLS1_2_VERSION, 0, false}, Deadline::in(5s)), ProbeError);
  // ...the legacy client gets through, which is how a check sees the server is too lax.
  auto legacy = Connection::open({"127.0.0.1", server.port(), ""}, Deadline::in(5s));
  legacy.start_tls({"", TLS1_VERSION, TLS1_1_VERSION, true}, Deadline::in(5s));
  EXPECT_EQ(legacy.tls_session().version, "TLSv1.1");
}

TEST_F(TlsTest, ModernServerRefusesTls11) {
  TestServer server(s_server({"-no_tls1", "-no_tls1_1"}));
  auto legacy = Connection::open({"127.0.0.1", server.port(), ""}, Deadline::in(5s));
  try {
    legacy.start_tls({"", TLS1_VERSION, TLS1_1_VERSION, true}, Deadline::in(5s));
    FAIL() << "a TLS 1.1 handshake succeeded";
  } catch (const ProbeError& e) {
    EXPECT_EQ(e.kind(), ProbeError::Kind::tls);
  }
}

TEST_F(TlsTest, ChainAssessment) {
  auto now = Clock::now();
  auto ca = (dir_ / "ca.pem").string();
  // Leaf without its CA and no trust anchor: incomplete.
  auto lone = assess_chain({pki_.leaf_cert_pem}, "mail.example.com", now);
  EXPECT_FALSE(lone.complete);
  EXPECT_NE(lone.problem.find("chain incomplete"), std::string::npos) << lone.problem;
  // The same with the CA as a trust anchor: the server may leave out the root.
  EXPECT_TRUE(assess_chain({pki_.leaf_cert_pem}, "mail.example.com", now, ca).complete);
  // Wildcards match one label only.
  EXPECT_TRUE(assess_chain({pki_.leaf_cert_pem}, "imap.example.org", now, ca).host_matches);
  EXPECT_FALSE(assess_chain({pki_.leaf_cert_pem}, "a.b.example.org", now, ca).host_matches);
  auto wrong = assess_chain({pki_.leaf_cert_pem, pki_.ca_cert_pem}, "other.example", now);
  EXPECT_FALSE(wrong.host_matches);
  EXPECT_NE(wrong.problem.find("not valid for other.example"), std::string::npos);
  auto expired = assess_chain({pki_.expired_cert_pem, pki_.ca_cert_pem}, "mail.example.com", now);
  EXPECT_LT(expired.days_left, 0);
  EXPECT_EQ(expired.problem, "expired");
  auto self = assess_chain({pki_.self_signed_cert_pem}, "mail.example.com", now);
  EXPECT_TRUE(self.self_signed);
  EXPECT_TRUE(self.complete);
  EXPECT_FALSE(self.trusted);
  EXPECT_TRUE(self.problem.empty()) << self.problem;
  auto reversed = assess_chain({pki_.ca_cert_pem, pki_.leaf_cert_pem}, "Probe Test CA", now);
  EXPECT_FALSE(reversed.complete);
  EXPECT_TRUE(assess_chain({}, "x", now).problem == "the server sent no certificate");
}

}  // namespace
}  // namespace firstboot::probe
