#include "check_state.h"

#include <gtest/gtest.h>

#include "engine/file_writer.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

CheckResult result(const std::string& id, CheckStatus status) {
  CheckResult r = make_check(id, "mail");
  r.status = status;
  r.detail = "detail of " + id;
  return r;
}

TEST(CheckStateTest, ChangesAreTransitionsNotStates) {
  MonitorState state;
  // First run: everything counts as having passed before; only failures are changes.
  auto first =
      state_changes(state, {result("a", CheckStatus::pass), result("b", CheckStatus::fail)});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].now.id, "b");
  EXPECT_EQ(first[0].was, "pass");
  remember_checks(state, {result("a", CheckStatus::pass), result("b", CheckStatus::fail)}, "t1");
  // Same states again: no change, no alert.
  EXPECT_TRUE(state_changes(state, {result("a", CheckStatus::pass), result("b", CheckStatus::fail)})
                  .empty());
  // b recovers, a breaks.
  auto second =
      state_changes(state, {result("a", CheckStatus::fail), result("b", CheckStatus::pass)});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[1].was, "fail");
}

TEST(CheckStateTest, SkippedChecksKeepTheirState) {
  MonitorState state;
  remember_checks(state, {result("imap.login", CheckStatus::fail)}, "t1");
  EXPECT_TRUE(state_changes(state, {result("imap.login", CheckStatus::skipped)}).empty());
  remember_checks(state, {result("imap.login", CheckStatus::skipped)}, "t2");
  EXPECT_EQ(state.checks["imap.login"].status, "fail");
  EXPECT_EQ(state.checks["imap.login"].since, "t1");
}

TEST(CheckStateTest, SinceMovesOnlyOnChange) {
  MonitorState state;
  remember_checks(state, {result("a", CheckStatus::fail)}, "t1");
  remember_checks(state, {result("a", CheckStatus::fail)}, "t2");
  EXPECT_EQ(state.checks["a"].since, "t1");
  remember_checks(state, {result("a", CheckStatus::pass)}, "t3");
  EXPECT_EQ(state.checks["a"].since, "t3");
  EXPECT_EQ(state.last_run_at, "t3");
}

TEST(CheckStateTest, QueueGrowth) {
  EXPECT_FALSE(queue_growing({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_TRUE(queue_growing({{1, 1}, {2, 2}, {3, 3}, {4, 4}}));
  EXPECT_FALSE(queue_growing({{1, 1}, {2, 2}, {3, 2}, {4, 4}}));
}

TEST(CheckStateTest, SavesLoadsAndSetsACorruptFileAside) {
  firstboot::testing::ScratchDir dir;
  MonitorState state;
  remember_checks(state, {result("a", CheckStatus::warn)}, "t1");
  state.deliveries.by_domain["example.com"]["sent"] = 3;
  state.deliveries.inode = 42;
  state.deliveries.offset = 1000;
  state.queue_history.push_back({100, 2});
  state.pending_alerts.push_back("Subject: x\r\n\r\nbody\r\n");
  save_monitor_state(dir.path(), state);
  MonitorState back = load_monitor_state(dir.path());
  EXPECT_EQ(back.checks["a"].status, "warn");
  EXPECT_EQ(back.deliveries.by_domain["example.com"]["sent"], 3u);
  EXPECT_EQ(back.deliveries.offset, 1000u);
  EXPECT_EQ(back.queue_history.size(), 1u);
  EXPECT_EQ(back.pending_alerts, state.pending_alerts);

  write_file_atomic(dir / "state.json", "{not json", 0600);
  MonitorState empty = load_monitor_state(dir.path());
  EXPECT_TRUE(empty.checks.empty());
  EXPECT_TRUE(std::filesystem::exists(dir / "state.json.corrupt"));
}

}  // namespace
}  // namespace firstboot
