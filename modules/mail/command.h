// Running a daemon's own config checker (postfix check, doveconf -n, opendkim -n): bounded in
// time, output captured. Behind an interface so unit tests can answer for the daemons.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace firstboot {

struct CommandResult {
  int exit_code = -1;  // -1: did not run or was killed at the deadline
  std::string output;  // stdout and stderr, interleaved
  bool timed_out = false;
  double ms = 0;  // wall time, filled in by callers that measure it
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv (argv[0] an absolute path) and waits at most timeout.
  virtual CommandResult run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) = 0;
};

// Runs commands for real. Output goes through a pseudo-terminal: Postfix's commands print their
// fatal errors to stderr only when it is a terminal (otherwise only to syslog / maillog_file,
// which nothing reads before Postfix runs).
class SystemCommandRunner : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout) override;
};

// The last non-empty lines of a command's output, joined with "; " (for one-line messages).
std::string last_lines(const std::string& output, std::size_t count);

}  // namespace firstboot
