#include "seed/seed_discovery.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/test_support.h"
#include "profile/profile_loader.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

const char* kProfile =
    "hostname: mail.example.com\n"
    "admin_email: admin@example.com\n"
    "mode: full\n"
    "domains:\n"
    "  - name: example.com\n";

class SeedDiscoveryTest : public ::testing::Test {
 protected:
  testing::ScratchDir scratch;
  Layout layout = Layout::offline(scratch.path());

  void put(const std::string& system_path, const std::string& text) {
    fs::path p = layout.map(system_path);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void link(const std::string& system_path, const std::string& target) {
    fs::path p = layout.map(system_path);
    fs::create_directories(p.parent_path());
    fs::create_symlink(target, p);
  }
  std::string cloud_config(const std::string& marker) {
    return "#cloud-config\npackages: [vim]\nfirstboot:\n  hostname: " + marker +
           ".example.com\n  mode: full\nruncmd: [true]\n";
  }
  std::string found_label() {
    auto r = find_seed(layout);
    return r.seed ? r.seed->label : "none";
  }
};

TEST_F(SeedDiscoveryTest, NothingFoundListsEveryPlace) {
  auto r = find_seed(layout);
  EXPECT_FALSE(r.seed);
  std::string all;
  for (const auto& l : r.looked_at) all += l + "\n";
  for (const char* place :
       {"/boot/firmware/firstboot/profile.yaml: not found", "/boot/efi/firstboot/profile.yaml",
        "/boot/firstboot/profile.yaml", "/dev/disk/by-label/CIDATA: no such filesystem",
        "/var/lib/cloud/seed/nocloud/user-data: not found",
        "/var/lib/cloud/instance/user-data.txt: not found", "/etc/cloud/cloud.cfg.d/*.cfg"})
    EXPECT_NE(all.find(place), std::string::npos) << place << "\n" << all;
}

TEST_F(SeedDiscoveryTest, BootPartitionsInOrderThenCloud) {
  put("/etc/cloud/cloud.cfg.d/90-firstboot.cfg", cloud_config("cfgd"));
  EXPECT_EQ(found_label(), "/etc/cloud/cloud.cfg.d/90-firstboot.cfg (firstboot:)");
  put("/var/lib/cloud/instance/user-data.txt", cloud_config("instance"));
  EXPECT_EQ(found_label(), "/var/lib/cloud/instance/user-data.txt (firstboot:)");
  put("/var/lib/cloud/seed/nocloud-net/user-data", cloud_config("nocloud"));
  EXPECT_EQ(found_label(), "/var/lib/cloud/seed/nocloud-net/user-data (firstboot:)");
  put("/media/cidata/user-data", cloud_config("cidata"));
  link("/dev/disk/by-label/CIDATA", "../../sr0");
  put("/dev/sr0", "");
  put("/proc/self/mountinfo",
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "40 22 11:0 / /media/cidata ro,relatime shared:2 - iso9660 /dev/sr0 ro\n");
  EXPECT_EQ(found_label(), "/media/cidata/user-data (firstboot:)");
  put("/boot/firstboot/profile.yaml", kProfile);
  EXPECT_EQ(found_label(), "/boot/firstboot/profile.yaml");
  put("/boot/efi/firstboot/profile.yaml", kProfile);
  EXPECT_EQ(found_label(), "/boot/efi/firstboot/profile.yaml");
  put("/boot/firmware/firstboot/profile.yaml", kProfile);
  auto r = find_seed(layout);
  ASSERT_TRUE(r.seed);
  EXPECT_EQ(r.seed->label, "/boot/firmware/firstboot/profile.yaml");
  EXPECT_EQ(r.seed->source, SeedSource::boot_partition);
  EXPECT_EQ(r.seed->text, kProfile);
  EXPECT_EQ(r.seed->base_dir, layout.map("/boot/firmware/firstboot"));
}

TEST_F(SeedDiscoveryTest, CloudFilesWithoutAFirstbootKeyAreSkipped) {
  put("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\npackages: [vim]\n");
  put("/var/lib/cloud/instance/user-data.txt", "#!/bin/sh\necho not yaml: [\n");
  put("/etc/cloud/cloud.cfg.d/05-logging.cfg", "output: {all: '| tee -a /var/log/x'}\n");
  put("/etc/cloud/cloud.cfg.d/99-z.cfg", cloud_config("last"));
  put("/etc/cloud/cloud.cfg.d/50-m.cfg", cloud_config("middle"));
  put("/etc/cloud/cloud.cfg.d/50-m.cfg.disabled", cloud_config("disabled"));
  auto r = find_seed(layout);
  ASSERT_TRUE(r.seed);
  EXPECT_EQ(r.seed->label, "/etc/cloud/cloud.cfg.d/50-m.cfg (firstboot:)");
  EXPECT_EQ(r.seed->source, SeedSource::cloud_config);
  std::string all;
  for (const auto& l : r.looked_at) all += l + "\n";
  EXPECT_NE(all.find("/var/lib/cloud/seed/nocloud/user-data: no firstboot: key"), std::string::npos)
      << all;
  EXPECT_NE(all.find("/var/lib/cloud/instance/user-data.txt: not a cloud-config document"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("05-logging.cfg: no firstboot: key"), std::string::npos) << all;
}

TEST_F(SeedDiscoveryTest, UnmountedCidataIsNotMountedOutsideTheRealSystem) {
  link("/dev/disk/by-label/CIDATA", "/dev/sr0");
  put("/dev/sr0", "");
  auto r = find_seed(layout);
  EXPECT_FALSE(r.seed);
  std::string all;
  for (const auto& l : r.looked_at) all += l + "\n";
  EXPECT_NE(all.find("/dev/disk/by-label/CIDATA: filesystem not mounted"), std::string::npos)
      << all;
}

TEST_F(SeedDiscoveryTest, OversizedCloudConfigIsSkipped) {
  put("/etc/cloud/cloud.cfg.d/10-big.cfg", std::string(kMaxProfileBytes + 10, '#'));
  auto r = find_seed(layout);
  EXPECT_FALSE(r.seed);
}

TEST(FirstbootKey, BlockMappingKeepsLinesAndColumns) {
  std::string doc =
      "#cloud-config\n"
      "packages: [vim]\n"
      "firstboot:\n"
      "  hostname: mail.example.com   # comment\n"
      "\n"
      "  mode: full\n"
      "  domains:\n"
      "    - name: example.com\n"
      "runcmd: [true]\n";
  auto text = firstboot_key_text(doc);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "\n\n\n  hostname: mail.example.com   # comment\n\n  mode: full\n  domains:\n"
            "    - name: example.com\n");
  // The loader reads the indented block like any profile, and points into the original lines.
  LoadedProfile loaded = load_profile_text(*text, "user-data", {});
  ASSERT_FALSE(loaded.issues.empty());  // admin_email and users are missing, or similar
  std::string bad = doc;
  bad.replace(bad.find("mode: full"), 10, "mode: fast");
  LoadedProfile refused = load_profile_text(*firstboot_key_text(bad), "user-data", {});
  bool pointed = false;
  for (const auto& issue : refused.issues)
    if (issue.field == "mode") {
      EXPECT_EQ(issue.line, 6);
      EXPECT_EQ(issue.column, 9);
      pointed = true;
    }
  EXPECT_TRUE(pointed);
}

TEST(FirstbootKey, TextBlockFlowStyleAndAbsence) {
  auto block = firstboot_key_text("firstboot: |\n  hostname: a.example.com\n  mode: relay\n");
  ASSERT_TRUE(block);
  EXPECT_EQ(*block, "\nhostname: a.example.com\nmode: relay\n");
  auto flow = firstboot_key_text("a: 1\nfirstboot: {hostname: b.example.com, mode: full}\n");
  ASSERT_TRUE(flow);
  EXPECT_NE(flow->find("hostname: b.example.com"), std::string::npos) << *flow;
  EXPECT_FALSE(firstboot_key_text("a: 1\n"));
  EXPECT_FALSE(firstboot_key_text("- a\n- b\n"));
  EXPECT_FALSE(firstboot_key_text("firstboot:\n"));
  EXPECT_THROW(firstboot_key_text("firstboot: [1, 2]\n"), std::exception);
  EXPECT_THROW(firstboot_key_text("a: [\n"), std::exception);
}

}  // namespace
}  // namespace firstboot
