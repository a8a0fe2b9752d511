#include "check_runner.h"

#include <gtest/gtest.h>

#include <thread>

namespace firstboot {
namespace {

using namespace std::chrono_literals;

const CheckResult* find(const CheckRun& run, const std::string& id) {
  for (auto& r : run.results)
    if (r.id == id) return &r;
  return nullptr;
}

ProbeSpec probe(std::string name, std::vector<CheckDecl> checks,
                std::function<void(probe::Deadline, CheckSink&)> run,
                std::chrono::milliseconds timeout = 2000ms) {
  ProbeSpec p;
  p.name = std::move(name);
  p.checks = std::move(checks);
  p.run = std::move(run);
  p.timeout = timeout;
  return p;
}

TEST(CheckRunnerTest, ProbesRunInParallel) {
  std::vector<ProbeSpec> probes;
  for (int i = 0; i < 6; ++i) {
    std::string id = "t.slow" + std::to_string(i);
    probes.push_back(
        probe(id, {{id, "t", CheckSeverity::required, ""}}, [id](probe::Deadline, CheckSink& sink) {
          std::this_thread::sleep_for(200ms);
          sink.pass(id, "ok");
        }));
  }
  auto start = std::chrono::steady_clock::now();
  CheckRun run = run_probes(std::move(probes), probe::Deadline::in(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 600ms);
  ASSERT_EQ(run.results.size(), 6u);
  for (auto& r : run.results) EXPECT_EQ(r.status, CheckStatus::pass) << r.id;
  EXPECT_TRUE(all_required_pass(run.results));
}

TEST(CheckRunnerTest, UnreachedChecksAreSkippedBecauseOfTheFirstFailure) {
  CheckRun run = run_probes({probe("chain",
                                   {{"a.banner", "a", CheckSeverity::required, "start it"},
                                    {"a.ehlo", "a", CheckSeverity::required, ""},
                                    {"a.tls", "a", CheckSeverity::required, ""}},
                                   [](probe::Deadline, CheckSink& sink) {
                                     sink.fail("a.banner", "connection refused");
                                   })},
                            probe::Deadline::in(5s));
  ASSERT_EQ(run.results.size(), 3u);
  EXPECT_EQ(run.results[0].status, CheckStatus::fail);
  EXPECT_EQ(run.results[0].hint, "start it");
  EXPECT_EQ(run.results[1].status, CheckStatus::skipped);
  EXPECT_EQ(run.results[1].detail, "skipped because a.banner failed");
  EXPECT_TRUE(run.results[1].hint.empty());
  EXPECT_FALSE(all_required_pass(run.results));
}

TEST(CheckRunnerTest, ATimeoutFailsTheCheckInProgressOnTime) {
  auto start = std::chrono::steady_clock::now();
  CheckRun run =
      run_probes({probe(
                     "hang",
                     {{"h.one", "h", CheckSeverity::required, ""},
                      {"h.two", "h", CheckSeverity::required, "fix two"},
                      {"h.three", "h", CheckSeverity::required, ""}},
                     [](probe::Deadline, CheckSink& sink) {
                       sink.pass("h.one", "fine");
                       std::this_thread::sleep_for(1500ms);  // ignores its deadline, as a bug would
                     },
                     200ms)},
                 probe::Deadline::in(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  EXPECT_EQ(find(run, "h.one")->status, CheckStatus::pass);
  EXPECT_EQ(find(run, "h.two")->status, CheckStatus::fail);
  EXPECT_NE(find(run, "h.two")->detail.find("timed out after"), std::string::npos);
  EXPECT_EQ(find(run, "h.two")->hint, "fix two");
  EXPECT_EQ(find(run, "h.three")->detail, "skipped because h.two timed out");
  std::this_thread::sleep_for(1500ms);  // let the detached probe end before the test exits
}

TEST(CheckRunnerTest, TheOverallDeadlineBoundsEveryProbe) {
  auto start = std::chrono::steady_clock::now();
  CheckRun run = run_probes({probe(
                                "waits", {{"w.one", "w", CheckSeverity::required, ""}},
                                [](probe::Deadline d, CheckSink& sink) {
                                  while (!d.expired()) std::this_thread::sleep_for(10ms);
                                  sink.fail("w.one", "gave up at the deadline");
                                },
                                10s)},
                            probe::Deadline::in(300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms);
  EXPECT_EQ(run.results[0].status, CheckStatus::fail);
}

TEST(CheckRunnerTest, AnExceptionFailsTheCurrentCheckUnlessOneAlreadyFailed) {
  CheckRun run = run_probes({probe("throws",
                                   {{"x.one", "x", CheckSeverity::required, ""},
                                    {"x.two", "x", CheckSeverity::required, ""}},
                                   [](probe::Deadline, CheckSink& sink) {
                                     sink.pass("x.one", "ok");
                                     throw std::runtime_error("connection reset");
                                   }),
                             probe("fails then throws",
                                   {{"y.one", "y", CheckSeverity::required, ""},
                                    {"y.two", "y", CheckSeverity::required, ""}},
                                   [](probe::Deadline, CheckSink& sink) {
                                     sink.fail("y.one", "refused");
                                     throw std::runtime_error("refused");
                                   })},
                            probe::Deadline::in(5s));
  EXPECT_EQ(find(run, "x.two")->status, CheckStatus::fail);
  EXPECT_EQ(find(run, "x.two")->detail, "connection reset");
  EXPECT_EQ(find(run, "y.two")->status, CheckStatus::skipped);
  EXPECT_EQ(find(run, "y.two")->detail, "skipped because y.one failed");
}

TEST(CheckRunnerTest, WarningChecksNeverFail) {
  CheckRun run = run_probes({probe("warn",
                                   {{"w.req", "w", CheckSeverity::required, ""},
                                    {"w.opt", "w", CheckSeverity::warning, "optional"}},
                                   [](probe::Deadline, CheckSink& sink) {
                                     sink.warn("w.req", "close to the limit");
                                     sink.fail("w.opt", "blocked");
                                   })},
                            probe::Deadline::in(5s));
  EXPECT_EQ(find(run, "w.req")->status, CheckStatus::warn);
  EXPECT_EQ(find(run, "w.opt")->status, CheckStatus::warn);
  EXPECT_EQ(find(run, "w.opt")->hint, "optional");
  EXPECT_TRUE(all_required_pass(run.results));
}

TEST(CheckRunnerTest, ExplicitSkipsAndReportingTwice) {
  CheckRun run = run_probes({probe("skip",
                                   {{"s.one", "s", CheckSeverity::required, ""},
                                    {"s.two", "s", CheckSeverity::required, ""}},
                                   [](probe::Deadline, CheckSink& sink) {
                                     sink.pass("s.one", "first");
                                     sink.fail("s.one", "second report is ignored");
                                     sink.skip_rest("relay mode has no IMAP");
                                   })},
                            probe::Deadline::in(5s));
  EXPECT_EQ(find(run, "s.one")->detail, "first");
  EXPECT_EQ(find(run, "s.two")->detail, "skipped because relay mode has no IMAP");
}

}  // namespace
}  // namespace firstboot
