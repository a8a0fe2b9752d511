// firstboot: provisions a complete mail server from a profile. See README.md for the commands.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "dns_records_command.h"
#include "engine/error.h"
#include "engine/runner.h"
#include "seed_command.h"
#include "wizard_command.h"

int main(int argc, char** argv) {
  using namespace firstboot;
  CLI::App app{"firstboot: turn a fresh machine into a complete, secure mail server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "firstboot " + engine_version());

  cli::RunCommand run_cmd;
  auto add_target = [](CLI::App* sub, cli::TargetOptions& t) {
    auto* sandbox = sub->add_option("--sandbox", t.sandbox,
                                    "everything under DIR, daemons as processes on loopback ports");
    auto* root = sub->add_option("--root", t.root, "write an offline image tree, start nothing");
    sandbox->excludes(root);
  };
  auto add_run_options = [&](CLI::App* sub) {
    auto* profile = sub->add_option("--profile", run_cmd.profile, "the YAML profile to apply");
    if (sub->get_name() == "plan") profile->required();  // run alone looks for a seed
    add_target(sub, run_cmd.target);
    sub->add_option("--only", run_cmd.only, "run just this module");
    sub->add_flag("--force", run_cmd.force, "re-apply and re-validate even when nothing changed");
  };
  auto* run = app.add_subcommand("run", "apply a profile");
  add_run_options(run);
  auto* plan = app.add_subcommand("plan", "show what run would change, touching nothing");
  add_run_options(plan);

  std::string profile_file;
  auto* check = app.add_subcommand("check-profile", "validate a profile (exit 2 when bad)");
  check->add_option("file", profile_file, "profile")->required();

  cli::TargetOptions target;
  bool json = false, wait = false;
  int timeout = 300;
  auto* status = app.add_subcommand("status", "every module's state and check results");
  add_target(status, target);
  status->add_flag("--json", json, "machine-readable output");
  status->add_flag("--wait", wait, "wait until everything required passes");
  status->add_option("--timeout", timeout, "seconds to wait with --wait")
      ->check(CLI::Range(0, 86400));

  bool check_json = false;
  auto* monitor_check = app.add_subcommand(
      "check", "run every check, record the results, write the metrics, alert on changes");
  add_target(monitor_check, target);
  monitor_check->add_flag("--json", check_json, "machine-readable output");
  cli::WizardCommand wizard_cmd;
  auto* wizard = app.add_subcommand("wizard", "ask on the console, write a profile, apply it");
  wizard->add_option("--output", wizard_cmd.output, "only write the profile (0600) to FILE");
  add_target(wizard, wizard_cmd.target);

  bool seed_quiet = false;
  auto* seed = app.add_subcommand(
      "seed", "where `run` without --profile would take its profile from (exit 1: nowhere)");
  add_target(seed, target);
  seed->add_flag("--quiet", seed_quiet, "no list of the places looked at when none is found");

  auto* stop = app.add_subcommand("stop", "stop the daemons of a sandbox");
  add_target(stop, target);
  auto* analyze = app.add_subcommand("analyze", "per-module and per-step timing");
  add_target(analyze, target);
  auto* hash = app.add_subcommand("hash-password", "read a password (no echo), print its hash");

  cli::DnsRecordsCommand dns_cmd;
  auto* dns_records = app.add_subcommand(
      "dns-records", "the DNS records to publish: zone file, JSON or a table for the registrar");
  add_target(dns_records, dns_cmd.target);
  dns_records->add_option("--profile", dns_cmd.profile,
                          "compute from this profile (default: what the last run applied)");
  dns_records->add_option("--domain", dns_cmd.domain, "only this domain");
  dns_records->add_option("--format", dns_cmd.format, "zone, json or table (default)")
      ->check(CLI::IsMember({"zone", "json", "table"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (*run) return run_cmd.profile.empty() ? cli::run_from_seed(run_cmd) : cli::run(run_cmd);
    if (*wizard) return cli::wizard(wizard_cmd);
    if (*plan) {
      run_cmd.dry_run = true;
      return cli::run(run_cmd);
    }
    if (*check) return cli::check_profile(profile_file);
    if (*status) return cli::status(target, json, wait, timeout);
    if (*monitor_check) return cli::check(target, check_json);
    if (*seed) return cli::seed(target, seed_quiet);
    if (*stop) return cli::stop(target);
    if (*analyze) return cli::analyze(target);
    if (*hash) return cli::hash_password_command();
    if (*dns_records) return cli::dns_records(dns_cmd);
  } catch (const std::exception& e) {
    std::cerr << "firstboot: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
