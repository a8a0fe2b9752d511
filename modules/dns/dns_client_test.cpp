#include "dns_client.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "dns_verify.h"
#include "engine/test_support.h"
#include "tool_runner.h"

namespace firstboot::dns {
namespace {

TEST(DnsClient, ParsesServerAddresses) {
  ServerAddress a;
  ASSERT_TRUE(parse_server_address("127.0.0.1:5353", &a));
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 5353);
  ASSERT_TRUE(parse_server_address("9.9.9.9", &a));
  EXPECT_EQ(a.port, 53);
  ASSERT_TRUE(parse_server_address("[2001:db8::1]:53", &a));
  EXPECT_EQ(a.host, "2001:db8::1");
  ASSERT_TRUE(parse_server_address("2001:db8::1", &a));
  EXPECT_EQ(a.describe(), "[2001:db8::1]:53");
  ASSERT_TRUE(parse_server_address("resolver.example:5353", &a));
  EXPECT_EQ(a.host, "resolver.example");
  EXPECT_FALSE(parse_server_address("resolver_x.example:53", nullptr));
  EXPECT_FALSE(parse_server_address("a b:53", nullptr));
  EXPECT_FALSE(parse_server_address("127.0.0.1:0", nullptr));
  EXPECT_FALSE(parse_server_address("127.0.0.1:99999", nullptr));
  EXPECT_FALSE(parse_server_address("127.0.0.1:53\n", nullptr));
}

TEST(DnsClient, NormalizesLikeTheWire) {
  EXPECT_EQ(normalize_rdata("example.com", "TXT", std::string(300, 'a')), std::string(300, 'a'));
  EXPECT_EQ(normalize_rdata("example.com", "TXT", "a\"b\\c"), "a\"b\\c");
  EXPECT_EQ(normalize_rdata("example.com", "MX", "10 Mail.Example.com."), "10 mail.example.com.");
  EXPECT_EQ(normalize_rdata("example.com", "AAAA", "2001:db8::10"), "2001:db8::10");
  EXPECT_EQ(normalize_rdata("example.com", "CAA", "0 issue \"letsencrypt.org\""),
            "0 issue \"letsencrypt.org\"");
}

TEST(DnsVerify, PresentMissingDifferent) {
  VerifyOptions served;
  served.server = {"127.0.0.1", 5353};
  Answer answer;
  answer.reached = true;
  answer.values = {"v=spf1 mx -all"};
  auto c = compare_rrset("example.com", "TXT", {"v=spf1 mx -all"}, answer, served);
  EXPECT_EQ(c.status, CheckStatus::pass);
  EXPECT_EQ(c.id, "dns.example.com.txt");
  EXPECT_NE(c.detail.find("present"), std::string::npos);

  answer.values = {"v=spf1 -all"};
  c = compare_rrset("example.com", "TXT", {"v=spf1 mx -all"}, answer, served);
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.detail.find("expected v=spf1 mx -all; served v=spf1 -all"), std::string::npos)
      << c.detail;

  answer.values.clear();
  VerifyOptions provider = served;
  provider.served_here = false;
  c = compare_rrset("_dmarc.example.com", "TXT", {"v=DMARC1; p=none"}, answer, provider);
  EXPECT_EQ(c.status, CheckStatus::warn);
  EXPECT_EQ(c.severity, CheckSeverity::warning);
  EXPECT_NE(c.detail.find("missing"), std::string::npos);
  EXPECT_EQ(c.hint, "add at your DNS provider: _dmarc.example.com TXT v=DMARC1; p=none");

  Answer silent;
  silent.error = "no answer: timeout";
  c = compare_rrset("example.com", "MX", {"10 mail.example.com."}, silent, served);
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.detail.find("no answer from 127.0.0.1:5353"), std::string::npos) << c.detail;
}

TEST(DnsVerify, SoaSerialMayRunAheadOnlyWhenSigned) {
  VerifyOptions o;
  Answer a;
  a.reached = true;
  a.values = {"mail.example.com. admin.example.com. 2024010105 3600 900 1209600 300"};
  std::string want = "mail.example.com. admin.example.com. 2024010101 3600 900 1209600 300";
  EXPECT_EQ(compare_rrset("example.com", "SOA", {want}, a, o).status, CheckStatus::fail);
  o.dnssec = true;
  EXPECT_EQ(compare_rrset("example.com", "SOA", {want}, a, o).status, CheckStatus::pass);
  a.values = {"mail.example.com. admin.example.com. 2024010100 3600 900 1209600 300"};
  EXPECT_EQ(compare_rrset("example.com", "SOA", {want}, a, o).status, CheckStatus::fail);
}

TEST(DnsClient, UnreachableServerIsReportedQuickly) {
  // Nothing listens on this loopback port: the query fails (refused or timed out), bounded.
  DnsClient client({"127.0.0.1", 1}, std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  Answer a = client.query("example.com", "SOA");
  EXPECT_FALSE(a.reached);
  EXPECT_FALSE(a.error.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(DnsClient, DsFromABindKeyMatchesDnssecDsfromkey) {
  testing::ScratchDir dir;
  ToolResult gen = run_tool({"dnssec-keygen", "-q", "-K", dir.path().string(), "-a",
                             "ECDSAP256SHA256", "-f", "KSK", "example.com"});
  if (gen.exit_code == -1) GTEST_SKIP() << "dnssec-keygen not available";
  ASSERT_TRUE(gen.ok()) << gen.output;
  auto ds = ds_records_from_key_directory(dir.path().string(), "example.com");
  ASSERT_EQ(ds.size(), 1u);
  std::string key_file;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().extension() == ".key") key_file = e.path().string();
  ToolResult ref = run_tool({"dnssec-dsfromkey", "-2", key_file});
  ASSERT_TRUE(ref.ok()) << ref.output;
  // "example.com. IN DS 12345 13 2 HEX"
  EXPECT_NE(ref.output.find("IN DS " + ds[0]), std::string::npos) << ref.output << " vs " << ds[0];
  EXPECT_TRUE(ds_records_from_key_directory(dir.path().string(), "example.org").empty());
}

}  // namespace
}  // namespace firstboot::dns
