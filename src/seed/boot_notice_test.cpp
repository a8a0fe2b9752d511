#include "seed/boot_notice.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace firstboot {
namespace {

TEST(BootNotice, JournalStreamIsRecognizedByDeviceAndInode) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct stat st {};
  ASSERT_EQ(fstat(fds[1], &st), 0);
  std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(is_journal_stream(fds[1], mine.c_str()));
  std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_FALSE(is_journal_stream(fds[1], other.c_str()));
  EXPECT_FALSE(is_journal_stream(fds[1], nullptr));
  EXPECT_FALSE(is_journal_stream(fds[1], ""));
  EXPECT_FALSE(is_journal_stream(fds[1], (mine + "x").c_str()));
  EXPECT_FALSE(is_journal_stream(fds[1], ":1"));
  EXPECT_FALSE(is_journal_stream(-1, mine.c_str()));
  close(fds[0]);
  close(fds[1]);
}

TEST(BootNotice, OnlyTheRealSystemHasAConsoleAndAJournal) {
  for (Target t : {Target::sandbox, Target::offline}) {
    auto sinks = notice_sinks(t, false, false);
    EXPECT_FALSE(sinks.journal);
    EXPECT_FALSE(sinks.console);
  }
  // firstboot.service: stderr is the journal stream (and maybe the console too).
  auto service = notice_sinks(Target::system, false, true);
  EXPECT_FALSE(service.journal);
  EXPECT_TRUE(service.console);
  // A plain redirect (a script, cron): both.
  auto redirected = notice_sinks(Target::system, false, false);
  EXPECT_TRUE(redirected.journal);
  EXPECT_TRUE(redirected.console);
  // Someone at a terminal sees stderr; the journal still records it.
  auto terminal = notice_sinks(Target::system, true, false);
  EXPECT_TRUE(terminal.journal);
  EXPECT_FALSE(terminal.console);
}

}  // namespace
}  // namespace firstboot
