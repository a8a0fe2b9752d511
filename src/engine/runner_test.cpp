#include "engine/runner.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/error.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

// A module that writes one file, optionally starts a service, and validates as told.
class FakeModule : public Module {
 public:
  FakeModule(std::string name, int order, std::vector<std::string> req,
             std::vector<std::string> prov)
      : info_{std::move(name), order, std::move(req), std::move(prov), "fake"} {}
  ModuleInfo info() const override { return info_; }
  void apply(ModuleContext& ctx) override {
    ++applies;
    ctx.files.write(ctx.path("/etc/" + info_.name + ".conf"), content, {0644, "", ""});
    if (throw_in_apply) throw Error("apply broke");
    if (with_service) {
      ServiceSpec spec;
      spec.name = info_.name + "d";
      ctx.ensure_service(spec, ConfigChange::restart);
    }
  }
  std::vector<CheckResult> validate(ModuleContext&) override {
    ++validations;
    CheckResult c = make_check(info_.name + ".works", info_.name);
    c.status = validate_ok ? CheckStatus::pass : CheckStatus::fail;
    c.detail = validate_ok ? "fine" : "broken";
    return {c};
  }
  ModuleInfo info_;
  std::string content = "x\n";
  bool throw_in_apply = false;
  bool validate_ok = true;
  bool with_service = false;
  int applies = 0;
  int validations = 0;
};

std::vector<std::string> names(const std::vector<Module*>& modules) {
  std::vector<std::string> out;
  for (auto* m : modules) out.push_back(m->info().name);
  return out;
}

TEST(OrderModules, DependenciesFirstThenOrderNumber) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  FakeModule dns("dns", 8, {}, {"zone"});
  FakeModule mail("mail", 9, {"tls"}, {"mail"});
  FakeModule mon("monitoring", 10, {"mail", "zone"}, {});
  EXPECT_EQ(names(order_modules({&mon, &mail, &dns, &ssl})),
            (std::vector<std::string>{"ssl", "dns", "mail", "monitoring"}));
  // A dependency overrides the number.
  FakeModule early("early", 1, {"mail"}, {});
  EXPECT_EQ(names(order_modules({&early, &mail, &ssl})),
            (std::vector<std::string>{"ssl", "mail", "early"}));
}

TEST(OrderModules, CycleAndMissingProviderAreErrors) {
  FakeModule a("a", 1, {"b"}, {"a"});
  FakeModule b("b", 2, {"a"}, {"b"});
  EXPECT_THROW(order_modules({&a, &b}), Error);
  FakeModule c("c", 1, {"nothing"}, {});
  EXPECT_THROW(order_modules({&c}), Error);
}

struct RunnerFixture : ::testing::Test {
  testing::ScratchDir dir;
  Layout layout = Layout::sandbox(dir.path());
  testing::FakeSupervisor services;
  Profile profile;
  std::vector<std::string> lines;
  RunnerFixture() { profile.digest = "d1"; }
  RunReport run(std::vector<Module*> modules, RunOptions options = {}) {
    Runner r(
        layout, services, modules, [&](const std::string& l) { lines.push_back(l); }, nullptr);
    return r.run(profile, options);
  }
  Journal journal() {
    Journal j(layout.state_dir() / "journal.json");
    j.load();
    return j;
  }
};

TEST_F(RunnerFixture, DoneOnlyAfterApplyAndValidate) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  auto report = run({&ssl});
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(journal().get("ssl")->state, ModuleState::done);
  EXPECT_EQ(ssl.validations, 1);
  EXPECT_TRUE(fs::exists(dir / "log/firstboot/07-ssl.log") ||
              fs::exists(dir / "var/log/firstboot/07-ssl.log"));
}

TEST_F(RunnerFixture, FailedValidationFailsModuleAndSkipsDependents) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  FakeModule mail("mail", 9, {"tls"}, {"mail"});
  FakeModule dns("dns", 8, {}, {"zone"});
  ssl.validate_ok = false;
  auto report = run({&ssl, &mail, &dns});
  EXPECT_FALSE(report.ok());
  auto j = journal();
  EXPECT_EQ(j.get("ssl")->state, ModuleState::failed);
  EXPECT_EQ(j.get("dns")->state, ModuleState::done);
  EXPECT_EQ(j.get("mail")->state, ModuleState::skipped);
  EXPECT_NE(j.get("mail")->error.find("skipped because ssl failed"), std::string::npos);
  EXPECT_EQ(mail.applies, 0);
}

TEST_F(RunnerFixture, ApplyErrorLeavesModuleFailedAndRetriedNextRun) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  ssl.throw_in_apply = true;
  EXPECT_FALSE(run({&ssl}).ok());
  EXPECT_EQ(journal().get("ssl")->state, ModuleState::failed);
  EXPECT_NE(journal().get("ssl")->error.find("apply broke"), std::string::npos);
  ssl.throw_in_apply = false;
  EXPECT_TRUE(run({&ssl}).ok());
  EXPECT_EQ(journal().get("ssl")->state, ModuleState::done);
}

TEST_F(RunnerFixture, SecondRunWritesNothingAndRestartsNothing) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  ssl.with_service = true;
  ASSERT_TRUE(run({&ssl}).ok());
  auto journal_file = layout.state_dir() / "journal.json";
  auto mtime = fs::last_write_time(journal_file);
  auto log_size = fs::file_size(layout.log_dir() / "07-ssl.log");
  // The service is running now: ensure with no file change must not restart it.
  ssl.with_service = false;
  auto report = run({&ssl});
  EXPECT_TRUE(report.ok());
  EXPECT_FALSE(report.modules[0].changed);
  EXPECT_FALSE(report.modules[0].validated);
  EXPECT_EQ(fs::last_write_time(journal_file), mtime);
  EXPECT_EQ(fs::file_size(layout.log_dir() / "07-ssl.log"), log_size);
  EXPECT_EQ(services.restarts["ssld"], 0);
}

TEST_F(RunnerFixture, ChangedProfileRevalidates) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  ASSERT_TRUE(run({&ssl}).ok());
  profile.digest = "d2";
  ASSERT_TRUE(run({&ssl}).ok());
  EXPECT_EQ(ssl.validations, 2);
}

TEST_F(RunnerFixture, LaterModulesSeeEarlierChanges) {
  struct Watcher : FakeModule {
    using FakeModule::FakeModule;
    bool saw = false;
    void apply(ModuleContext& ctx) override {
      saw = ctx.changed_in_this_run(ctx.path("/etc/ssl.conf"));
      FakeModule::apply(ctx);
    }
  };
  FakeModule ssl("ssl", 7, {}, {"tls"});
  Watcher mail("mail", 9, {"tls"}, {});
  ASSERT_TRUE(run({&ssl, &mail}).ok());
  EXPECT_TRUE(mail.saw);
  ASSERT_TRUE(run({&ssl, &mail}).ok());
  EXPECT_FALSE(mail.saw);
}

TEST_F(RunnerFixture, PlanTouchesNothing) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  RunOptions plan;
  plan.dry_run = true;
  auto report = run({&ssl}, plan);
  ASSERT_EQ(report.modules.size(), 1u);
  ASSERT_EQ(report.modules[0].files.size(), 1u);
  EXPECT_EQ(report.modules[0].files[0].change, FileChange::created);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(RunnerFixture, OnlyRunsOneModuleAndNeedsItsDependenciesDone) {
  FakeModule ssl("ssl", 7, {}, {"tls"});
  FakeModule mail("mail", 9, {"tls"}, {"mail"});
  RunOptions only;
  only.only = "mail";
  auto report = run({&ssl, &mail}, only);
  EXPECT_EQ(mail.applies, 0);
  EXPECT_EQ(ssl.applies, 0);
  ASSERT_TRUE(run({&ssl}).ok());
  report = run({&ssl, &mail}, only);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(mail.applies, 1);
  EXPECT_EQ(ssl.applies, 1);
}

}  // namespace
}  // namespace firstboot
