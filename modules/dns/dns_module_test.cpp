#include "dns_module.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <nlohmann/json.hpp>

#include "crypto/dkim_keys.h"
#include "dns_records_export.h"
#include "engine/error.h"
#include "engine/test_support.h"
#include "profile/profile_loader.h"
#include "store/store.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

// The store, in memory.
class FakeStore : public Store {
 public:
  void migrate() override {}
  int schema_version() override { return 1; }
  std::string verification_token(const std::string& domain) override {
    auto& t = tokens[domain];
    if (t.empty()) t = "tok" + std::to_string(tokens.size()) + "abc";
    return t;
  }
  bool put_dns_records(const std::string& domain, const std::string& group,
                       const std::vector<DnsRecordRow>& rows) override {
    auto& slot = records[domain + "/" + group];
    bool changed = slot.size() != rows.size();
    for (std::size_t i = 0; !changed && i < rows.size(); ++i)
      changed = slot[i].value != rows[i].value || slot[i].name != rows[i].name;
    slot = rows;
    return changed;
  }
  std::vector<DnsRecordRow> dns_records(const std::string& domain) override {
    return records[domain + "/dns"];
  }
  bool sync_domains(const std::vector<std::string>&) override { return false; }
  bool sync_users(const std::vector<UserRow>&) override { return false; }
  bool sync_aliases(const std::vector<AliasRow>&) override { return false; }
  std::vector<std::string> domains() override { return {}; }
  std::vector<UserRow> users() override { return {}; }
  std::vector<AliasRow> aliases() override { return {}; }
  std::optional<std::string> password_hash(const std::string&) override { return std::nullopt; }
  bool put_certificate(const CertificateRow&) override { return false; }
  std::vector<CertificateRow> certificates() override { return {}; }
  std::string driver() const override { return "sqlite"; }
  std::string location() const override { return ":memory:"; }

  std::map<std::string, std::string> tokens;
  std::map<std::string, std::vector<DnsRecordRow>> records;
};

struct DnsFixture : ::testing::Test {
  testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path() / "sb");
  testing::FakeSupervisor services;
  TemplateRenderer templates{data_dir() / "templates"};
  spdlog::logger log{"dns", std::make_shared<spdlog::sinks::null_sink_mt>()};
  FakeStore store;
  Profile profile;
  std::vector<std::vector<std::string>> tool_calls;
  bool fail_zone_check = false;
  std::unique_ptr<Module> module = make_dns_module([this](const std::vector<std::string>& argv) {
    tool_calls.push_back(argv);
    if (fail_zone_check && argv.front().find("checkzone") != std::string::npos)
      return dns::ToolResult{1, "zone example.com/IN: injected failure"};
    return dns::run_tool(argv);
  });

  DnsFixture() {
    profile.source_file = "profile.yaml";
    profile.hostname = "mail.example.com";
    profile.admin_email = "admin@example.com";
    Domain d;
    d.name = "example.com";
    d.dkim.algorithms = {"rsa-2048", "ed25519"};
    d.dmarc.rua = "dmarc@example.com";
    profile.domains.push_back(d);
    profile.dns.serve = "bind";
  }

  std::size_t apply(bool dry_run = false) {
    FileWriter files(layout.state_dir() / "backup", "r" + std::to_string(++runs), dry_run);
    ModuleContext ctx(
        profile, layout, files, services, templates, log, [this]() -> Store& { return store; },
        dry_run);
    module->apply(ctx);
    return files.changed_count();
  }
  std::string zone(const std::string& dir_path, const std::string& domain) {
    return read_file(layout.map(dir_path + "/" + domain + ".zone"));
  }
  std::vector<dns::DomainRecords> state() { return dns::applied_dns_records(layout); }
  int runs = 0;
};

TEST_F(DnsFixture, BindZoneWrittenCheckedAndServed) {
  EXPECT_GT(apply(), 0u);
  std::string text = zone("/var/lib/bind/firstboot", "example.com");
  EXPECT_NE(text.find("IN MX 10 mail.example.com."), std::string::npos) << text;
  EXPECT_NE(text.find("IN A 127.0.0.1"), std::string::npos) << text;
  std::string conf = read_file(layout.map("/etc/bind/named.conf"));
  EXPECT_NE(conf.find("zone \"example.com\""), std::string::npos);
  EXPECT_NE(conf.find("listen-on port 5353 { 127.0.0.1; };"), std::string::npos) << conf;
  EXPECT_NE(conf.find(layout.map("/var/lib/bind/firstboot/example.com.zone").string()),
            std::string::npos);
  EXPECT_TRUE(fs::exists(layout.map("/etc/bind/rndc.key")));
  EXPECT_EQ(services.starts["named"], 1);
  bool checked_zone = false, checked_conf = false;
  for (auto& call : tool_calls) {
    checked_zone |= call.front() == "named-checkzone";
    checked_conf |= call.front() == "named-checkconf";
  }
  EXPECT_TRUE(checked_zone && checked_conf);
  // DKIM keys were made here (dns runs before mail) and their public halves published.
  for (const DkimKey& key : dkim_keys_for(profile, layout)) {
    ASSERT_TRUE(fs::exists(key.private_key));
    EXPECT_NE(text.find(key.selector + "._domainkey"), std::string::npos);
  }
  auto rows = store.dns_records("example.com");
  EXPECT_GT(rows.size(), 10u);
  EXPECT_EQ(rows.front().type, "SOA");
  EXPECT_EQ(store.tokens["example.com"], "tok1abc");
  EXPECT_NE(text.find("firstboot-verification=tok1abc"), std::string::npos);
  // MTA-STS policy file for the _mta-sts id.
  std::string policy =
      read_file(layout.map("/var/www/mta-sts/example.com/.well-known/mta-sts.txt"));
  EXPECT_NE(policy.find("mode: testing"), std::string::npos);
}

TEST_F(DnsFixture, RerunChangesNothingAndKeepsTheSerial) {
  apply();
  auto serial = state().front().serial;
  tool_calls.clear();
  EXPECT_EQ(apply(), 0u);
  EXPECT_TRUE(tool_calls.empty()) << "no checks when nothing changed";
  EXPECT_EQ(state().front().serial, serial);
  EXPECT_EQ(services.restarts["named"], 0);
}

TEST_F(DnsFixture, ProfileChangeBumpsTheSerialAndReloads) {
  apply();
  auto serial = state().front().serial;
  profile.domains[0].dmarc.policy = "reject";
  EXPECT_GT(apply(), 0u);
  EXPECT_EQ(state().front().serial, serial + 1);
  EXPECT_NE(zone("/var/lib/bind/firstboot", "example.com").find("p=reject"), std::string::npos);
  EXPECT_EQ(services.restarts["named"], 1);  // the fake counts reloads as restarts
}

TEST_F(DnsFixture, AddedDomainLeavesOtherSerialsAlone) {
  apply();
  auto serial = state().front().serial;
  Domain other;
  other.name = "example.org";
  profile.domains.push_back(other);
  apply();
  auto sets = state();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].serial, serial);
  EXPECT_TRUE(fs::exists(layout.map("/var/lib/bind/firstboot/example.org.zone")));
  // Removing it again removes its zone and its stored rows.
  profile.domains.pop_back();
  apply();
  EXPECT_FALSE(fs::exists(layout.map("/var/lib/bind/firstboot/example.org.zone")));
  EXPECT_TRUE(store.dns_records("example.org").empty());
  EXPECT_EQ(state().front().serial, serial);
}

TEST_F(DnsFixture, RejectedZoneIsRolledBackAndNeverLoaded) {
  apply();
  std::string before = zone("/var/lib/bind/firstboot", "example.com");
  std::string conf_before = read_file(layout.map("/etc/bind/named.conf"));
  auto state_before = state().front().serial;
  profile.domains[0].dmarc.policy = "reject";
  Domain other;
  other.name = "example.org";
  profile.domains.push_back(other);
  fail_zone_check = true;
  EXPECT_THROW(
      {
        try {
          apply();
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos);
          EXPECT_NE(std::string(e.what()).find("previous files were restored"), std::string::npos);
          throw;
        }
      },
      Error);
  EXPECT_EQ(zone("/var/lib/bind/firstboot", "example.com"), before);
  EXPECT_EQ(read_file(layout.map("/etc/bind/named.conf")), conf_before);
  EXPECT_FALSE(fs::exists(layout.map("/var/lib/bind/firstboot/example.org.zone")));
  EXPECT_EQ(services.restarts["named"], 0);
  EXPECT_EQ(state().front().serial, state_before) << "the state keeps the served serial";
}

TEST_F(DnsFixture, NsdVariant) {
  profile.dns.serve = "nsd";
  apply();
  std::string conf = read_file(layout.map("/etc/nsd/nsd.conf"));
  EXPECT_NE(conf.find("ip-address: 127.0.0.1"), std::string::npos) << conf;
  EXPECT_NE(conf.find("port: 5353"), std::string::npos);
  EXPECT_NE(conf.find("name: \"example.com\""), std::string::npos);
  EXPECT_TRUE(fs::exists(layout.map("/etc/nsd/zones/example.com.zone")));
  EXPECT_EQ(services.starts["nsd"], 1);
  bool checked = false;
  for (auto& call : tool_calls) checked |= call.front() == "nsd-checkconf";
  EXPECT_TRUE(checked);
}

TEST_F(DnsFixture, SwitchingServersStopsTheOldOne) {
  apply();
  EXPECT_TRUE(services.running["named"]);
  profile.dns.serve = "nsd";
  apply();
  EXPECT_FALSE(services.running["named"]);
  EXPECT_TRUE(services.running["nsd"]);
  profile.dns.serve = "none";
  apply();
  EXPECT_FALSE(services.running["nsd"]);
}

TEST_F(DnsFixture, ServeNoneWritesNoServerFiles) {
  profile.dns.serve = "none";
  apply();
  EXPECT_FALSE(fs::exists(layout.map("/etc/bind/named.conf")));
  EXPECT_FALSE(fs::exists(layout.map("/etc/nsd/nsd.conf")));
  EXPECT_TRUE(services.starts.empty());
  auto sets = state();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].serve, "none");
  auto doc = dns::onboarding_json(sets);
  for (auto& r : doc["domains"][0]["records"]) {
    EXPECT_NE(r["type"], "SOA");
    EXPECT_EQ(r["where"], "registrar");
  }
  std::string table = dns::records_table(sets);
  EXPECT_NE(table.find("_dmarc.example.com"), std::string::npos) << table;
  EXPECT_NE(table.find("enter the records at your DNS provider"), std::string::npos);
}

TEST_F(DnsFixture, PlanWritesNothing) {
  EXPECT_GT(apply(true), 0u);
  EXPECT_FALSE(fs::exists(dir.path() / "sb"));
  EXPECT_TRUE(store.records.empty());
}

TEST_F(DnsFixture, ValidateWithServeNoneWarnsWithWhatToAdd) {
  profile.dns.serve = "none";
  profile.dns.resolver = "127.0.0.1:1";  // nothing answers there
  apply();
  FileWriter files(layout.state_dir() / "backup", "v", false);
  ModuleContext ctx(
      profile, layout, files, services, templates, log, [this]() -> Store& { return store; },
      false);
  auto start = std::chrono::steady_clock::now();
  auto checks = module->validate(ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(all_required_pass(checks));
  bool dmarc = false;
  for (auto& c : checks) {
    if (c.id == "dns._dmarc.example.com.txt") {
      dmarc = true;
      EXPECT_EQ(c.status, CheckStatus::warn);
      EXPECT_NE(c.hint.find("add at your DNS provider: _dmarc.example.com TXT v=DMARC1"),
                std::string::npos)
          << c.hint;
    }
  }
  EXPECT_TRUE(dmarc);
}

TEST_F(DnsFixture, ProfileChecksRefuseWhatWouldBreakAZone) {
  auto issues_for = [&](auto change) {
    Profile p = profile;
    change(p);
    std::vector<ProfileIssue> issues;
    module->check_profile(p, issues);
    std::string out;
    for (auto& i : issues) out += i.field + ": " + i.message + "\n";
    return out;
  };
  EXPECT_EQ(issues_for([](Profile&) {}), "");
  EXPECT_NE(
      issues_for([](Profile& p) { p.domains[0].name = "exa}mple.com"; }).find("domains[0].name"),
      std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) {
              p.domains[0].dkim.selector = "mail\"x";
            }).find("domains[0].dkim.selector"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) {
              p.domains[0].dkim.selector = std::string(60, 'a');
            }).find("domains[0].dkim.selector"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) {
              p.domains[0].dmarc.rua = "a;b@example.com";
            }).find("domains[0].dmarc.rua"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) { p.hostname = "mail.example.com\nx"; }).find("hostname"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) { p.public_ipv4 = "1.2.3.4; evil"; }).find("public_ipv4"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) {
              p.dns.serve = "nsd";
              p.dns.dnssec = true;
            }).find("dns.dnssec"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) { p.dns.resolver = "dns example:53"; }).find("dns.resolver"),
            std::string::npos);
  EXPECT_NE(issues_for([](Profile& p) {
              p.relay = Relay{};
              p.relay->host = "smtp.provider.example";
              p.relay->spf_include = "x\" IN NS evil";
            }).find("relay.spf_include"),
            std::string::npos);
}

}  // namespace
}  // namespace firstboot
