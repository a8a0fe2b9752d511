#include "dns_records.h"

#include <gtest/gtest.h>

#include "dns_names.h"
#include "engine/error.h"
#include "engine/module.h"

namespace firstboot::dns {
namespace {

Profile sample_profile() {
  Profile p;
  p.hostname = "mail.example.com";
  p.admin_email = "admin@example.com";
  p.mode = MailMode::full;
  Domain d;
  d.name = "example.com";
  d.dkim.algorithms = {"rsa-2048", "ed25519"};
  d.dmarc.policy = "quarantine";
  d.dmarc.rua = "dmarc@example.com";
  p.domains.push_back(d);
  p.dns.serve = "bind";
  return p;
}

RecordInputs sample_inputs() {
  RecordInputs in;
  in.ipv4 = "192.0.2.10";
  in.ipv6 = "2001:db8::10";
  in.address_source = "profile";
  in.verification_tokens["example.com"] = "abc123";
  in.dkim.push_back(
      {"example.com", "mail", "rsa-2048", "v=DKIM1; k=rsa; p=" + std::string(392, 'A')});
  in.dkim.push_back({"example.com", "mail-ed25519", "ed25519", "v=DKIM1; k=ed25519; p=BBBB"});
  in.ports = standard_ports();
  return in;
}

std::vector<const ZoneRecord*> find(const DomainRecords& s, const std::string& name,
                                    const std::string& type) {
  std::vector<const ZoneRecord*> out;
  for (auto& r : s.records)
    if (r.name == name && r.type == type) out.push_back(&r);
  return out;
}

std::string value(const DomainRecords& s, const std::string& name, const std::string& type) {
  auto found = find(s, name, type);
  return found.empty() ? "<none>" : found.front()->value;
}

TEST(DnsRecords, EveryMailRecordForAFullDomain) {
  auto sets = build_records(sample_profile(), sample_inputs());
  ASSERT_EQ(sets.size(), 1u);
  const DomainRecords& s = sets[0];
  EXPECT_EQ(s.records.front().type, "SOA");
  EXPECT_EQ(value(s, "@", "SOA"), "mail.example.com. admin.example.com. 0 3600 900 1209600 300");
  EXPECT_EQ(value(s, "@", "NS"), "mail.example.com.");
  EXPECT_EQ(value(s, "mail", "A"), "192.0.2.10");
  EXPECT_EQ(value(s, "mail", "AAAA"), "2001:db8::10");
  EXPECT_EQ(value(s, "@", "MX"), "10 mail.example.com.");
  EXPECT_EQ(value(s, "@", "TXT"), "v=spf1 mx -all");
  EXPECT_EQ(value(s, "mail._domainkey", "TXT").substr(0, 19), "v=DKIM1; k=rsa; p=A");
  EXPECT_EQ(value(s, "mail-ed25519._domainkey", "TXT"), "v=DKIM1; k=ed25519; p=BBBB");
  EXPECT_EQ(value(s, "_dmarc", "TXT"), "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com");
  EXPECT_EQ(value(s, "_smtp._tls", "TXT"), "v=TLSRPTv1; rua=mailto:dmarc@example.com");
  EXPECT_EQ(value(s, "mta-sts", "CNAME"), "mail.example.com.");
  EXPECT_EQ(value(s, "_mta-sts", "TXT").rfind("v=STSv1; id=", 0), 0u);
  EXPECT_EQ(value(s, "_submission._tcp", "SRV"), "0 1 587 mail.example.com.");
  EXPECT_EQ(value(s, "_imaps._tcp", "SRV"), "0 1 993 mail.example.com.");
  EXPECT_EQ(value(s, "_pop3s._tcp", "SRV"), "0 1 995 mail.example.com.");
  EXPECT_EQ(value(s, "_mail-verification", "TXT"), "firstboot-verification=abc123");
  EXPECT_EQ(find(s, "@", "CAA").size(), 0u);  // self-signed: no CAA, with a note saying why
  bool caa_note = false;
  for (auto& n : s.notes) caa_note |= n.find("no CAA record") != std::string::npos;
  EXPECT_TRUE(caa_note);
  for (auto& r : s.records) EXPECT_EQ(record_problem(r), "") << r.name << " " << r.type;
}

TEST(DnsRecords, PlacementDependsOnServe) {
  auto p = sample_profile();
  auto sets = build_records(p, sample_inputs());
  for (auto& r : sets[0].records) {
    bool delegation = (r.type == "NS") || (r.name == "mail" && (r.type == "A" || r.type == "AAAA"));
    EXPECT_EQ(r.at_registrar, delegation) << r.name << " " << r.type;
  }
  p.dns.serve = "none";
  sets = build_records(p, sample_inputs());
  for (auto& r : sets[0].records)
    EXPECT_EQ(r.at_registrar, r.type != "SOA" && r.type != "NS") << r.name << " " << r.type;
}

TEST(DnsRecords, SpfVariants) {
  auto p = sample_profile();
  EXPECT_EQ(spf_value(p), "v=spf1 mx -all");
  p.mode = MailMode::relay;
  p.relay = Relay{};
  p.relay->host = "smtp.provider.example";
  EXPECT_EQ(spf_value(p), "v=spf1 a:smtp.provider.example ~all");
  p.relay->spf_include = "_spf.provider.example";
  EXPECT_EQ(spf_value(p), "v=spf1 include:_spf.provider.example -all");
  p.mode = MailMode::full;
  EXPECT_EQ(spf_value(p), "v=spf1 mx include:_spf.provider.example -all");
}

TEST(DnsRecords, RelayModePublishesNoInboundRecords) {
  auto p = sample_profile();
  p.mode = MailMode::relay;
  p.relay = Relay{};
  p.relay->host = "smtp.provider.example";
  p.relay->spf_include = "_spf.provider.example";
  auto s = build_records(p, sample_inputs())[0];
  EXPECT_TRUE(find(s, "@", "MX").empty());
  EXPECT_TRUE(find(s, "_mta-sts", "TXT").empty());
  EXPECT_TRUE(find(s, "_submission._tcp", "SRV").empty());
  EXPECT_TRUE(s.mta_sts_policy.empty());
  EXPECT_FALSE(find(s, "_dmarc", "TXT").empty());
  EXPECT_FALSE(find(s, "mail._domainkey", "TXT").empty());
}

TEST(DnsRecords, DmarcAndTlsRpt) {
  Domain d;
  d.name = "example.com";
  d.dmarc.policy = "reject";
  EXPECT_EQ(dmarc_value(d), "v=DMARC1; p=reject");
  auto p = sample_profile();
  EXPECT_EQ(tls_rpt_value(p, d), "v=TLSRPTv1; rua=mailto:admin@example.com");
}

TEST(DnsRecords, DmarcReportsToAnotherOwnDomainAuthorizeThere) {
  auto p = sample_profile();
  Domain other;
  other.name = "example.org";
  other.dmarc.rua = "dmarc@example.com";
  p.domains.push_back(other);
  auto sets = build_records(p, sample_inputs());
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(value(sets[0], "example.org._report._dmarc", "TXT"), "v=DMARC1");
  // example.org is served by the host in example.com: MX/NS point there, no A in example.org.
  EXPECT_EQ(value(sets[1], "@", "MX"), "10 mail.example.com.");
  EXPECT_TRUE(find(sets[1], "mail", "A").empty());
}

TEST(DnsRecords, MtaStsIdFollowsThePolicy) {
  auto p = sample_profile();
  std::string policy = mta_sts_policy(p);
  EXPECT_EQ(policy,
            "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n");
  std::string id = mta_sts_id(policy);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(mta_sts_id(mta_sts_policy(p)), id);
  p.tls.source = "acme";
  EXPECT_NE(mta_sts_policy(p).find("mode: enforce"), std::string::npos);
  EXPECT_NE(mta_sts_id(mta_sts_policy(p)), id);
}

TEST(DnsRecords, CaaFromTheTlsSource) {
  TlsSettings tls;
  std::string why;
  EXPECT_EQ(caa_issuer(tls, &why), "");
  EXPECT_NE(why.find("self-signed"), std::string::npos);
  tls.source = "acme";
  EXPECT_EQ(caa_issuer(tls, nullptr), "letsencrypt.org");
  tls.acme_directory = "https://acme-staging-v02.api.letsencrypt.org/directory";
  EXPECT_EQ(caa_issuer(tls, nullptr), "letsencrypt.org");
  tls.acme_directory = "https://acme.zerossl.com/v2/DV90";
  EXPECT_EQ(caa_issuer(tls, nullptr), "sectigo.com");
  tls.acme_directory = "https://127.0.0.1:14000/dir";
  EXPECT_EQ(caa_issuer(tls, &why), "");
  EXPECT_NE(why.find("127.0.0.1"), std::string::npos);
  tls.source = "provided";
  EXPECT_EQ(caa_issuer(tls, &why), "");

  auto p = sample_profile();
  p.tls.source = "acme";
  auto s = build_records(p, sample_inputs())[0];
  auto caa = find(s, "@", "CAA");
  ASSERT_EQ(caa.size(), 2u);
  EXPECT_EQ(caa[0]->value, "0 issue \"letsencrypt.org\"");
  EXPECT_EQ(caa[1]->value, "0 iodef \"mailto:admin@example.com\"");
}

TEST(DnsRecords, SrvUsesTheGivenPorts) {
  auto in = sample_inputs();
  in.ports = Ports{};  // the sandbox defaults
  auto s = build_records(sample_profile(), in)[0];
  EXPECT_EQ(value(s, "_submission._tcp", "SRV"), "0 1 5587 mail.example.com.");
  EXPECT_EQ(value(s, "_imaps._tcp", "SRV"), "0 1 9933 mail.example.com.");
}

TEST(DnsRecords, UnknownAddressAndMissingKeysAreNotes) {
  auto in = sample_inputs();
  in.ipv4.clear();
  in.ipv6.clear();
  in.address_source.clear();
  in.dkim[0].txt.clear();
  in.verification_tokens.clear();
  auto s = build_records(sample_profile(), in)[0];
  EXPECT_TRUE(find(s, "mail", "A").empty());
  EXPECT_TRUE(find(s, "mail._domainkey", "TXT").empty());
  EXPECT_TRUE(find(s, "_mail-verification", "TXT").empty());
  std::string all;
  for (auto& n : s.notes) all += n + "\n";
  EXPECT_NE(all.find("no public address"), std::string::npos) << all;
  EXPECT_NE(all.find("DKIM key mail (rsa-2048) does not exist yet"), std::string::npos) << all;
  EXPECT_NE(all.find("verification token"), std::string::npos) << all;
}

TEST(DnsRecords, SandboxAddressIsSaid) {
  auto in = sample_inputs();
  in.ipv4 = "127.0.0.1";
  in.ipv6.clear();
  in.address_source = "sandbox";
  auto s = build_records(sample_profile(), in)[0];
  EXPECT_EQ(value(s, "mail", "A"), "127.0.0.1");
  bool said = false;
  for (auto& n : s.notes) said |= n.find("sandbox") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(DnsRecords, InjectionIsRefused) {
  auto in = sample_inputs();
  in.dkim[0].txt = "v=DKIM1; p=x\n@ IN NS evil.example.";
  EXPECT_THROW(build_records(sample_profile(), in), Error);
  auto p = sample_profile();
  p.hostname = "mail.example.com. IN NS evil";
  EXPECT_THROW(build_records(p, sample_inputs()), Error);
}

TEST(DnsRecords, RecordProblems) {
  auto bad = [](std::string name, std::string type, std::string value) {
    ZoneRecord r;
    r.name = std::move(name);
    r.type = std::move(type);
    r.value = std::move(value);
    return record_problem(r);
  };
  EXPECT_EQ(bad("@", "MX", "10 mail.example.com."), "");
  EXPECT_NE(bad("@", "MX", "10 mail.example.com"), "");
  EXPECT_NE(bad("@", "MX", "10 mail.example.com.; evil"), "");
  EXPECT_NE(bad("@", "A", "1.2.3.4 }"), "");
  EXPECT_NE(bad("a b", "TXT", "x"), "");
  EXPECT_NE(bad("@", "CAA", "0 issue \"a\\\"b\""), "");
  EXPECT_NE(bad("@", "CAA", "0 issue letsencrypt.org"), "");
  EXPECT_NE(bad("@", "SRV", "0 1 99999 mail.example.com."), "");
  EXPECT_NE(bad("@", "NS", "evil.example.\n"), "");
  EXPECT_EQ(bad("@", "SOA", "mail.example.com. first\\.last.example.com. 1 2 3 4 5"), "");
  EXPECT_NE(bad("@", "SOA", "mail.example.com. a;b.example.com. 1 2 3 4 5"), "");
  EXPECT_EQ(bad("@", "DS", "1234 13 2 ABCDEF"), "");
  EXPECT_NE(bad("@", "LOC", "x"), "");
}

TEST(DnsRecords, SerialRule) {
  EXPECT_EQ(next_serial(0, 20240105), 2024010501u);
  EXPECT_EQ(next_serial(2024010501, 20240105), 2024010502u);
  EXPECT_EQ(next_serial(2024010499, 20240105), 2024010501u);
  EXPECT_EQ(next_serial(2024010699, 20240105), 2024010700u);  // never goes back
  std::uint32_t today = today_yyyymmdd();
  EXPECT_GT(today, 20240000u);
  EXPECT_LT(today, 21000000u);
}

TEST(DnsRecords, SetSerialRewritesTheSoa) {
  auto s = build_records(sample_profile(), sample_inputs())[0];
  set_serial(s, 2024010203);
  EXPECT_EQ(s.serial, 2024010203u);
  EXPECT_EQ(value(s, "@", "SOA"),
            "mail.example.com. admin.example.com. 2024010203 3600 900 1209600 300");
}

}  // namespace
}  // namespace firstboot::dns
