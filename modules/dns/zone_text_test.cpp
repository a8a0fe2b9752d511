#include "zone_text.h"

#include <gtest/gtest.h>

#include <fstream>

#include "dns_names.h"
#include "engine/layout.h"
#include "engine/module.h"
#include "engine/template_renderer.h"
#include "engine/test_support.h"
#include "tool_runner.h"

namespace firstboot::dns {
namespace {

TemplateRenderer templates() { return TemplateRenderer(data_dir() / "templates"); }

DomainRecords sample(const std::string& domain = "example.com") {
  Profile p;
  p.hostname = "mail.example.com";
  p.admin_email = "first.last@example.com";
  Domain d;
  d.name = domain;
  d.dkim.algorithms = {"rsa-2048", "ed25519"};
  d.dmarc.rua = "dmarc@example.com";
  p.domains.push_back(d);
  p.dns.serve = "bind";
  p.tls.source = "acme";
  RecordInputs in;
  in.ipv4 = "192.0.2.10";
  in.ipv6 = "2001:db8::10";
  in.address_source = "profile";
  in.verification_tokens[domain] = "0123456789abcdef";
  // A 2048-bit key's TXT is ~410 bytes: two strings.
  in.dkim.push_back({domain, "mail", "rsa-2048", "v=DKIM1; k=rsa; p=" + std::string(392, 'Q')});
  in.dkim.push_back({domain, "mail-ed25519", "ed25519", "v=DKIM1; k=ed25519; p=11qYAYKx"});
  in.ports = standard_ports();
  return build_records(p, in).front();
}

std::string write(const testing::ScratchDir& dir, const std::string& name,
                  const std::string& text) {
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

TEST(ZoneText, RendersEveryRecordAndSplitsLongTxt) {
  DomainRecords s = sample();
  set_serial(s, 2024010101);
  std::string zone = zone_text(s, false, templates());
  EXPECT_NE(zone.find("$ORIGIN example.com.\n"), std::string::npos) << zone;
  EXPECT_NE(zone.find("IN SOA mail.example.com. first\\.last.example.com. 2024010101"),
            std::string::npos)
      << zone;
  EXPECT_NE(zone.find("\"v=DKIM1; k=rsa; p=" + std::string(237, 'Q') + "\" \"" +
                      std::string(155, 'Q') + "\""),
            std::string::npos)
      << zone;
  EXPECT_NE(zone.find("IN CAA 0 issue \"letsencrypt.org\""), std::string::npos) << zone;
  EXPECT_EQ(zone.find("note:"), std::string::npos);
  EXPECT_EQ(zone.find("\n\n"), std::string::npos) << "no blank lines from template sections:\n"
                                                  << zone;
  std::string with_notes = zone_text(s, true, templates());
  EXPECT_NE(with_notes.find("; note: "), std::string::npos) << with_notes;
}

TEST(ZoneText, NamedCheckzoneAndNsdCheckzoneAcceptIt) {
  testing::ScratchDir dir;
  DomainRecords s = sample();
  set_serial(s, 2024010101);
  std::string file = write(dir, "example.com.zone", zone_text(s, false, templates()));
  ToolResult named = run_tool({"named-checkzone", "-i", "local", "-k", "fail", "-m", "fail", "-M",
                               "fail", "-n", "fail", "-S", "fail", "example.com", file});
  EXPECT_TRUE(named.ok()) << named.output;
  ToolResult nsd = run_tool({"nsd-checkzone", "example.com", file});
  EXPECT_TRUE(nsd.ok()) << nsd.output;
}

TEST(ZoneText, NamedCheckzoneRejectsBrokenText) {
  testing::ScratchDir dir;
  std::string file = write(dir, "bad.zone", "@ IN SOA x\n");
  ToolResult r = run_tool({"named-checkzone", "example.com", file});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.output.empty());
  EXPECT_EQ(run_tool({"/nonexistent/tool"}).exit_code, -1);
}

TEST(ZoneText, SerialKeptWhileContentIsTheSame) {
  auto t = templates();
  std::vector<DomainRecords> first{sample()};
  assign_serials(first, {}, t, 20240105);
  EXPECT_EQ(first[0].serial, 2024010501u);
  EXPECT_EQ(first[0].content_sha256.size(), 64u);

  std::vector<DomainRecords> again{sample()};
  assign_serials(again, first, t, 20240107);
  EXPECT_EQ(again[0].serial, 2024010501u) << "same content, days later: same serial";

  std::vector<DomainRecords> changed{sample()};
  changed[0].records[3].value = "192.0.2.99";
  assign_serials(changed, first, t, 20240105);
  EXPECT_EQ(changed[0].serial, 2024010502u);

  std::vector<DomainRecords> later{sample()};
  later[0].records[3].value = "192.0.2.98";
  assign_serials(later, changed, t, 20240201);
  EXPECT_EQ(later[0].serial, 2024020101u);
}

TEST(ZoneText, AnotherDomainDoesNotBumpThisOne) {
  auto t = templates();
  std::vector<DomainRecords> first{sample("example.com")};
  assign_serials(first, {}, t, 20240105);
  std::vector<DomainRecords> both{sample("example.com"), sample("example.net")};
  assign_serials(both, first, t, 20240106);
  EXPECT_EQ(both[0].serial, first[0].serial);
  EXPECT_EQ(both[1].serial, 2024010601u);
}

}  // namespace
}  // namespace firstboot::dns
