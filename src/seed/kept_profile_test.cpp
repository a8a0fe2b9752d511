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
  ASSERT_EQ(kept.files.size(), 1u);
  EXPECT_EQ(kept.files[0].content, "relay-secret\n");
  EXPECT_EQ(kept.files[0].path, layout.map("/etc/firstboot/relay.secret"));
  EXPECT_EQ(kept.files[0].mode, 0600u);
  EXPECT_EQ(kept.yaml.find("relay-secret"), std::string::npos);
  EXPECT_EQ(kept.yaml.find("alice-secret"), std::string::npos);
  ASSERT_EQ(kept.secret_files.size(), 3u);
  EXPECT_EQ(kept.secret_files[0], layout.map("/boot/firmware/firstboot/alice.pw"));
  EXPECT_EQ(kept.secret_files[1], layout.map("/root/bob.pw"));
  EXPECT_EQ(kept.secret_files[2], layout.map("/boot/firmware/firstboot/relay.secret"));
}

TEST_F(KeptProfileTest, FilesReadAgainLaterAreCopiedOffTheBootPartitionOrMadeAbsolute) {
  put("/boot/firmware/firstboot/cert.pem", "CERT");
  put("/boot/firmware/firstboot/key.pem", "KEY");
  put("/boot/firmware/firstboot/db.pw", "db-secret\n");
  Seed seed = boot_seed(
      "hostname: mail.example.com\n"
      "tls:\n"
      "  source: provided\n"
      "  cert: cert.pem\n"
      "  key: /boot/firmware/firstboot/key.pem\n"
      "database: postgresql://mail@db.example.com/mail\n"
      "database_password_file: db.pw\n");
  KeptProfile kept = make_kept_profile(seed, layout, fake_hash);
  YAML::Node doc = YAML::Load(kept.yaml);
  EXPECT_EQ(doc["tls"]["cert"].as<std::string>(),
            layout.map("/etc/firstboot/provided/fullchain.pem").string());
  EXPECT_EQ(doc["tls"]["key"].as<std::string>(),
            layout.map("/etc/firstboot/provided/privkey.pem").string());
  EXPECT_EQ(doc["database_password_file"].as<std::string>(),
            layout.map("/etc/firstboot/database.secret").string());
  EXPECT_EQ(kept.yaml.find("db-secret"), std::string::npos);
  ASSERT_EQ(kept.files.size(), 3u);
  EXPECT_EQ(kept.files[0].content, "CERT");
  EXPECT_EQ(kept.files[0].mode, 0644u);
  EXPECT_EQ(kept.files[1].content, "KEY");
  EXPECT_EQ(kept.files[1].mode, 0600u);
  EXPECT_EQ(kept.files[2].content, "db-secret\n");
  EXPECT_EQ(kept.files[2].mode, 0600u);
  // The key and the password are secrets to wipe from the boot partition; the certificate not.
  ASSERT_EQ(kept.secret_files.size(), 2u);
  EXPECT_EQ(kept.secret_files[0], layout.map("/boot/firmware/firstboot/key.pem"));
  EXPECT_EQ(kept.secret_files[1], layout.map("/boot/firmware/firstboot/db.pw"));

  write_kept_files(kept);
  EXPECT_EQ(read_file(layout.map(kKeptTlsKey)), "KEY");
  EXPECT_EQ(read_file(layout.map(kKeptDatabaseSecret)), "db-secret\n");
  EXPECT_TRUE(kept.files[1].content.empty());  // wiped in memory once written
  struct stat st {};
  ASSERT_EQ(stat(layout.map(kKeptTlsKey).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(layout.map(kKeptTlsCert).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(stat(layout.map("/etc/firstboot/provided").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(KeptProfileTest, PathsOffTheBootPartitionStayWhereTheyAreButBecomeAbsolute) {
  put("/etc/cloud/cloud.cfg.d/certs/cert.pem", "CERT");
  put("/etc/ssl/private/mail.key", "KEY");
  fs::path cfg = put("/etc/cloud/cloud.cfg.d/50-firstboot.cfg", "");
  std::string text =
      "hostname: mail.example.com\n"
      "tls: {source: provided, cert: certs/cert.pem, key: /etc/ssl/private/mail.key}\n";
  Seed seed{SeedSource::cloud_config, cfg, "/etc/cloud/cloud.cfg.d/50-firstboot.cfg (firstboot:)",
            text, cfg.parent_path()};
  KeptProfile kept = make_kept_profile(seed, layout, fake_hash);
  YAML::Node doc = YAML::Load(kept.yaml);
  EXPECT_EQ(doc["tls"]["cert"].as<std::string>(),
            layout.map("/etc/cloud/cloud.cfg.d/certs/cert.pem").string());
  EXPECT_EQ(doc["tls"]["key"].as<std::string>(), layout.map("/etc/ssl/private/mail.key").string());
  EXPECT_TRUE(kept.files.empty());
  EXPECT_TRUE(kept.secret_files.empty());
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
