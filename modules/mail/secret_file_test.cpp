#include "secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "command.h"
#include "engine/error.h"
#include "engine/layout.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

namespace fs = std::filesystem;

TEST(SecretFile, ReadStripsTheNewline) {
  testing::ScratchDir dir;
  std::ofstream(dir / "pw") << "secret pass\n";
  EXPECT_EQ(read_secret_file(dir / "pw"), "secret pass");
  EXPECT_EQ(read_secret_file(dir / "missing"), std::nullopt);
  std::ofstream(dir / "big") << std::string(kMaxSecretBytes + 1, 'x');
  EXPECT_THROW(read_secret_file(dir / "big"), Error);
}

TEST(SecretFile, WipeRemoves) {
  testing::ScratchDir dir;
  std::ofstream(dir / "pw") << "secret";
  EXPECT_EQ(read_only_reason(dir / "pw"), "");
  wipe_secret_file(dir / "pw");
  EXPECT_FALSE(fs::exists(dir / "pw"));
}

TEST(SecretFile, FixturesAndReadOnlyFilesStay) {
  testing::ScratchDir dir;
  std::ofstream(dir / "ro") << "secret";
  ::chmod((dir / "ro").c_str(), 0400);
  EXPECT_NE(read_only_reason(dir / "ro"), "");
  EXPECT_NE(read_only_reason(data_dir() / "profiles" / "secrets" / "bob.secret"), "");
}

TEST(Command, RunsAndCapturesTerminalOutput) {
  SystemCommandRunner runner;
  CommandResult ok =
      runner.run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(5));
  EXPECT_EQ(ok.exit_code, 3);
  EXPECT_NE(ok.output.find("out\n"), std::string::npos);
  EXPECT_NE(ok.output.find("err"), std::string::npos);
  CommandResult slow = runner.run({"/bin/sleep", "5"}, std::chrono::milliseconds(200));
  EXPECT_TRUE(slow.timed_out);
  CommandResult missing = runner.run({"/nonexistent/x"}, std::chrono::seconds(5));
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(last_lines("a\n\n  b\nc\n", 2), "b; c");
}

}  // namespace
}  // namespace firstboot
