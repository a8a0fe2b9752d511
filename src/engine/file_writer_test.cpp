#include "engine/file_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "engine/error.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST(FileWriter, CreatesWithModeAndReportsUnchangedOnSecondWrite) {
  ScratchDir dir;
  FileWriter w(dir / "backup", "run1", false);
  auto file = dir / "etc/x/main.cf";
  EXPECT_EQ(w.write(file, "a = 1\n", {0640, "", ""}), FileChange::created);
  EXPECT_EQ(read_file(file), "a = 1\n");
  EXPECT_EQ(mode_of(file), 0640u);
  auto mtime = fs::last_write_time(file);
  EXPECT_EQ(w.write(file, "a = 1\n", {0640, "", ""}), FileChange::unchanged);
  EXPECT_EQ(fs::last_write_time(file), mtime);
  EXPECT_EQ(w.changed_count(), 1u);
}

TEST(FileWriter, BacksUpReplacedFileAndShowsDiff) {
  ScratchDir dir;
  auto file = dir / "main.cf";
  {
    FileWriter first(dir / "backup", "run1", false);
    first.write(file, "a = 1\nb = 2\n", {0644, "", ""});
  }
  FileWriter w(dir / "backup", "run2", false);
  EXPECT_EQ(w.write(file, "a = 1\nb = 3\n", {0644, "", ""}), FileChange::updated);
  fs::path backup = dir / "backup" / "run2" / file.relative_path();
  ASSERT_TRUE(fs::exists(backup));
  EXPECT_EQ(read_file(backup), "a = 1\nb = 2\n");
  ASSERT_EQ(w.events().size(), 1u);
  EXPECT_NE(w.events()[0].diff.find("- b = 2"), std::string::npos);
  EXPECT_NE(w.events()[0].diff.find("+ b = 3"), std::string::npos);
}

TEST(FileWriter, ModeChangeAloneIsCorrected) {
  ScratchDir dir;
  auto file = dir / "key";
  FileWriter w(dir / "backup", "run1", false);
  w.write(file, "secret", {0644, "", ""}, true);
  EXPECT_EQ(w.write(file, "secret", {0600, "", ""}, true), FileChange::updated);
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(FileWriter, DryRunTouchesNothingButRecords) {
  ScratchDir dir;
  FileWriter w(dir / "backup", "run1", true);
  auto file = dir / "a/b/c.conf";
  EXPECT_EQ(w.write(file, "x\n", {0644, "", ""}), FileChange::created);
  EXPECT_EQ(w.ensure_directory(dir / "d", {0755, "", ""}), FileChange::created);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(dir / "d"));
  EXPECT_FALSE(fs::exists(dir / "backup"));
  EXPECT_EQ(w.changed_count(), 2u);
}

TEST(FileWriter, CreateOnceNeverRegenerates) {
  ScratchDir dir;
  FileWriter w(dir / "backup", "run1", false);
  int calls = 0;
  auto gen = [&] { return "key" + std::to_string(++calls); };
  EXPECT_EQ(w.create_once(dir / "k.pem", gen, {0600, "", ""}), FileChange::created);
  EXPECT_EQ(w.create_once(dir / "k.pem", gen, {0600, "", ""}), FileChange::unchanged);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(read_file(dir / "k.pem"), "key1");
  EXPECT_TRUE(w.events()[0].diff.empty());  // secrets never shown
}

TEST(FileWriter, RollbackRestoresPreviousContentAndRemovesNewFiles) {
  ScratchDir dir;
  auto kept = dir / "kept.cf";
  auto added = dir / "added.cf";
  {
    FileWriter w0(dir / "backup", "run0", false);
    w0.write(kept, "old\n", {0640, "", ""});
  }
  FileWriter w(dir / "backup", "run1", false);
  auto cp = w.checkpoint();
  w.write(kept, "new\n", {0644, "", ""});
  w.write(added, "x\n", {0644, "", ""});
  w.rollback_to(cp);
  EXPECT_EQ(read_file(kept), "old\n");
  EXPECT_EQ(mode_of(kept), 0640u);
  EXPECT_FALSE(fs::exists(added));
  EXPECT_EQ(w.changed_count(), 0u);
}

TEST(FileWriter, FirstChangeHookRunsOnceAndNotForUnchangedFiles) {
  ScratchDir dir;
  auto file = dir / "f";
  {
    FileWriter w0(dir / "backup", "run0", false);
    w0.write(file, "same", {0644, "", ""});
  }
  FileWriter w(dir / "backup", "run1", false);
  int hooks = 0;
  w.on_first_change([&] { ++hooks; });
  w.write(file, "same", {0644, "", ""});
  EXPECT_EQ(hooks, 0);
  w.write(dir / "g", "1", {0644, "", ""});
  w.write(dir / "h", "1", {0644, "", ""});
  EXPECT_EQ(hooks, 1);
}

TEST(FileWriter, NoTemporaryFilesLeftBehind) {
  ScratchDir dir;
  FileWriter w(dir / "backup", "run1", false);
  for (int i = 0; i < 5; ++i) w.write(dir / "f", "v" + std::to_string(i), {0644, "", ""});
  for (auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(FileWriter, UnknownOwnerIsAClearError) {
  if (geteuid() != 0) GTEST_SKIP() << "owners are only set as root";
  ScratchDir dir;
  FileWriter w(dir / "backup", "run1", false);
  try {
    w.write(dir / "f", "x", {0644, "no-such-user-fb", ""});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown user 'no-such-user-fb'"), std::string::npos);
  }
}

}  // namespace
}  // namespace firstboot
