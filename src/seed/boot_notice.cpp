#include "seed/boot_notice.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace firstboot {

bool is_journal_stream(int fd, const char* journal_stream) {
  if (!journal_stream || !*journal_stream) return false;
  std::string text = journal_stream;
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  char* end = nullptr;
  unsigned long long dev = std::strtoull(text.c_str(), &end, 10);
  if (end != text.c_str() + colon) return false;
  unsigned long long ino = std::strtoull(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0') return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

NoticeSinks notice_sinks(Target target, bool stderr_is_tty, bool stderr_is_journal) {
  NoticeSinks sinks;
  if (target != Target::system) return sinks;
  sinks.journal = !stderr_is_journal;
  sinks.console = !stderr_is_tty;
  return sinks;
}

void announce(const Layout& layout, const std::string& message) {
  std::cerr << message << std::flush;
  NoticeSinks sinks = notice_sinks(layout.target(), isatty(STDERR_FILENO) == 1,
                                   is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM")));
  if (sinks.journal)
    sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%i", LOG_ERR,
                    "SYSLOG_IDENTIFIER=firstboot", nullptr);
  if (!sinks.console) return;
  int fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, message.data(), message.size());
  (void)ignored;
  ::close(fd);
}

}  // namespace firstboot
