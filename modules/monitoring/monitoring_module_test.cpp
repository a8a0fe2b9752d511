#include "monitoring_module.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "engine/file_writer.h"
#include "engine/test_support.h"
#include "monitor_config.h"
#include "store/store.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

// Only what the monitoring module reads: the planned DNS records.
class RecordsStore : public Store {
 public:
  std::map<std::string, std::vector<DnsRecordRow>> rows;
  void migrate() override {}
  int schema_version() override { return 1; }
  std::string verification_token(const std::string&) override { return "t"; }
  bool put_dns_records(const std::string& domain, const std::string&,
                       const std::vector<DnsRecordRow>& r) override {
    rows[domain] = r;
    return true;
  }
  std::vector<DnsRecordRow> dns_records(const std::string& domain) override { return rows[domain]; }
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
  std::string location() const override { return "/dev/null"; }
};

struct MonitoringFixture : ::testing::Test {
  firstboot::testing::ScratchDir dir;
  firstboot::testing::FakeSupervisor services;
  TemplateRenderer templates{data_dir() / "templates"};
  spdlog::logger log{"monitoring", std::make_shared<spdlog::sinks::null_sink_mt>()};
  RecordsStore store;
  Profile profile;
  std::unique_ptr<Module> module = make_monitoring_module();

  MonitoringFixture() {
    profile.hostname = "mail.example.com";
    profile.admin_email = "admin@example.com";
    Domain d;
    d.name = "example.com";
    profile.domains = {d};
    profile.dns.serve = "bind";
    profile.monitoring.interval_seconds = 600;
    store.rows["example.com"] = {{"example.com", "@", "MX", 3600, "10 mail.example.com.", "mx"}};
  }

  std::size_t apply(const Layout& layout, bool dry_run = false) {
    FileWriter files(layout.state_dir() / "backup", "r", dry_run);
    ModuleContext ctx(
        profile, layout, files, services, templates, log, [this]() -> Store& { return store; },
        dry_run);
    module->apply(ctx);
    for (auto& e : files.events())
      if (e.change != FileChange::unchanged) changed.push_back(e.path.string());
    return files.changed_count();
  }
  std::vector<std::string> changed;
};

TEST_F(MonitoringFixture, Declaration) {
  ModuleInfo info = module->info();
  EXPECT_EQ(info.name, "monitoring");
  EXPECT_EQ(info.order, 10);
  EXPECT_EQ(info.requires_, (std::vector<std::string>{"mail-transport", "dns-zone"}));
}

TEST_F(MonitoringFixture, SandboxApplyWritesConfigUnitsAndStartsTheExporterOnce) {
  Layout layout = Layout::sandbox(dir / "sb");
  EXPECT_GT(apply(layout, true), 0u);  // plan lists the changes but writes nothing
  EXPECT_FALSE(fs::exists(layout.map(kMonitorConfigPath)));
  // The fake supervisor is not a planning one: forget what the dry run asked of it.
  services.running.clear();
  services.starts.clear();
  EXPECT_GT(apply(layout), 0u);
  auto config = load_monitor_config(layout);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->target, "sandbox");
  ASSERT_EQ(config->dns_records.size(), 1u);
  EXPECT_EQ(config->dns_records[0].value, "10 mail.example.com.");
  EXPECT_TRUE(fs::is_directory(layout.map(kTextfileDir)));
  std::string timer = read_file(layout.map("/etc/systemd/system/firstboot-check.timer"));
  EXPECT_NE(timer.find("OnUnitActiveSec=600s"), std::string::npos) << timer;
  std::string service = read_file(layout.map("/etc/systemd/system/firstboot-check.service"));
  EXPECT_NE(service.find("/firstboot check"), std::string::npos) << service;
  std::string dropin = read_file(
      layout.map("/etc/systemd/system/prometheus-node-exporter.service.d/firstboot.conf"));
  EXPECT_NE(dropin.find("--web.listen-address=127.0.0.1:9100"), std::string::npos);
  EXPECT_NE(dropin.find("--collector.textfile.directory=" + layout.map(kTextfileDir).string()),
            std::string::npos);
  EXPECT_EQ(services.starts["node-exporter"], 1);
  EXPECT_EQ(services.starts.count("firstboot-check.timer"), 0u);  // no systemd in a sandbox

  // Converges: nothing written, nothing restarted.
  changed.clear();
  EXPECT_EQ(apply(layout), 0u) << ::testing::PrintToString(changed);
  EXPECT_EQ(services.restarts["node-exporter"], 0);

  // A new interval changes the timer only.
  profile.monitoring.interval_seconds = 300;
  EXPECT_EQ(apply(layout), 2u);  // monitoring.json and the timer
  EXPECT_NE(read_file(layout.map("/etc/systemd/system/firstboot-check.timer"))
                .find("OnUnitActiveSec=300s"),
            std::string::npos);
  EXPECT_EQ(services.restarts["node-exporter"], 0);
}

TEST_F(MonitoringFixture, OfflineTreeGetsTheFilesAndAnEnabledExporter) {
  Layout layout = Layout::offline(dir / "root");
  apply(layout);
  EXPECT_TRUE(fs::exists(layout.map("/etc/systemd/system/firstboot-check.timer")));
  EXPECT_EQ(services.starts["node-exporter"], 1);
  FileWriter files(layout.state_dir() / "backup", "r", false);
  ModuleContext ctx(
      profile, layout, files, services, templates, log, [this]() -> Store& { return store; },
      false);
  auto checks = module->validate(ctx);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, CheckStatus::pass);
}

}  // namespace
}  // namespace firstboot
