#include "dns_names.h"

#include <gtest/gtest.h>

#include "engine/error.h"

namespace firstboot::dns {
namespace {

TEST(DnsNames, LabelsAndNames) {
  EXPECT_TRUE(is_dns_name("mail.example.com", false, 2));
  EXPECT_TRUE(is_dns_name("_spf.provider.example", true, 2));
  EXPECT_FALSE(is_dns_name("_spf.provider.example", false, 2));
  EXPECT_FALSE(is_dns_name("example", false, 2));
  EXPECT_FALSE(is_dns_name("example.com.", false, 2));
  EXPECT_FALSE(is_dns_name("-bad.example.com"));
  EXPECT_FALSE(is_dns_name("a..b"));
  EXPECT_FALSE(is_dns_name(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(is_dns_name(std::string(63, 'a') + ".com"));
  for (const char* evil : {"ex}ample.com", "ex\"ample.com", "ex;ample.com", "ex\nample.com",
                           "ex ample.com", "ex\\ample.com"})
    EXPECT_FALSE(is_dns_name(evil)) << evil;
}

TEST(DnsNames, Emails) {
  EXPECT_TRUE(is_safe_email("dmarc+reports@example.com"));
  EXPECT_TRUE(is_safe_email("first.last@example.com"));
  EXPECT_FALSE(is_safe_email("a;b@example.com"));
  EXPECT_FALSE(is_safe_email("a,b@example.com"));
  EXPECT_FALSE(is_safe_email("a\"b@example.com"));
  EXPECT_FALSE(is_safe_email("@example.com"));
  EXPECT_FALSE(is_safe_email("a@localhost"));
  EXPECT_FALSE(is_safe_email(".a@example.com"));
}

TEST(DnsNames, RelativeAndAbsolute) {
  EXPECT_EQ(relative_name("example.com", "example.com"), "@");
  EXPECT_EQ(relative_name("mail.example.com", "example.com"), "mail");
  EXPECT_EQ(relative_name("Mail.Example.COM", "example.com"), "Mail");
  EXPECT_EQ(relative_name("mail.example.org", "example.com"), "mail.example.org.");
  EXPECT_EQ(relative_name("badexample.com", "example.com"), "badexample.com.");
  EXPECT_EQ(absolute_name("@", "example.com"), "example.com");
  EXPECT_EQ(absolute_name("_dmarc", "example.com"), "_dmarc.example.com");
  EXPECT_EQ(absolute_name("x.org.", "example.com"), "x.org");
  EXPECT_TRUE(in_zone("a.b.example.com", "EXAMPLE.com"));
  EXPECT_FALSE(in_zone("notexample.com", "example.com"));
}

TEST(DnsNames, Addresses) {
  EXPECT_EQ(canonical_ipv4("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical_ipv4("192.0.2.1\n"), "");
  EXPECT_EQ(canonical_ipv4("::1"), "");
  EXPECT_EQ(canonical_ipv6("2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_EQ(canonical_ipv6("1.2.3.4"), "");
}

TEST(DnsNames, TxtSplitting) {
  EXPECT_EQ(split_txt(""), std::vector<std::string>{""});
  EXPECT_EQ(split_txt(std::string(255, 'a')).size(), 1u);
  auto parts = split_txt(std::string(255, 'a') + std::string(256, 'b'));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], std::string(255, 'a'));
  EXPECT_EQ(parts[1], std::string(255, 'b'));
  EXPECT_EQ(parts[2], "b");
  for (auto& p : parts) EXPECT_LE(p.size(), 255u);
}

TEST(DnsNames, TxtEscaping) {
  EXPECT_EQ(txt_rdata("v=spf1 mx -all"), "\"v=spf1 mx -all\"");
  EXPECT_EQ(txt_rdata("a\"b\\c;d}"), "\"a\\\"b\\\\c;d}\"");
  EXPECT_EQ(txt_rdata("\xc3\xa9"), "\"\\195\\169\"");
  EXPECT_EQ(txt_rdata(std::string(300, 'x')),
            "\"" + std::string(255, 'x') + "\" \"" + std::string(45, 'x') + "\"");
  EXPECT_THROW(txt_rdata("a\nb"), Error);
  EXPECT_THROW(txt_rdata(std::string("a\0b", 3)), Error);
  EXPECT_THROW(txt_rdata(std::string(5000, 'x')), Error);
}

TEST(DnsNames, SoaMailbox) {
  EXPECT_EQ(soa_mailbox("admin@example.com"), "admin.example.com.");
  EXPECT_EQ(soa_mailbox("first.last@example.com"), "first\\.last.example.com.");
}

}  // namespace
}  // namespace firstboot::dns
