// Telling whoever watches an unattended boot that firstboot cannot go on (no profile, a bad
// seed): stderr, and on the real system also the console and the journal, never a prompt.
#pragma once

#include <string>

#include "engine/layout.h"

namespace firstboot {

// Whether fd is the stream systemd connected to the journal: $JOURNAL_STREAM ("DEVICE:INODE",
// set by systemd for a service whose stdout or stderr goes to the journal) names that file.
bool is_journal_stream(int fd, const char* journal_stream);

struct NoticeSinks {
  bool journal = false;  // sd_journal_send, besides stderr
  bool console = false;  // /dev/console, besides stderr
};

// Where a boot message goes besides stderr. Only the real system has a console and a journal to
// speak of; stderr already in the journal (a service) needs no second journal entry, stderr on a
// terminal (someone at the console) no second console line. A console line is written even when
// the service's stderr may also reach the console (StandardError=journal+console): a line twice is
// better than none.
NoticeSinks notice_sinks(Target target, bool stderr_is_tty, bool stderr_is_journal);

// Writes message to stderr and to the sinks above. The console is opened non-blocking: a
// console nobody reads never holds up the boot.
void announce(const Layout& layout, const std::string& message);

}  // namespace firstboot
