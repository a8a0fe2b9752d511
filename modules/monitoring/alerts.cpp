#include "alerts.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "probe/smtp.h"

namespace firstboot {

namespace {

using namespace std::chrono_literals;

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

// Runs argv with input on stdin; bounded by timeout. Returns "" on exit 0.
std::string run_with_input(const std::vector<std::string>& argv, const std::string& input,
                           std::chrono::milliseconds timeout) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in[0]);
    ::close(in[1]);
    return "fork failed";
  }
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t done = 0;
  std::string error;
  while (done < input.size()) {
    ssize_t n = ::write(in[1], input.data() + done, input.size() - done);
    if (n <= 0) {
      error = "writing to " + argv[0] + " failed";
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(in[1]);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return argv[0] + " timed out";
    }
    ::usleep(10000);
  }
  if (!error.empty()) return error;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
  return "";
}

}  // namespace

std::string rfc5322_date_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string alert_message(const MonitorConfig& config, const std::vector<StateChange>& changes,
                          const std::vector<CheckResult>& all, bool ready,
                          const std::string& date_rfc5322, const std::string& message_id) {
  std::vector<std::string> failing;
  for (auto& c : all)
    if (c.status == CheckStatus::fail) failing.push_back(c.id);
  std::string subject;
  if (ready) {
    std::size_t recovered = 0;
    for (auto& ch : changes) recovered += ch.now.status == CheckStatus::pass ? 1 : 0;
    subject = recovered > 0 ? "ready again: " + std::to_string(recovered) + " check(s) recovered"
                            : "ready, " + std::to_string(changes.size()) + " check(s) changed";
  } else {
    subject = "NOT READY: " + std::to_string(failing.size()) + " check(s) failing";
    std::string names;
    for (std::size_t i = 0; i < failing.size() && i < 3; ++i)
      names += (i ? ", " : " (") + failing[i];
    if (!names.empty()) subject += names + (failing.size() > 3 ? ", ...)" : ")");
  }
  std::string from = "firstboot@" + config.hostname;
  std::string m;
  m += "From: firstboot on " + config.hostname + " <" + from + ">\r\n";
  m += "To: <" + config.alert_to + ">\r\n";
  m += "Subject: [firstboot] " + config.hostname + ": " + one_line(subject) + "\r\n";
  m += "Date: " + date_rfc5322 + "\r\n";
  m += "Message-ID: <" + message_id + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-Firstboot-Alert: " + std::string(ready ? "ready" : "not-ready") + "\r\n";
  m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "Changes since the last check on " + config.hostname + ":\r\n\r\n";
  for (auto& ch : changes) {
    m += "  " + std::string(to_string(ch.now.status)) + " (was " + ch.was + ")  " + ch.now.id +
         "\r\n      " + one_line(ch.now.detail) + "\r\n";
    if (ch.now.status != CheckStatus::pass && !ch.now.hint.empty())
      m += "      hint: " + one_line(ch.now.hint) + "\r\n";
  }
  m += "\r\n";
  if (ready) {
    m += "Every required check passes.\r\n";
  } else {
    m += "Required checks failing now:\r\n";
    for (auto& c : all)
      if (c.status == CheckStatus::fail) m += "  " + c.id + ": " + one_line(c.detail) + "\r\n";
  }
  m += "\r\nRun `firstboot status` on the server for the full report.\r\n";
  return m;
}

std::string send_alert(const MonitorConfig& config, const std::string& message) {
  std::string smtp_error;
  try {
    auto deadline = probe::Deadline::in(10s);
    auto smtp =
        probe::SmtpClient::connect({config.listen_address, config.ports.smtp, ""}, deadline);
    if (smtp.greeting().code != 220)
      throw probe::ProbeError(probe::ProbeError::Kind::protocol,
                              "greeting " + smtp.greeting().summary());
    auto ehlo = smtp.ehlo(config.hostname, deadline);
    if (ehlo.code != 250)
      throw probe::ProbeError(probe::ProbeError::Kind::protocol, "EHLO " + ehlo.summary());
    // The null sender: a bounce of an alert must never produce another message.
    auto reply = smtp.send("", {config.alert_to}, message, deadline);
    smtp.quit(deadline);
    if (reply.code == 250) return "";
    smtp_error = "the MTA answered " + reply.summary();
  } catch (const std::exception& e) {
    smtp_error = e.what();
  }
  // Postfix's sendmail queues through postdrop even while the SMTP listener is down.
  std::error_code ec;
  const std::string sendmail = "/usr/sbin/sendmail";
  if (std::filesystem::exists(sendmail, ec) &&
      std::filesystem::exists(std::filesystem::path(config.postfix_config_dir) / "main.cf", ec)) {
    std::string err = run_with_input(
        {sendmail, "-C", config.postfix_config_dir, "-i", "-f", "", "--", config.alert_to}, message,
        15s);
    if (err.empty()) return "";
    return "SMTP: " + smtp_error + "; sendmail: " + err;
  }
  return "SMTP: " + smtp_error;
}

}  // namespace firstboot
