#include "wizard/answer_checks.h"

#include <gtest/gtest.h>

#include "wizard/machine_facts.h"
#include "wizard/newt_ui.h"

namespace firstboot::wizard {
namespace {

TEST(AnswerChecks, HostNames) {
  EXPECT_EQ(check_hostname("mail.example.com"), "");
  EXPECT_NE(check_hostname("mail").find("not fully qualified"), std::string::npos);
  EXPECT_NE(check_hostname("mail.exa mple.com").find("not a valid"), std::string::npos);
  EXPECT_NE(check_hostname("mail.example.com\nrelayhost = evil").find("control"),
            std::string::npos);
  EXPECT_NE(check_hostname("").find("Enter"), std::string::npos);
  EXPECT_EQ(normalize_name("  Mail.Example.COM "), "mail.example.com");
}

TEST(AnswerChecks, DomainLists) {
  std::vector<std::string> out;
  EXPECT_EQ(parse_domain_list("example.com, Example.org  example.net", out), "");
  EXPECT_EQ(out, (std::vector<std::string>{"example.com", "example.org", "example.net"}));
  EXPECT_NE(parse_domain_list("example.com example.com", out).find("twice"), std::string::npos);
  EXPECT_NE(parse_domain_list("example.com exa}mple.org", out).find("not a valid domain"),
            std::string::npos);
  EXPECT_NE(parse_domain_list("  ", out).find("at least one"), std::string::npos);
}

TEST(AnswerChecks, MailboxAddresses) {
  std::vector<std::string> domains = {"example.com"};
  EXPECT_EQ(check_mailbox_address("alice@example.com", domains, {}), "");
  EXPECT_NE(check_mailbox_address("alice@example.org", domains, {}).find("not in one"),
            std::string::npos);
  EXPECT_NE(check_mailbox_address("alice", domains, {}).find("not a valid"), std::string::npos);
  EXPECT_NE(check_mailbox_address("Alice@example.com", domains, {"alice@example.com"})
                .find("already exists"),
            std::string::npos);
}

TEST(AnswerChecks, Passwords) {
  EXPECT_EQ(check_new_password("long enough", "long enough", "a@example.com"), "");
  EXPECT_NE(check_new_password("long enough", "long enougH", "a@example.com").find("differ"),
            std::string::npos);
  EXPECT_NE(check_new_password("short", "short", "a@example.com").find("too short"),
            std::string::npos);
  EXPECT_NE(check_new_password("alice@example.com", "alice@example.com", "alice@example.com")
                .find("must not be the address"),
            std::string::npos);
  EXPECT_NE(check_new_password("with\ttab!", "with\ttab!", "a@example.com").find("control"),
            std::string::npos);
  EXPECT_EQ(check_given_password("x", "x"), "");
  EXPECT_NE(check_given_password("x", "y").find("differ"), std::string::npos);
}

TEST(AnswerChecks, QuotasPortsMappingsUsernamesUrlsFiles) {
  EXPECT_EQ(check_quota(""), "");
  EXPECT_EQ(check_quota("2G"), "");
  EXPECT_EQ(check_quota("500M"), "");
  EXPECT_NE(check_quota("0G"), "");
  EXPECT_NE(check_quota("2 G"), "");
  int port = 0;
  EXPECT_EQ(parse_port("465", port), "");
  EXPECT_EQ(port, 465);
  EXPECT_NE(parse_port("0", port), "");
  EXPECT_NE(parse_port("65536", port), "");
  EXPECT_NE(parse_port("58x", port), "");
  std::vector<std::pair<std::string, std::string>> maps;
  EXPECT_EQ(parse_mappings("a@mailer.example.com=a@example.com, b@x.example=b@example.com", maps),
            "");
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[1].first, "b@x.example");
  EXPECT_NE(parse_mappings("a@example.com", maps).find("not a mapping"), std::string::npos);
  EXPECT_NE(
      parse_mappings("a@x.example=a@y.example a@x.example=b@y.example", maps).find("mapped twice"),
      std::string::npos);
  EXPECT_EQ(check_username("relay@example.com"), "");
  EXPECT_NE(check_username("relay@"), "");
  EXPECT_EQ(check_dns_name("_spf.provider.example"), "");
  EXPECT_NE(check_dns_name("spf"), "");
  EXPECT_NE(check_dns_name("_spf.provider.example\""), "");
  EXPECT_EQ(check_relay_host("127.0.0.1"), "");
  EXPECT_EQ(check_relay_host("2001:db8::1"), "");
  EXPECT_EQ(check_relay_host("smtp.provider.example"), "");
  EXPECT_NE(check_relay_host("smtp"), "");
  EXPECT_NE(check_username("two words"), "");
  EXPECT_EQ(check_acme_directory("https://acme-v02.api.letsencrypt.org/directory"), "");
  EXPECT_NE(check_acme_directory("http://acme.example/directory"), "");
  EXPECT_NE(check_acme_directory("https://acme.example/dir\"ectory"), "");
  EXPECT_NE(check_readable_file("relative.pem", "certificate").find("full path"),
            std::string::npos);
  EXPECT_NE(check_readable_file("/nonexistent/x.pem", "certificate").find("Cannot read"),
            std::string::npos);
}

TEST(AnswerChecks, DomainFromHostName) {
  EXPECT_EQ(domain_from_hostname("mail.example.com"), "example.com");
  EXPECT_EQ(domain_from_hostname("example.com"), "example.com");
  EXPECT_EQ(domain_from_hostname("a.b.example.co.uk"), "b.example.co.uk");
}

TEST(AnswerChecks, WipeClearsTheString) {
  std::string secret = "a fairly long secret that is not in the small buffer";
  wipe(secret);
  EXPECT_TRUE(secret.empty());
}

TEST(MachineFacts, PicksTheBestQualifiedName) {
  EXPECT_EQ(pick_hostname("mail.example.com", "", "", ""), "mail.example.com");
  EXPECT_EQ(pick_hostname("mail", "mail.example.org", "", ""), "mail.example.org");
  EXPECT_EQ(pick_hostname("mail", "", "mx.example.net", ""), "mx.example.net");
  EXPECT_EQ(pick_hostname("mail", "", "", "lan.example"), "mail.lan.example");
  EXPECT_EQ(pick_hostname("debian", "", "", ""), "debian");
  EXPECT_EQ(pick_hostname("localhost", "localhost.localdomain", "", ""), "");
}

TEST(WrapText, WrapsAtWordsAndKeepsNewlines) {
  EXPECT_EQ(wrap_text("one two three", 7), (std::vector<std::string>{"one two", "three"}));
  EXPECT_EQ(wrap_text("a\n\nb\n", 10), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(wrap_text("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

}  // namespace
}  // namespace firstboot::wizard
