#include "status_report.h"

#include <gtest/gtest.h>

#include "engine/test_support.h"

namespace firstboot::cli {
namespace {

CheckResult check(const std::string& id, const std::string& module, CheckStatus status,
                  CheckSeverity severity = CheckSeverity::required) {
  CheckResult c = make_check(id, module);
  c.status = status;
  c.severity = severity;
  c.detail = id + " detail";
  if (status != CheckStatus::pass) c.hint = "fix " + id;
  return c;
}

Journal journal_with(firstboot::testing::ScratchDir& dir,
                     std::vector<std::pair<std::string, ModuleRecord>> recs) {
  Journal j(dir / "journal.json");
  for (auto& [name, rec] : recs) j.put(name, rec);
  return j;
}

ModuleRecord done(std::vector<CheckResult> checks, std::string started = "2026-01-01T00:00:00Z") {
  ModuleRecord r;
  r.state = ModuleState::done;
  r.started_at = started;
  r.checks = std::move(checks);
  return r;
}

TEST(StatusReportTest, ReadyOnlyWhenEveryModuleIsDoneAndEveryRequiredCheckPasses) {
  firstboot::testing::ScratchDir dir;
  auto j = journal_with(dir, {{"ssl", done({check("ssl.certificate.x", "ssl", CheckStatus::pass)})},
                              {"monitoring", done({})}});
  LiveChecks live;
  live.results = {
      check("mail.smtp.banner", "mail", CheckStatus::pass),
      check("system.outbound-smtp", "system", CheckStatus::warn, CheckSeverity::warning)};
  auto r = build_status_report(j, std::nullopt, &live, true);
  EXPECT_TRUE(r.ready);
  std::string text = format_status_report(r, false);
  EXPECT_NE(text.find("READY: every module done"), std::string::npos) << text;
  EXPECT_NE(text.find("(warning only)"), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos) << "colors without a terminal";
  EXPECT_NE(format_status_report(r, true).find("\033[32m"), std::string::npos);
}

TEST(StatusReportTest, FailuresFirstWithHintsAndTheReason) {
  firstboot::testing::ScratchDir dir;
  auto j = journal_with(dir, {{"ssl", done({check("ssl.certificate.x", "ssl", CheckStatus::pass)})},
                              {"monitoring", done({})}});
  LiveChecks live;
  live.results = {check("mail.smtp.banner", "mail", CheckStatus::pass),
                  check("mail.imap.banner", "mail", CheckStatus::fail),
                  check("mail.imap.login", "mail", CheckStatus::skipped)};
  auto r = build_status_report(j, std::nullopt, &live, true);
  EXPECT_FALSE(r.ready);
  ASSERT_FALSE(r.modules.empty());
  EXPECT_EQ(r.modules.front().name, "mail");  // the module with a failure comes first
  EXPECT_EQ(r.modules.front().checks.front().check.id, "mail.imap.banner");
  std::string text = format_status_report(r, false);
  EXPECT_NE(text.find("FAIL  mail.imap.banner"), std::string::npos) << text;
  EXPECT_NE(text.find("hint: fix mail.imap.banner"), std::string::npos);
  EXPECT_NE(text.find("NOT READY: check mail.imap.banner failed"), std::string::npos);
  EXPECT_LT(text.find("mail.imap.banner"), text.find("ssl.certificate.x"));
}

TEST(StatusReportTest, LiveResultsReplaceRecordedOnes) {
  firstboot::testing::ScratchDir dir;
  auto j = journal_with(
      dir, {{"mail", done({check("mail.smtp.banner", "mail", CheckStatus::pass)})},
            {"monitoring", done({check("mail.imap.banner", "mail", CheckStatus::pass)})}});
  LiveChecks live;
  live.results = {check("mail.smtp.banner", "mail", CheckStatus::fail)};
  auto r = build_status_report(j, std::nullopt, &live, true);
  EXPECT_FALSE(r.ready);
  auto doc = status_report_json(r);
  int seen = 0;
  for (auto& m : doc["modules"])
    for (auto& c : m["checks"]) {
      ++seen;
      EXPECT_EQ(c["id"], "mail.smtp.banner");
      EXPECT_EQ(c["source"], "live");
      EXPECT_EQ(c["status"], "fail");
    }
  EXPECT_EQ(seen, 1);  // the monitoring module's recorded checks are superseded
}

TEST(StatusReportTest, NotReadyWithoutARunOrWithoutLiveChecks) {
  firstboot::testing::ScratchDir dir;
  Journal empty(dir / "journal.json");
  auto r = build_status_report(empty, std::nullopt, nullptr, false);
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.reasons.front(), "no run recorded yet");
  auto j = journal_with(dir, {{"monitoring", done({})}});
  auto no_live = build_status_report(j, std::nullopt, nullptr, true);
  EXPECT_FALSE(no_live.ready);
  ModuleRecord failed;
  failed.state = ModuleState::failed;
  failed.error = "postfix check failed";
  auto jf = journal_with(dir, {{"mail", failed}});
  auto rf = build_status_report(jf, std::nullopt, nullptr, false);
  EXPECT_FALSE(rf.ready);
  EXPECT_EQ(rf.reasons.front(), "module mail is failed: postfix check failed");
}

TEST(StatusReportTest, JsonShape) {
  firstboot::testing::ScratchDir dir;
  auto j = journal_with(dir, {{"ssl", done({check("ssl.x", "ssl", CheckStatus::pass)})}});
  MonitorConfig c;
  c.hostname = "mail.example.com";
  c.mode = "full";
  LiveChecks live;
  live.ms = 812;
  live.results = {check("system.disk", "system", CheckStatus::warn)};
  auto doc = status_report_json(build_status_report(j, c, &live, true));
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["ready"], true);
  EXPECT_EQ(doc["hostname"], "mail.example.com");
  EXPECT_EQ(doc["summary"]["warn"], 1);
  EXPECT_EQ(doc["summary"]["pass"], 1);
  bool system_group = false;
  for (auto& m : doc["modules"])
    if (m["name"] == "system") {
      system_group = true;
      EXPECT_EQ(m["state"], "checks-only");
    }
  EXPECT_TRUE(system_group);
}

}  // namespace
}  // namespace firstboot::cli
