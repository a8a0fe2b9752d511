#include "seed/kept_profile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "engine/error.h"
#include "engine/file_writer.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

class KeptProfileTest : public ::testing::Test {
 protected:
  testing::ScratchDir scratch;
  Layout layout = Layout::offline(scratch.path());

  fs::path put(const std::string& system_path, const std::string& text) {
    fs::path p = layout.map(system_path);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  Seed boot_seed(const std::string& text) {
    fs::path file = put("/boot/firmware/firstboot/profile.yaml", text);
    return Seed{SeedSource::boot_partition, file, "/boot/firmware/firstboot/profile.yaml", text,
                file.parent_path()};
  }
  // Not a real hash, but never the password itself.
  static std::string fake_hash(const std::string& password) {
    return "$y$fake$" + std::string(password.rbegin(), password.rend());
  }
};

TEST_F(KeptProfileTest, PasswordFilesBecomeHashesAndTheRelaySecretMovesToEtc) {
  put("/boot/firmware/firstboot/alice.pw", "alice-secret\n");
  put("/root/bob.pw", "bob-secret");
  put("/boot/firmware/firstboot/relay.secret", "relay-secret\n");
  Seed seed = boot_seed(
      "hostname: mail.example.com\n"
      "users:\n"
      "  - address: alice@example.com\n"
      "    password_file: alice.pw\n"
      "  - address: bob@example.com\n"
      "    password_file: /root/bob.pw\n"
      "  - address: carol@example.com\n"
      "    password_hash: \"$y$carol\"\n"
      "relay:\n"
      "  host: smtp.provider.example\n"
      "  username: \"yes\"\n"
      "  password_file: /boot/firmware/firstboot/relay.secret\n");
  KeptProfile kept = make_kept_profile(seed, layout, fake_hash);
  YAML::Node doc = YAML::Load(kept.yaml);
  EXPECT_EQ(doc["users"][0]["password_hash"].as<std::string>(), "$y$fake$terces-ecila");
  EXPECT_FALSE(doc["users"][0]["password_file"]);
  EXPECT_EQ(doc["users"][1]["password_hash"].as<std::string>(), "$y$fake$terces-bob");
  EXPECT_EQ(doc["users"][2]["password_hash"].as<std::string>(), "$y$carol");
  EXPECT_EQ(doc["relay"]["password_file"].as<std::string>(),
            layout.map("/etc/firstboot/relay.secret").string());
  EXPECT_EQ(doc["relay"]["username"].as<std::string>(), "yes");
  EXPECT_NE(doc["relay"]["username"].as<std::string>(), "true");
  EXPECT_EQ(kept.relay_secret, "relay-secret\n");
  EXPECT_EQ(kept.relay_secret_file, layout.map("/etc/firstboot/relay.secret"));
  EXPECT_EQ(kept.yaml.find("relay-secret"), std::string::npos);
  EXPECT_EQ(kept.yaml.find("alice-secret"), std::string::npos);
  ASSERT_EQ(kept.secret_files.size(), 3u);
  EXPECT_EQ(kept.secret_files[0], layout.map("/boot/firmware/firstboot/alice.pw"));
  EXPECT_EQ(kept.secret_files[1], layout.map("/root/bob.pw"));
  EXPECT_EQ(kept.secret_files[2], layout.map("/boot/firmware/firstboot/relay.secret"));
}

TEST_F(KeptProfileTest, AMissingOrEmptyPasswordFileIsAnError) {
  Seed seed = boot_seed("users:\n  - address: a@example.com\n    password_file: gone.pw\n");
  EXPECT_THROW(make_kept_profile(seed, layout, fake_hash), Error);
  put("/boot/firmware/firstboot/empty.pw", "\n");
  Seed empty = boot_seed("users:\n  - address: a@example.com\n    password_file: empty.pw\n");
  EXPECT_THROW(make_kept_profile(empty, layout, fake_hash), Error);
}

TEST_F(KeptProfileTest, OnlySecretsOnTheBootPartitionAreWiped) {
  fs::path on_boot = put("/boot/efi/firstboot/alice.pw", "alice-secret\n");
  fs::path elsewhere = put("/root/bob.pw", "bob-secret\n");
  auto lines = wipe_boot_secrets(layout, {on_boot, elsewhere, layout.map("/boot/gone.pw")});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "wiped " + on_boot.string());
  EXPECT_FALSE(fs::exists(on_boot));
  EXPECT_TRUE(fs::exists(elsewhere));
}

TEST_F(KeptProfileTest, WipeOverwritesBeforeRemoving) {
  fs::path file = put("/boot/x.pw", "secret");
  fs::path hard = layout.map("/boot/x.link");
  fs::create_hard_link(file, hard);  // a second name shows what the first one held at the end
  EXPECT_EQ(wipe_file(file), "");
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(read_file(hard), std::string(6, '\0'));
  EXPECT_NE(wipe_file(layout.map("/boot/none")), "");
}

TEST_F(KeptProfileTest, AnAppliedSeedIsRecognizedUntilItChanges) {
  Seed seed = boot_seed("hostname: mail.example.com\n");
  EXPECT_FALSE(seed_already_applied(layout, seed));
  record_seed_applied(layout, seed);
  EXPECT_FALSE(seed_already_applied(layout, seed));  // no kept copy yet
  put(kKeptProfile, "hostname: mail.example.com\n");
  EXPECT_TRUE(seed_already_applied(layout, seed));
  seed.text += "mode: full\n";
  EXPECT_FALSE(seed_already_applied(layout, seed));
  struct stat st {};
  ASSERT_EQ(stat((layout.state_dir() / "seed.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace firstboot
