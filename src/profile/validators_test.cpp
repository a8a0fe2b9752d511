#include <gtest/gtest.h>

#include "profile/profile_loader.h"
#include "profile/validators.h"

namespace firstboot {
namespace {

using namespace profile_rules;

TEST(Validators, HostNames) {
  EXPECT_TRUE(is_valid_hostname("mail.example.com"));
  EXPECT_TRUE(is_valid_hostname("localhost"));
  EXPECT_TRUE(is_valid_hostname("a-b.example.com"));
  EXPECT_TRUE(is_valid_hostname("xn--bcher-kva.example"));
  EXPECT_FALSE(is_valid_hostname(""));
  EXPECT_FALSE(is_valid_hostname("mail_x.example.com"));
  EXPECT_FALSE(is_valid_hostname("mail.example.com\nmydestination = x"));
  EXPECT_FALSE(is_valid_hostname("mail.example.com}"));
  EXPECT_FALSE(is_valid_hostname("mail.example.com;"));
  EXPECT_FALSE(is_valid_hostname("-mail.example.com"));
  EXPECT_FALSE(is_valid_hostname("mail-.example.com"));
  EXPECT_FALSE(is_valid_hostname("mail..example.com"));
  EXPECT_FALSE(is_valid_hostname("mail.example.com."));
  EXPECT_FALSE(is_valid_hostname("192.0.2.1"));
  EXPECT_FALSE(is_valid_hostname(std::string(64, 'a') + ".example.com"));
  EXPECT_TRUE(is_valid_hostname(std::string(63, 'a') + ".example.com"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(50, 'a') + ".";
  long_name += "com";  // 258 characters
  EXPECT_FALSE(is_valid_hostname(long_name));
}

TEST(Validators, Domains) {
  EXPECT_TRUE(is_valid_domain("example.com"));
  EXPECT_FALSE(is_valid_domain("localhost"));
  EXPECT_FALSE(is_valid_domain("example.123"));
}

TEST(Validators, Emails) {
  EXPECT_TRUE(is_valid_email("alice@example.com"));
  EXPECT_TRUE(is_valid_email("first.last+tag@mail.example.com"));
  EXPECT_FALSE(is_valid_email("alice"));
  EXPECT_FALSE(is_valid_email("@example.com"));
  EXPECT_FALSE(is_valid_email("alice@"));
  EXPECT_FALSE(is_valid_email("alice@localhost"));
  EXPECT_FALSE(is_valid_email("al ice@example.com"));
  EXPECT_FALSE(is_valid_email("alice}@example.com"));
  EXPECT_FALSE(is_valid_email("alice;@example.com"));
  EXPECT_FALSE(is_valid_email(".alice@example.com"));
  EXPECT_FALSE(is_valid_email("al..ice@example.com"));
  EXPECT_FALSE(is_valid_email("alice@exa_mple.com"));
  EXPECT_FALSE(is_valid_email(std::string(65, 'a') + "@example.com"));
}

TEST(Validators, DkimSelectors) {
  EXPECT_TRUE(is_valid_dkim_selector("mail"));
  EXPECT_TRUE(is_valid_dkim_selector("s2024.eu"));
  EXPECT_FALSE(is_valid_dkim_selector(""));
  EXPECT_FALSE(is_valid_dkim_selector("mail}"));
  EXPECT_FALSE(is_valid_dkim_selector("../x"));
  EXPECT_FALSE(is_valid_dkim_selector("mail\n"));
  EXPECT_FALSE(is_valid_dkim_selector("a/b"));
}

TEST(Validators, ControlCharacters) {
  EXPECT_FALSE(has_control_chars("plain text é"));
  EXPECT_TRUE(has_control_chars("a\nb"));
  EXPECT_TRUE(has_control_chars("a\tb"));
  EXPECT_TRUE(has_control_chars(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control_chars("a\x7f"));
  EXPECT_TRUE(has_control_chars("a\xc2\x85"));  // U+0085 NEL
}

TEST(Validators, SizesAndIntervals) {
  EXPECT_EQ(parse_size("2G"), 2ULL << 30);
  EXPECT_EQ(parse_size("500M"), 500ULL << 20);
  EXPECT_EQ(parse_size("1024"), 1024U);
  EXPECT_EQ(parse_size("1T"), 1ULL << 40);
  EXPECT_FALSE(parse_size("2GB"));
  EXPECT_FALSE(parse_size("g"));
  EXPECT_FALSE(parse_size("-1M"));
  EXPECT_FALSE(parse_size("99999999999999999999T"));
  EXPECT_EQ(parse_interval("15m"), 900U);
  EXPECT_EQ(parse_interval("1h"), 3600U);
  EXPECT_EQ(parse_interval("30s"), 30U);
  EXPECT_EQ(parse_interval("2d"), 172800U);
  EXPECT_EQ(parse_interval("60"), 60U);
  EXPECT_FALSE(parse_interval("15 minutes"));
  EXPECT_FALSE(parse_interval("1w"));
}

TEST(Validators, HostsResolversUrls) {
  EXPECT_EQ(host_problem("127.0.0.1"), "");
  EXPECT_EQ(host_problem("::1"), "");
  EXPECT_EQ(host_problem("smtp.provider.example"), "");
  EXPECT_NE(host_problem("300.1.1.1"), "");
  EXPECT_EQ(resolver_problem("127.0.0.1:5353"), "");
  EXPECT_EQ(resolver_problem("[::1]:53"), "");
  EXPECT_EQ(resolver_problem("ns.example.com"), "");
  EXPECT_NE(resolver_problem("127.0.0.1:0"), "");
  EXPECT_NE(resolver_problem("127.0.0.1:99999"), "");
  EXPECT_EQ(database_url_problem("postgresql://mail@db.example.com/mail"), "");
  EXPECT_EQ(database_url_problem("postgresql://mail@127.0.0.1:5432/mail?sslmode=require"), "");
  EXPECT_NE(database_url_problem("postgresql://mail:secret@db/mail"), "");
  EXPECT_NE(database_url_problem("mysql://db/mail"), "");
  EXPECT_NE(database_url_problem("postgresql://db.example.com/mail;drop"), "");
  EXPECT_EQ(url_problem("https://acme-v02.api.letsencrypt.org/directory"), "");
  EXPECT_EQ(url_problem("https://127.0.0.1:14000/dir"), "");
  EXPECT_NE(url_problem("ftp://x.example/dir"), "");
  EXPECT_NE(url_problem("https://x.example/dir?a=b"), "");
  EXPECT_EQ(path_problem("/etc/ssl/cert.pem"), "");
  EXPECT_EQ(path_problem("secrets/bob.secret"), "");
  EXPECT_NE(path_problem("/etc/ssl/my cert.pem"), "");
  EXPECT_NE(path_problem("/etc/ssl/cert.pem\n"), "");
  EXPECT_EQ(dns_name_problem("_spf.provider.example"), "");
  EXPECT_NE(dns_name_problem("_spf.provider.example;"), "");
}

TEST(Validators, IssueFormat) {
  ProfileIssue issue{"p.yaml", 3, 7, "domains[0].dkim.selector", "is empty"};
  EXPECT_EQ(issue.format(), "p.yaml:3:7: domains[0].dkim.selector: is empty");
  ProfileIssue document{"p.yaml", 1, 1, "", "the profile is empty"};
  EXPECT_EQ(document.format(), "p.yaml:1:1: the profile is empty");
  EXPECT_STREQ(to_string(MailMode::relay), "relay");
  EXPECT_STREQ(to_string(MailMode::local), "local");
  EXPECT_STREQ(to_string(MailMode::full), "full");
}

}  // namespace
}  // namespace firstboot
