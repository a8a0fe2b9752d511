// The wizard's questions, defaults, checks and the profile they make: pure logic over a WizardUi.
//
// Steps: host name, mode, domains, admin account, further users (local/full), relay settings
// (relay), TLS source, DNS serving, summary (with the DNS records to create) -> accept or quit.
// Every answer is checked with the profile validators; a refused answer is asked again with the
// reason in the dialog. Before the summary the assembled YAML goes through the real profile
// loader; an issue it finds sends the person back to the question that owns the field.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "profile/profile_loader.h"
#include "wizard/dns_preview.h"
#include "wizard/profile_draft.h"
#include "wizard/wizard_ui.h"

namespace firstboot::wizard {

struct WizardOptions {
  std::string default_hostname;     // from the machine
  std::string profile_file;         // where the profile will be written (shown in the summary)
  std::string relay_password_file;  // where the relay password will be written (0600)
  std::string accept_label = "Apply";
  std::string accept_explained;  // one line under the summary: what accepting does
  // The profile loader on the assembled YAML (load_profile_text with the modules' checks).
  std::function<LoadedProfile(const std::string& yaml)> check_profile;
  DnsRecordsFormatter dns_records = derived_dns_record_names;
  // Hashes a password the moment it is typed (hash_password).
  std::function<std::string(const std::string& password)> hash_password;
  // The first lines of the written file, as comments.
  std::vector<std::string> header;
};

struct WizardResult {
  std::string yaml;          // accepted by check_profile
  Profile profile;           // what check_profile made of it
  std::string relay_secret;  // relay mode: the password for relay_password_file; wipe() it
};

// Runs the dialog to the end. nullopt when the person quit (nothing must be written then).
std::optional<WizardResult> run_wizard(WizardUi& ui, const WizardOptions& options);

// The screen ids in order, for docs and tests: hostname, mode, domains, admin, users, user,
// relay, tls, tls-acme, tls-provided, dns, summary.

}  // namespace firstboot::wizard
