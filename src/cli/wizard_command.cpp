#include "wizard_command.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>

#include "crypto/password_hash.h"
#include "dns/dns_records_export.h"
#include "engine/error.h"
#include "engine/file_writer.h"
#include "engine/layout.h"
#include "engine/runner.h"
#include "profile/profile_loader.h"
#include "registry.h"
#include "seed/boot_notice.h"
#include "seed/kept_profile.h"
#include "seed/seed_discovery.h"
#include "wizard/answer_checks.h"
#include "wizard/dns_preview.h"
#include "wizard/machine_facts.h"
#include "wizard/newt_ui.h"
#include "wizard/wizard_flow.h"

namespace firstboot::cli {

namespace fs = std::filesystem;

namespace {

// The records the summary shows: the dns module's own list for this profile and target, as the
// table `firstboot dns-records` prints (DKIM keys and tokens that do not exist yet are noted).
// Should the module fail on a profile, the names derivable from the profile stand in.
std::string dns_records_for_summary(const Profile& profile, const Layout& layout) {
  try {
    return dns::records_table(dns::dns_records_for_profile(profile, layout, nullptr));
  } catch (const std::exception& e) {
    return wizard::derived_dns_record_names(profile) + "\n(the dns module: " + e.what() + ")\n";
  }
}

std::vector<const Module*> views(const std::vector<std::unique_ptr<Module>>& modules) {
  std::vector<const Module*> out;
  for (const auto& m : modules) out.push_back(m.get());
  return out;
}

// A person can answer: stdin and stdout are terminals (the console, a serial line, ssh -t).
bool console_attached() {
  return isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && ttyname(STDIN_FILENO);
}

// newt needs a terminal type; a service on a console may start without one.
void ensure_term() {
  const char* term = std::getenv("TERM");
  if (term && *term && std::string(term) != "dumb") return;
  const char* tty = ttyname(STDIN_FILENO);
  bool vt = tty && std::string(tty).rfind("/dev/tty", 0) == 0 && std::string(tty).size() > 8 &&
            std::isdigit(static_cast<unsigned char>(tty[8]));
  setenv("TERM", vt ? "linux" : "vt220", 1);
}

// Creates the directory holding the profile; a new one is private (0700).
void ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return;
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

// The status table colours its words for a terminal; the dialog shows plain text.
std::string without_colors(const std::string& text) {
  static const std::regex sgr("\x1b\\[[0-9;]*m");
  return std::regex_replace(text, sgr, "");
}

std::string wizard_run_footer(int code, const fs::path& profile) {
  if (code == 0)
    return "\nThe mail server is ready. The profile is kept in " + profile.string() +
           "; `firstboot status` shows this report again.";
  return "\nNot ready yet: the failing checks are listed above. Fix what they name and run\n"
         "`firstboot run --profile " +
         profile.string() + "` again; it resumes where it stopped.";
}

}  // namespace

int wizard(const WizardCommand& cmd) {
  Layout layout = target_layout(cmd.target);
  const bool apply = cmd.output.empty();
  fs::path profile = apply ? layout.map(kKeptProfile) : fs::absolute(cmd.output).lexically_normal();
  fs::path relay_file = profile.parent_path() / "relay.secret";
  if (!console_attached()) {
    std::cerr << "firstboot wizard: needs a terminal on stdin and stdout; for an unattended "
                 "install write a profile by hand (docs/unattended.md)\n";
    return 2;
  }
  ensure_term();
  auto modules = all_modules();

  wizard::WizardOptions options;
  options.default_hostname = wizard::machine_hostname();
  options.profile_file = profile.string();
  options.relay_password_file = relay_file.string();
  options.accept_label = apply ? "Apply" : "Write";
  options.accept_explained =
      apply ? "Apply writes the profile and sets this machine up now (a few seconds to minutes)."
            : "Write saves the profile; apply it later with `firstboot run --profile FILE`.";
  options.check_profile = [&](const std::string& yaml) {
    return load_profile_text(yaml, profile.string(), views(modules));
  };
  options.dns_records = [&layout](const Profile& p) { return dns_records_for_summary(p, layout); };
  options.hash_password = [](const std::string& password) { return hash_password(password); };
  options.header = {"firstboot profile written by `firstboot wizard`.",
                    "Check it with `firstboot check-profile FILE`; see docs/profile.md."};

  wizard::NewtUi ui("firstboot " + engine_version() + " - mail server setup");
  auto result = wizard::run_wizard(ui, options);
  if (!result) {
    ui.close();
    std::cerr << "firstboot wizard: quit; nothing was written\n";
    return 2;
  }

  try {
    ensure_private_dir(profile.parent_path());
    if (result->profile.mode == MailMode::relay)
      write_file_atomic(relay_file, result->relay_secret, 0600);
    wizard::wipe(result->relay_secret);
    write_file_atomic(profile, result->yaml, 0600);
  } catch (const std::exception& e) {
    wizard::wipe(result->relay_secret);
    ui.close();
    std::cerr << "firstboot wizard: writing " << profile.string() << ": " << e.what() << "\n";
    return 1;
  }

  if (!apply) {
    ui.close();
    std::cout << "firstboot wizard: wrote " << profile.string() << " (0600)";
    if (result->profile.mode == MailMode::relay)
      std::cout << " and " << relay_file.string() << " (0600)";
    std::cout << "\n  check it: firstboot check-profile " << profile.string()
              << "\n  apply it: firstboot run --profile " << profile.string() << "\n";
    return 0;
  }

  // Apply through the same code as `firstboot run`; its console output becomes the report.
  RunCommand run_cmd;
  run_cmd.profile = profile.string();
  run_cmd.target = cmd.target;
  run_cmd.progress = [&](const std::string& line) { ui.progress("Applying the profile", line); };
  std::ostringstream report;
  std::streambuf* saved_out = std::cout.rdbuf(report.rdbuf());
  std::streambuf* saved_err = std::cerr.rdbuf(report.rdbuf());
  int code = 1;
  try {
    code = run(run_cmd);
  } catch (const std::exception& e) {
    report << "firstboot: error: " << e.what() << "\n";
  }
  std::cout.rdbuf(saved_out);
  std::cerr.rdbuf(saved_err);
  std::string text = without_colors(report.str()) + wizard_run_footer(code, profile);
  ui.show_report(code == 0 ? "Ready" : "Not ready", text);
  ui.close();
  // Left on the console (and in the service's log) after the screens are gone.
  std::cout << text << "\n";
  return code;
}

int run_from_seed(const RunCommand& cmd) {
  Layout layout = target_layout(cmd.target);
  SeedSearch search = find_seed(layout);
  if (!search.seed) {
    std::string looked;
    for (const auto& l : search.looked_at) looked += "    " + l + "\n";
    if (console_attached()) {
      std::cerr << "firstboot: no profile found; starting the wizard\n";
      return wizard(WizardCommand{"", cmd.target});
    }
    announce(layout,
             "firstboot: no profile found and no console for the wizard; nothing was changed.\n"
             "  Looked at, in order:\n" +
                 looked +
                 "  Put a profile at /boot/firmware/firstboot/profile.yaml (or /boot/efi, /boot),\n"
                 "  or under a firstboot: key in cloud user-data, and boot again; or run\n"
                 "  `firstboot wizard` on the console. See docs/unattended.md.\n");
    return 2;
  }
  const Seed& seed = *search.seed;
  fs::path kept_file = layout.map(kKeptProfile);
  std::cout << "firstboot: profile from " << seed.label << " (" << to_string(seed.source) << ")\n";

  RunCommand run_cmd = cmd;
  run_cmd.profile = kept_file.string();
  if (seed_already_applied(layout, seed)) {
    std::cout << "firstboot: unchanged since it was applied; applying the kept copy "
              << kept_file.string() << "\n";
    return run(run_cmd);
  }

  // Checked as found, so every problem points at the line the person wrote.
  auto modules = all_modules();
  LoadedProfile loaded = seed.source == SeedSource::boot_partition
                             ? load_profile(seed.file, views(modules))
                             : load_profile_text(seed.text, seed.label, views(modules));
  if (!loaded.issues.empty()) {
    std::string message;
    for (const auto& issue : loaded.issues) message += issue.format() + "\n";
    announce(layout, message + "firstboot: " + std::to_string(loaded.issues.size()) +
                         " problem(s) in the profile from " + seed.label +
                         "; nothing was changed\n");
    return 2;
  }

  KeptProfile kept;
  try {
    kept = make_kept_profile(seed, layout, [](const std::string& p) { return hash_password(p); });
    ensure_private_dir(kept_file.parent_path());
    write_kept_files(kept);
    write_file_atomic(kept_file, kept.yaml, 0600);
  } catch (const std::exception& e) {
    wipe_kept_files(kept);
    announce(layout, std::string("firstboot: ") + e.what() + "; nothing was applied\n");
    return 2;
  }

  int code = run(run_cmd);
  if (code != 0) {
    std::cerr << "firstboot: the apply did not finish; the secrets on the boot partition are "
                 "kept for the next attempt\n";
    return code;
  }
  for (const auto& line : wipe_boot_secrets(layout, kept.secret_files))
    std::cout << "firstboot: " << line << "\n";
  record_seed_applied(layout, seed);
  return code;
}

}  // namespace firstboot::cli
