#include "metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "engine/file_writer.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

MetricsInput sample() {
  MetricsInput in;
  CheckResult a = make_check("mail.smtp.banner", "mail");
  a.duration_ms = 12;
  CheckResult b = make_check("dns.example.com.mx", "dns");
  b.status = CheckStatus::fail;
  in.checks = {a, b};
  in.ready = false;
  in.run_seconds = 0.8;
  in.run_at = 1700000000;
  in.modules = {{"ssl", "done", 120}, {"mail", "failed", 900}};
  in.certificate_not_after["mail.example.com"] = 1800000000;
  in.dkim_keys.push_back({"example.com", "mail", "rsa-2048", 86400});
  in.queue.readable = true;
  in.queue.messages = {{"active", 1}, {"deferred", 2}};
  in.queue.oldest_age_seconds = 60;
  in.deliveries.by_domain["example.com"]["sent"] = 5;
  in.deliveries.by_domain["gmail.com"]["deferred"] = 1;
  return in;
}

TEST(MetricsTest, RendersEveryFamilyInTheTextFormat) {
  std::string text = render_metrics(sample());
  EXPECT_NE(text.find("firstboot_ready 0\n"), std::string::npos);
  EXPECT_NE(text.find("firstboot_check_status{check=\"dns.example.com.mx\",module=\"dns\","
                      "severity=\"required\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("firstboot_module_duration_seconds{module=\"mail\"} 0.9\n"),
            std::string::npos);
  EXPECT_NE(text.find("firstboot_certificate_expiry_timestamp_seconds{host=\"mail.example.com\"} "
                      "1800000000\n"),
            std::string::npos);
  EXPECT_NE(text.find("firstboot_dkim_key_age_seconds{domain=\"example.com\",selector=\"mail\","
                      "algorithm=\"rsa-2048\"} 86400\n"),
            std::string::npos);
  EXPECT_NE(text.find("firstboot_mail_queue_messages{queue=\"deferred\"} 2\n"), std::string::npos);
  EXPECT_NE(
      text.find("firstboot_mail_deliveries_total{domain=\"example.com\",status=\"sent\"} 5\n"),
      std::string::npos);
  // Every sample line: name{labels} value; every family has HELP and TYPE.
  std::regex sample_line(
      R"(^[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+]+$)");
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample_line)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 12);
}

TEST(MetricsTest, EscapesLabelsAndCapsDomains) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsInput in;
  in.max_domains = 2;
  in.deliveries.by_domain["a.example"]["sent"] = 10;
  in.deliveries.by_domain["b.example"]["sent"] = 9;
  in.deliveries.by_domain["c.example"]["sent"] = 1;
  in.deliveries.by_domain["d.example"]["sent"] = 2;
  std::string text = render_metrics(in);
  EXPECT_NE(text.find("domain=\"other\",status=\"sent\"} 3"), std::string::npos) << text;
  EXPECT_EQ(text.find("c.example"), std::string::npos);
}

TEST(MetricsTest, WritesAtomically) {
  firstboot::testing::ScratchDir dir;
  write_metrics_file(dir / "textfile", "firstboot_ready 1\n");
  EXPECT_EQ(read_file(dir / "textfile" / "firstboot.prom"), "firstboot_ready 1\n");
  for (auto& e : std::filesystem::directory_iterator(dir / "textfile"))
    EXPECT_EQ(e.path().filename(), "firstboot.prom");  // no temporary left behind
}

}  // namespace
}  // namespace firstboot
