#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"
#include "service/supervisor.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

ServiceSpec unit_spec(const std::string& name, const std::string& unit) {
  ServiceSpec spec;
  spec.name = name;
  spec.systemd_unit = unit;
  spec.argv = {"/bin/false"};  // never run offline
  return spec;
}

TEST(OfflineSupervisor, EnablesByWantsSymlinkOnceAndStartsNothing) {
  testing::ScratchDir dir;
  auto layout = Layout::offline(dir.path());
  auto sup = make_offline_supervisor(layout);
  auto spec = unit_spec("postfix", "postfix.service");
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::restart), ServiceAction::enabled);
  fs::path link = dir.path() / "etc/systemd/system/multi-user.target.wants/postfix.service";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), "/lib/systemd/system/postfix.service");
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::restart), ServiceAction::none);
  auto st = sup->status("postfix");
  EXPECT_FALSE(st.running);
  EXPECT_NE(st.detail.find("offline"), std::string::npos);
  EXPECT_NE(st.detail.find("enabled"), std::string::npos);
  EXPECT_EQ(sup->status_all().size(), 1u);
  sup->stop_all();
  EXPECT_TRUE(fs::is_symlink(link));
}

TEST(OfflineSupervisor, InstanceLinksTheTemplate) {
  testing::ScratchDir dir;
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(
      sup->ensure_running(unit_spec("opendkim-ed25519", "opendkim@ed25519"), ConfigChange::none),
      ServiceAction::enabled);
  fs::path link =
      dir.path() / "etc/systemd/system/multi-user.target.wants/opendkim@ed25519.service";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), "/lib/systemd/system/opendkim@.service");
}

TEST(OfflineSupervisor, UnitDefaultsToTheServiceNameAndBadNamesAreRefused) {
  testing::ScratchDir dir;
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(sup->ensure_running(unit_spec("dovecot", ""), ConfigChange::none),
            ServiceAction::enabled);
  EXPECT_TRUE(
      fs::is_symlink(dir.path() / "etc/systemd/system/multi-user.target.wants/dovecot.service"));
  EXPECT_THROW(sup->ensure_running(unit_spec("x", "../../etc/passwd"), ConfigChange::none), Error);
  EXPECT_THROW(sup->ensure_running(unit_spec("x", "a/b.service"), ConfigChange::none), Error);
}

TEST(OfflineSupervisor, ReplacesALinkThatPointsElsewhere) {
  testing::ScratchDir dir;
  fs::path wants = dir.path() / "etc/systemd/system/multi-user.target.wants";
  fs::create_directories(wants);
  fs::create_symlink("/dev/null", wants / "named.service");
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(sup->ensure_running(unit_spec("named", "named.service"), ConfigChange::none),
            ServiceAction::enabled);
  EXPECT_EQ(fs::read_symlink(wants / "named.service"), "/lib/systemd/system/named.service");
}

TEST(OfflineSupervisor, PlanSaysWouldEnable) {
  testing::ScratchDir dir;
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  auto plan = make_planning_supervisor(*sup);
  auto spec = unit_spec("postfix", "postfix.service");
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::none), ServiceAction::would_enable);
  EXPECT_FALSE(fs::exists(dir.path() / "etc"));
  sup->ensure_running(spec, ConfigChange::none);
  EXPECT_EQ(plan->ensure_running(spec, ConfigChange::none), ServiceAction::none);
}

TEST(ServiceAction, Names) {
  EXPECT_STREQ(to_string(ServiceAction::none), "none");
  EXPECT_STREQ(to_string(ServiceAction::started), "started");
  EXPECT_STREQ(to_string(ServiceAction::restarted), "restarted");
  EXPECT_STREQ(to_string(ServiceAction::reloaded), "reloaded");
  EXPECT_STREQ(to_string(ServiceAction::would_start), "would start");
  EXPECT_STREQ(to_string(ServiceAction::would_restart), "would restart");
  EXPECT_STREQ(to_string(ServiceAction::would_reload), "would reload");
  EXPECT_STREQ(to_string(ServiceAction::enabled), "enabled");
  EXPECT_STREQ(to_string(ServiceAction::would_enable), "would enable");
}

TEST(ReadinessProbe, Describe) {
  EXPECT_EQ(ReadinessProbe::tcp("127.0.0.1", 2525).describe(), "tcp 127.0.0.1:2525");
  EXPECT_EQ(ReadinessProbe::tcp("::1", 1144).describe(), "tcp [::1]:1144");
  EXPECT_EQ(ReadinessProbe::unix_socket("/run/x.sock").describe(), "unix socket /run/x.sock");
}

}  // namespace
}  // namespace firstboot
