#include "monitor_config.h"

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/module.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

Profile sample_profile() {
  Profile p;
  p.hostname = "mail.example.com";
  p.admin_email = "admin@example.com";
  p.mode = MailMode::full;
  Domain d;
  d.name = "example.com";
  d.dkim.selector = "mail";
  d.dkim.algorithms = {"rsa-2048", "ed25519"};
  p.domains = {d};
  p.dns.serve = "bind";
  p.monitoring.interval_seconds = 300;
  p.tls.extra_names = {"imap.example.com"};
  return p;
}

TEST(MonitorConfigTest, ResolvesSandboxPathsPortsAndTheProbeAccount) {
  firstboot::testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path());
  Profile p = sample_profile();
  std::string main_cf = "queue_directory = " + (dir / "var/spool/postfix").string() +
                        "\nmaillog_file = " + (dir / "var/log/mail/mail.log").string() +
                        "\n# maillog_file = /nope\n";
  MonitorConfig c = build_monitor_config(p, layout, p.sandbox_ports, main_cf,
                                         {{"example.com", "@", "MX", "10 mail.example.com."}});
  EXPECT_EQ(c.target, "sandbox");
  EXPECT_EQ(c.ports.smtp, 2525);
  EXPECT_EQ(c.dns_server, "127.0.0.1:5353");
  EXPECT_TRUE(c.dns_served);
  EXPECT_EQ(c.alert_to, "admin@example.com");  // no monitoring.alert_to: the admin
  EXPECT_EQ(c.probe_address, "firstboot-probe@example.com");
  EXPECT_EQ(c.probe_secret_file, (dir / "var/lib/firstboot/probe.secret").string());
  EXPECT_EQ(c.maillog_file, (dir / "var/log/mail/mail.log").string());
  EXPECT_EQ(c.queue_dir, (dir / "var/spool/postfix").string());
  EXPECT_EQ(c.textfile_dir, (dir / "var/lib/prometheus/node-exporter").string());
  EXPECT_EQ(c.cert_hosts, (std::vector<std::string>{"mail.example.com", "imap.example.com"}));
  ASSERT_EQ(c.domains.size(), 1u);
  ASSERT_EQ(c.domains[0].dkim.size(), 2u);
  EXPECT_EQ(c.domains[0].dkim[1].selector, "mail-ed25519");
  EXPECT_EQ(c.services,
            (std::vector<std::string>{"postfix", "opendkim", "opendkim-ed25519", "opendmarc",
                                      "dovecot", "named", "node-exporter"}));

  MonitorConfig back = MonitorConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.dns_records.size(), 1u);
  EXPECT_EQ(back.domains[0].dkim[1].algorithm, "ed25519");
}

TEST(MonitorConfigTest, SystemDefaultsAndRelayMode) {
  Profile p = sample_profile();
  p.mode = MailMode::relay;
  p.dns.serve = "none";
  p.dns.resolver = "192.0.2.53";
  p.relay = Relay{};
  p.relay->host = "smtp.provider.example";
  p.relay->port = 587;
  p.monitoring.alert_to = "ops@example.org";
  MonitorConfig c = build_monitor_config(p, Layout::system(), standard_ports(), "", {});
  EXPECT_EQ(c.target, "system");
  EXPECT_EQ(c.ports.smtp, 25);
  EXPECT_EQ(c.maillog_file, "/var/log/mail.log");
  EXPECT_EQ(c.queue_dir, "/var/spool/postfix");
  EXPECT_FALSE(c.dns_served);
  EXPECT_EQ(c.dns_server, "192.0.2.53");
  EXPECT_EQ(c.alert_to, "ops@example.org");
  EXPECT_TRUE(c.probe_address.empty());
  EXPECT_EQ(c.relay_host, "smtp.provider.example");
}

TEST(MonitorConfigTest, MainCfValues) {
  std::string cf = "a = 1\nmaillog_file=/var/log/x.log \n  continued line\nb = two words\n";
  EXPECT_EQ(postfix_main_cf_value(cf, "maillog_file"), "/var/log/x.log");
  EXPECT_EQ(postfix_main_cf_value(cf, "b"), "two words");
  EXPECT_EQ(postfix_main_cf_value(cf, "missing"), "");
}

TEST(MonitorConfigTest, MissingAndCorruptFiles) {
  firstboot::testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path());
  EXPECT_FALSE(load_monitor_config(layout));
  EXPECT_THROW(MonitorConfig::from_json("{"), Error);
}

}  // namespace
}  // namespace firstboot
