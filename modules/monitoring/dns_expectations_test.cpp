#include "dns_expectations.h"

#include <gtest/gtest.h>

namespace firstboot {
namespace {

TEST(DnsExpectationsTest, OwnerNames) {
  EXPECT_EQ(owner_fqdn("example.com", "@"), "example.com");
  EXPECT_EQ(owner_fqdn("example.com.", "_dmarc"), "_dmarc.example.com");
  EXPECT_EQ(owner_fqdn("example.com", "mail.example.com."), "mail.example.com");
}

TEST(DnsExpectationsTest, NormalizesWhatServersSayDifferently) {
  EXPECT_EQ(normalize_rdata("MX", "10 Mail.Example.COM."), "10 mail.example.com");
  EXPECT_EQ(normalize_rdata("TXT", "\"v=DKIM1; k=rsa; \" \"p=AB\""), "v=DKIM1; k=rsa; p=AB");
  EXPECT_EQ(normalize_rdata("TXT", "v=spf1  mx   -all"), "v=spf1 mx -all");
  EXPECT_EQ(normalize_rdata("CAA", "0 issue \"letsencrypt.org\""), "0 issue letsencrypt.org");
  EXPECT_EQ(normalize_rdata("CAA", "0 issue letsencrypt.org"), "0 issue letsencrypt.org");
  EXPECT_EQ(normalize_rdata("SRV", "0 1 993 mail.example.com."), "0 1 993 mail.example.com");
}

TEST(DnsExpectationsTest, Spf) {
  EXPECT_EQ(spf_problem("v=spf1 mx -all"), "");
  EXPECT_EQ(spf_problem("v=spf1 mx include:_spf.provider.example ~all"), "");
  EXPECT_EQ(spf_problem("v=spf1 redirect=_spf.example.net"), "");
  EXPECT_NE(spf_problem("v=spf1 mx"), "");
  EXPECT_NE(spf_problem("v=spf1 +all"), "");
  EXPECT_NE(spf_problem("v=spf1 -all mx"), "");
  EXPECT_NE(spf_problem("v=spf2 mx -all"), "");
  EXPECT_NE(spf_problem("v=spf1 mz -all"), "");
  EXPECT_EQ(records_starting_with({"v=spf1 mx -all", "google-site-verification=x", "v=spf1 -all"},
                                  "v=spf1")
                .size(),
            2u);
  EXPECT_TRUE(records_starting_with({"v=spf10 x"}, "v=spf1").empty());
}

TEST(DnsExpectationsTest, Dmarc) {
  EXPECT_EQ(dmarc_problem("v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"), "");
  EXPECT_NE(dmarc_problem("v=DMARC1; rua=mailto:d@example.com"), "");
  EXPECT_NE(dmarc_problem("v=DMARC1; p=maybe"), "");
  EXPECT_NE(dmarc_problem("p=reject; v=DMARC1"), "");
  EXPECT_NE(dmarc_problem("v=DMARC1; p=none; rua=dmarc@example.com"), "");
}

TEST(DnsExpectationsTest, MtaStsTlsRptCaaMx) {
  EXPECT_EQ(mta_sts_problem("v=STSv1; id=20240101abc"), "");
  EXPECT_NE(mta_sts_problem("v=STSv1;"), "");
  EXPECT_NE(mta_sts_problem("v=STSv1; id=bad-id"), "");
  EXPECT_EQ(tlsrpt_problem("v=TLSRPTv1; rua=mailto:tls@example.com"), "");
  EXPECT_NE(tlsrpt_problem("v=TLSRPTv1"), "");
  EXPECT_EQ(caa_problem("0 issue \"letsencrypt.org\""), "");
  EXPECT_EQ(caa_problem("0 iodef \"mailto:admin@example.com\""), "");
  EXPECT_NE(caa_problem("0 issue letsencrypt.org"), "");
  EXPECT_NE(caa_problem("300 issue \"x\""), "");
  EXPECT_NE(caa_problem("0 allow \"x\""), "");
  EXPECT_EQ(mx_problem("10 mail.example.com."), "");
  EXPECT_NE(mx_problem("mail.example.com."), "");
  EXPECT_NE(mx_problem("10 mail..example.com"), "");
}

TEST(DnsExpectationsTest, DkimKeys) {
  std::string rsa(300, 'A');
  EXPECT_EQ(dkim_key_problem("v=DKIM1; k=rsa; p=" + rsa), "");
  EXPECT_EQ(dkim_key_problem("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
            "");
  EXPECT_NE(dkim_key_problem("v=DKIM1; k=ed25519; p=AAAA"), "");
  EXPECT_NE(dkim_key_problem("v=DKIM1; k=rsa; p="), "");
  EXPECT_NE(dkim_key_problem("v=DKIM1; k=rsa; p=not*base64"), "");
  EXPECT_NE(dkim_key_problem("k=rsa; v=DKIM1; p=" + rsa), "");
  EXPECT_NE(dkim_key_problem("v=DKIM1; k=dsa; p=" + rsa), "");
}

}  // namespace
}  // namespace firstboot
