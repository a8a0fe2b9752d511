#include "probe/dns.h"

#include <gtest/gtest.h>

#include <chrono>

#include "engine/test_support.h"
#include "probe/test_server.h"

namespace firstboot::probe {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

TEST(DnsServerTest, ParsesServerSpecs) {
  EXPECT_EQ(parse_dns_server("127.0.0.1:5353").port, 5353);
  EXPECT_EQ(parse_dns_server("127.0.0.1").port, 53);
  EXPECT_EQ(parse_dns_server("[::1]:5353").host, "::1");
  EXPECT_EQ(parse_dns_server("::1").host, "::1");
  EXPECT_TRUE(parse_dns_server("").host.empty());
  EXPECT_THROW(parse_dns_server("127.0.0.1:99999"), ProbeError);
  EXPECT_THROW(parse_dns_server("127.0.0.1:x"), ProbeError);
}

class DnsQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string long_txt(200, 'k');
    testing::write_text(dir_ / "zone.json", R"({
      "example.com.": {"MX": ["10 mail.example.com."], "TXT": ["\"v=spf1 mx -all\""],
                       "CAA": ["0 issue \"letsencrypt.org\""]},
      "mail.example.com.": {"A": ["127.0.0.1"]},
      "sel._domainkey.example.com.": {"TXT": ["\"v=DKIM1; k=rsa; p=\" \")" +
                                                long_txt + R"(\" \")" + long_txt + R"(\""]}
    })");
  }
  firstboot::testing::ScratchDir dir_;
};

TEST_F(DnsQueryTest, AnswersInPresentationForm) {
  TestServer server({(testing::testdata_dir() / "dns_server.py").string(), "--zone",
                     (dir_ / "zone.json").string()});
  DnsServer ns{"127.0.0.1", server.port()};
  auto mx = dns_query(ns, "example.com", "MX", Deadline::in(5s));
  EXPECT_TRUE(mx.ok());
  EXPECT_TRUE(mx.authoritative);
  EXPECT_EQ(mx.records, (std::vector<std::string>{"10 mail.example.com."}));
  EXPECT_EQ(dns_query(ns, "example.com", "TXT", Deadline::in(5s)).records,
            (std::vector<std::string>{"v=spf1 mx -all"}));
  auto caa = dns_query(ns, "example.com", "CAA", Deadline::in(5s));
  ASSERT_EQ(caa.records.size(), 1u);
  EXPECT_NE(caa.records[0].find("issue"), std::string::npos) << caa.records[0];
  EXPECT_NE(caa.records[0].find("letsencrypt.org"), std::string::npos) << caa.records[0];
  // A TXT record longer than 255 bytes comes in several strings, joined here.
  auto dkim = dns_query(ns, "sel._domainkey.example.com", "TXT", Deadline::in(5s));
  ASSERT_EQ(dkim.records.size(), 1u);
  EXPECT_EQ(dkim.records[0], "v=DKIM1; k=rsa; p=" + std::string(400, 'k'));
  EXPECT_EQ(dns_query(ns, "mail.example.com", "A", Deadline::in(5s)).records,
            (std::vector<std::string>{"127.0.0.1"}));
  auto none = dns_query(ns, "nothing.example.com", "A", Deadline::in(5s));
  EXPECT_EQ(none.rcode, "NXDOMAIN");
  EXPECT_TRUE(none.records.empty());
  auto empty = dns_query(ns, "mail.example.com", "TXT", Deadline::in(5s));
  EXPECT_TRUE(empty.ok());
  EXPECT_TRUE(empty.records.empty());
}

TEST(DnsQueryNoServerTest, SilentServerTimesOut) {
  // Nothing answers on this UDP port of a second loopback address.
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(dns_query({"127.0.0.9", 5399}, "example.com", "MX", Deadline::in(500ms)),
               ProbeError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace firstboot::probe
