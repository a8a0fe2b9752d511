// `firstboot wizard` and `firstboot run` without --profile (seed discovery). See docs/wizard.md
// and docs/unattended.md.
#pragma once

#include <string>

#include "commands.h"

namespace firstboot::cli {

struct WizardCommand {
  std::string output;  // --output FILE: write the profile there (0600) and apply nothing
  TargetOptions target;
};

// The console wizard. Without --output it writes /etc/firstboot/profile.yaml (through the
// layout) and applies it with run(), showing progress and ending on the readiness report.
// Exit: run()'s code after applying, 0 after writing, 2 when quit (nothing written) or when no
// terminal is attached.
int wizard(const WizardCommand& cmd);

// What firstboot.service runs: finds the profile (boot partition, then cloud user-data), keeps a
// copy with only hashes in /etc/firstboot/profile.yaml and applies it with run(); after success
// the clear-text secrets on the boot partition are wiped. No seed: the wizard when a console is
// attached, otherwise a message on stderr, the console and the journal, and exit 2 at once.
int run_from_seed(const RunCommand& cmd);

}  // namespace firstboot::cli
