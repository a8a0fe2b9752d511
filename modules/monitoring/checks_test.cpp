#include "checks.h"

#include <gtest/gtest.h>

#include <map>

#include "engine/test_support.h"
#include "probe/test_server.h"

namespace firstboot {
namespace {

using namespace std::chrono_literals;

TEST(CheckDecisionsTest, Disk) {
  constexpr std::uint64_t GiB = 1ull << 30;
  EXPECT_EQ(disk_verdict("/", 50 * GiB, 100 * GiB).status, CheckStatus::pass);
  EXPECT_EQ(disk_verdict("/", 5 * GiB, 100 * GiB).status, CheckStatus::warn);
  EXPECT_EQ(disk_verdict("/", GiB / 2, 4 * GiB).status, CheckStatus::warn);
  EXPECT_EQ(disk_verdict("/", 100ull << 20, 4 * GiB).status, CheckStatus::fail);
  EXPECT_EQ(disk_verdict("/", GiB, 100 * GiB).status, CheckStatus::fail);
  EXPECT_NE(disk_verdict("/var", 50 * GiB, 100 * GiB).detail.find("/var: 50.0 GiB free"),
            std::string::npos);
}

TEST(CheckDecisionsTest, Memory) {
  auto [total, avail] = parse_meminfo(
      "MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:    1024000 kB\n");
  EXPECT_EQ(total, 2048000ull * 1024);
  EXPECT_EQ(avail, 1024000ull * 1024);
  EXPECT_EQ(memory_verdict(avail, total).status, CheckStatus::pass);
  EXPECT_EQ(memory_verdict(100ull << 20, 512ull << 20).status, CheckStatus::warn);
  EXPECT_EQ(memory_verdict(20ull << 20, 512ull << 20).status, CheckStatus::fail);
  EXPECT_EQ(memory_verdict(0, 0).status, CheckStatus::fail);
}

TEST(CheckDecisionsTest, ExpiryTlsAndServices) {
  EXPECT_EQ(expiry_status(90), CheckStatus::pass);
  EXPECT_EQ(expiry_status(13.5), CheckStatus::warn);
  EXPECT_EQ(expiry_status(2.9), CheckStatus::fail);
  EXPECT_EQ(expiry_status(-1), CheckStatus::fail);
  EXPECT_TRUE(modern_tls_version("TLSv1.3"));
  EXPECT_FALSE(modern_tls_version("TLSv1.1"));
  EXPECT_EQ(module_of_service("opendkim-ed25519"), "mail");
  EXPECT_EQ(module_of_service("named"), "dns");
  EXPECT_EQ(module_of_service("node-exporter"), "monitoring");
  EXPECT_EQ(module_of_service("something"), "system");
}

// Port 1 on loopback: nothing listens there, so every probe fails at once with the reason.
int closed_port() { return 1; }

MonitorConfig nothing_running(const std::filesystem::path& dir) {
  MonitorConfig c;
  c.target = "sandbox";
  c.hostname = "mail.example.com";
  c.mode = "full";
  c.domains = {{"example.com", {{"mail", "rsa-2048", (dir / "none.private").string()}}}};
  c.cert_hosts = {"mail.example.com"};
  int port = closed_port();
  c.ports.smtp = c.ports.submission = c.ports.smtps = c.ports.imap = c.ports.imaps = port;
  c.ports.pop3 = c.ports.metrics = port;
  c.dns_server = "127.0.0.1:1";
  c.dns_served = true;
  c.probe_address = "firstboot-probe@example.com";
  c.probe_secret_file = (dir / "probe.secret").string();
  c.maillog_file = (dir / "mail.log").string();
  c.queue_dir = (dir / "queue").string();
  c.textfile_dir = (dir / "textfile").string();
  c.state_dir = (dir / "state").string();
  c.tls_dir = (dir / "tls").string();
  c.disk_paths = {dir.string()};
  c.dns_records = {{"example.com", "@", "MX", "10 mail.example.com."},
                   {"example.com", "@", "TXT", "v=spf1 mx -all"}};
  return c;
}

std::map<std::string, CheckResult> by_id(const std::vector<CheckResult>& results) {
  std::map<std::string, CheckResult> out;
  for (auto& r : results) out[r.id] = r;
  return out;
}

TEST(ChecksTest, NothingRunningFailsFastWithReasons) {
  firstboot::testing::ScratchDir dir;
  auto env = make_check_environment(nothing_running(dir.path()), nullptr);
  auto start = std::chrono::steady_clock::now();
  CheckRun run = run_checks(env, probe::Deadline::in(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  auto r = by_id(run.results);
  EXPECT_EQ(r["mail.smtp.banner"].status, CheckStatus::fail);
  EXPECT_NE(r["mail.smtp.banner"].detail.find("connection refused"), std::string::npos)
      << r["mail.smtp.banner"].detail;
  EXPECT_FALSE(r["mail.smtp.banner"].hint.empty());
  EXPECT_EQ(r["mail.smtp.ehlo"].status, CheckStatus::skipped);
  EXPECT_EQ(r["mail.smtp.ehlo"].detail, "skipped because mail.smtp.banner failed");
  EXPECT_EQ(r["mail.roundtrip"].status, CheckStatus::fail);  // the probe secret is missing
  EXPECT_EQ(r["mail.imap.banner"].status, CheckStatus::fail);
  EXPECT_EQ(r["dns.example.com.mx"].status, CheckStatus::fail);
  // The server does not answer: the first DNS check fails, the others say why they were skipped.
  EXPECT_EQ(r["dns.example.com.dmarc"].status, CheckStatus::skipped);
  EXPECT_NE(r["dns.example.com.dmarc"].detail.find("dns.example.com.mx failed"), std::string::npos);
  EXPECT_EQ(r["monitoring.exporter"].status, CheckStatus::fail);
  EXPECT_EQ(r["monitoring.timer"].status, CheckStatus::skipped);
  EXPECT_EQ(r["system.outbound-smtp"].status, CheckStatus::skipped);
  EXPECT_EQ(r["system.disk"].status == CheckStatus::fail, false);
  EXPECT_EQ(r["mail.queue"].status, CheckStatus::warn);  // no queue directory: a warning check
  EXPECT_FALSE(all_required_pass(run.results));
  // Every check has a module; every failing one a hint.
  for (auto& c : run.results) {
    EXPECT_FALSE(c.module.empty()) << c.id;
    if (c.status == CheckStatus::fail) {
      EXPECT_FALSE(c.hint.empty()) << c.id;
    }
  }
}

// The SMTP and relay probes against a real SMTP server (aiosmtpd) with STARTTLS and AUTH.
TEST(ChecksTest, SmtpAndRelayProbesAgainstARealServer) {
  firstboot::testing::ScratchDir dir;
  auto pki = probe::testing::make_test_pki({"mail.example.com"});
  probe::testing::write_text(dir / "chain.pem", pki.leaf_cert_pem + pki.ca_cert_pem);
  probe::testing::write_text(dir / "key.pem", pki.leaf_key_pem);
  probe::testing::write_text(dir / "ca.pem", pki.ca_cert_pem);
  probe::testing::TestServer server(
      {(probe::testing::testdata_dir() / "smtp_server.py").string(), "--cert",
       (dir / "chain.pem").string(), "--key", (dir / "key.pem").string(), "--auth",
       "firstboot-probe@example.com:probe-pass", "--refuse-domain", "relay-test.invalid"});
  MonitorConfig c = nothing_running(dir.path());
  c.ports.smtp = server.port();
  probe::testing::write_text(dir / "probe.secret", "probe-pass\n");
  auto env = make_check_environment(c, nullptr);
  env->ca_file = (dir / "ca.pem").string();
  CheckRun run = run_checks(env, probe::Deadline::in(8s));
  auto r = by_id(run.results);
  for (const char* id :
       {"mail.smtp.banner", "mail.smtp.ehlo", "mail.smtp.no-auth-before-tls", "mail.smtp.starttls",
        "mail.smtp.tls-version", "ssl.smtp.certificate", "ssl.smtp.expiry", "mail.relay.refused",
        "mail.postmaster.example.com", "mail.abuse.example.com"})
    EXPECT_EQ(r[id].status, CheckStatus::pass) << id << ": " << r[id].detail;
  EXPECT_NE(r["mail.smtp.tls-version"].detail.find("TLS 1.0 and 1.1 refused"), std::string::npos);
  EXPECT_NE(r["ssl.smtp.expiry"].detail.find("days left"), std::string::npos);
  // The outside client could not reach submission: no unauthenticated relay there either.
  EXPECT_EQ(r["mail.submission.relay-refused"].status, CheckStatus::pass);
}

}  // namespace
}  // namespace firstboot
