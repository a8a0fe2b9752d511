#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"
#include "service/supervisor.h"
#include "service/systemd_unit.h"

#include <fstream>

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

void put(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

TEST(OfflineSupervisor, ATimerWrittenToEtcIsLinkedIntoTimersTarget) {
  testing::ScratchDir dir;
  put(dir.path() / "etc/systemd/system/firstboot-check.timer",
      "[Unit]\nDescription=checks\n\n[Timer]\nOnBootSec=2min\n\n[Install]\n"
      "WantedBy=timers.target\n");
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  auto spec = unit_spec("firstboot-check.timer", "firstboot-check.timer");
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::restart), ServiceAction::enabled);
  fs::path link = dir.path() / "etc/systemd/system/timers.target.wants/firstboot-check.timer";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), "/etc/systemd/system/firstboot-check.timer");
  EXPECT_FALSE(fs::exists(dir.path() / "etc/systemd/system/multi-user.target.wants"));
  EXPECT_EQ(sup->ensure_running(spec, ConfigChange::restart), ServiceAction::none);
  EXPECT_NE(sup->status("firstboot-check.timer").detail.find("enabled"), std::string::npos);
}

TEST(OfflineSupervisor, WithoutItsFileATimerStillGoesToTimersTarget) {
  testing::ScratchDir dir;
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(sup->ensure_running(unit_spec("t", "fstrim.timer"), ConfigChange::none),
            ServiceAction::enabled);
  EXPECT_EQ(fs::read_symlink(dir.path() / "etc/systemd/system/timers.target.wants/fstrim.timer"),
            "/lib/systemd/system/fstrim.timer");
}

TEST(OfflineSupervisor, APackagedUnitGetsWhatItsInstallSectionSays) {
  testing::ScratchDir dir;
  put(dir.path() / "lib/systemd/system/dovecot.service",
      "[Service]\nExecStart=/usr/sbin/dovecot -F\n[Install]\nWantedBy=multi-user.target\n"
      "Alias=imapd.service\nAlso=dovecot.socket\n");
  put(dir.path() / "lib/systemd/system/dovecot.socket",
      "[Socket]\nListenStream=143\n[Install]\nWantedBy=sockets.target\n");
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(sup->ensure_running(unit_spec("dovecot", "dovecot.service"), ConfigChange::none),
            ServiceAction::enabled);
  fs::path etc = dir.path() / "etc/systemd/system";
  EXPECT_EQ(fs::read_symlink(etc / "multi-user.target.wants/dovecot.service"),
            "/lib/systemd/system/dovecot.service");
  EXPECT_EQ(fs::read_symlink(etc / "imapd.service"), "/lib/systemd/system/dovecot.service");
  EXPECT_EQ(fs::read_symlink(etc / "sockets.target.wants/dovecot.socket"),
            "/lib/systemd/system/dovecot.socket");
  // One link missing again: enabling repairs it.
  fs::remove(etc / "imapd.service");
  EXPECT_EQ(sup->ensure_running(unit_spec("dovecot", "dovecot.service"), ConfigChange::none),
            ServiceAction::enabled);
  EXPECT_TRUE(fs::is_symlink(etc / "imapd.service"));
}

TEST(OfflineSupervisor, AnInstanceIsLinkedByItsTemplatesInstallSection) {
  testing::ScratchDir dir;
  put(dir.path() / "usr/lib/systemd/system/opendkim@.service",
      "[Service]\nExecStart=/usr/sbin/opendkim -f\n[Install]\nRequiredBy=postfix.service\n");
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(
      sup->ensure_running(unit_spec("opendkim-ed25519", "opendkim@ed25519"), ConfigChange::none),
      ServiceAction::enabled);
  EXPECT_EQ(
      fs::read_symlink(dir.path() /
                       "etc/systemd/system/postfix.service.requires/opendkim@ed25519.service"),
      "/usr/lib/systemd/system/opendkim@.service");
}

TEST(OfflineSupervisor, StaticMaskedAndBadInstallSections) {
  testing::ScratchDir dir;
  put(dir.path() / "lib/systemd/system/helper.service", "[Service]\nExecStart=/bin/true\n");
  auto sup = make_offline_supervisor(Layout::offline(dir.path()));
  EXPECT_EQ(sup->ensure_running(unit_spec("helper", "helper.service"), ConfigChange::none),
            ServiceAction::none);
  EXPECT_NE(sup->status("helper").detail.find("static"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "etc"));

  fs::create_directories(dir.path() / "etc/systemd/system");
  fs::create_symlink("/dev/null", dir.path() / "etc/systemd/system/masked.service");
  EXPECT_THROW(sup->ensure_running(unit_spec("masked", "masked.service"), ConfigChange::none),
               Error);

  put(dir.path() / "lib/systemd/system/evil.service", "[Install]\nWantedBy=../../../tmp/x\n");
  EXPECT_THROW(sup->ensure_running(unit_spec("evil", "evil.service"), ConfigChange::none), Error);
  EXPECT_FALSE(fs::exists(dir.path() / "tmp"));
}

TEST(SystemdInstallSection, ParsesLikeSystemd) {
  auto s = systemd::parse_install_section(
      "[Unit]\nWantedBy=not-here.target\n[Install]\n# a comment\n; another\n"
      "WantedBy=multi-user.target graphical.target\nWantedBy = extra.target\n"
      "Alias=a.service \\\n  b.service\nRequiredBy=x.target\nRequiredBy=\n"
      "Also=c.socket\r\n[Service]\nWantedBy=ignored.target\n");
  EXPECT_EQ(s.wanted_by,
            (std::vector<std::string>{"multi-user.target", "graphical.target", "extra.target"}));
  EXPECT_EQ(s.alias, (std::vector<std::string>{"a.service", "b.service"}));
  EXPECT_TRUE(s.required_by.empty());  // reset by the empty assignment
  EXPECT_EQ(s.also, (std::vector<std::string>{"c.socket"}));
  EXPECT_TRUE(systemd::parse_install_section("[Service]\nExecStart=/bin/true\n").empty());
  EXPECT_EQ(systemd::default_install_target("x.timer"), "timers.target");
  EXPECT_EQ(systemd::default_install_target("x.socket"), "sockets.target");
  EXPECT_EQ(systemd::default_install_target("x.service"), "multi-user.target");
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
