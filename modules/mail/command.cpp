#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "engine/error.h"

namespace firstboot {

namespace {

constexpr std::size_t kMaxOutput = 256 * 1024;

// forkpty opens both ends of the terminal in this process before it forks: a command forked
// meanwhile from another thread would inherit them and keep this terminal open until it exits.
std::mutex fork_mutex;

int wait_exit(pid_t pid, bool block) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return -2;  // still running
  if (r < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

}  // namespace

CommandResult SystemCommandRunner::run(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) {
  CommandResult result;
  if (argv.empty()) throw Error("internal: empty command");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  struct termios raw {};
  cfmakeraw(&raw);
  int master_fd = -1;
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(fork_mutex);
    pid = forkpty(&master_fd, nullptr, &raw, nullptr);
    if (pid > 0) fcntl(master_fd, F_SETFD, FD_CLOEXEC);
  }
  if (pid < 0) throw Error("running " + argv[0] + ": " + errno_text(errno));
  if (pid == 0) {
    close_range(3, ~0U, 0);  // nothing of ours leaks into the checker
    execv(args[0], args.data());
    dprintf(STDERR_FILENO, "cannot execute %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    struct pollfd pfd {
      master_fd, POLLIN, 0
    };
    int n = poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 200)));
    if (n < 0 && errno != EINTR) break;
    if (n > 0) {
      ssize_t got = read(master_fd, buf, sizeof buf);
      if (got > 0) {
        if (result.output.size() < kMaxOutput) result.output.append(buf, static_cast<size_t>(got));
        continue;
      }
      break;  // EIO: the child closed the terminal (exited)
    }
  }
  close(master_fd);
  int code = wait_exit(pid, true);
  result.exit_code = result.timed_out ? -1 : code;
  // Terminal line endings.
  std::string clean;
  clean.reserve(result.output.size());
  for (char c : result.output)
    if (c != '\r') clean.push_back(c);
  result.output = std::move(clean);
  return result;
}

std::string last_lines(const std::string& output, std::size_t count) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < output.size()) {
    std::size_t end = output.find('\n', pos);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(pos, end - pos);
    auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos) lines.push_back(line.substr(first));
    pos = end + 1;
  }
  std::string out;
  std::size_t start = lines.size() > count ? lines.size() - count : 0;
  for (std::size_t i = start; i < lines.size(); ++i) out += (out.empty() ? "" : "; ") + lines[i];
  return out;
}

}  // namespace firstboot
