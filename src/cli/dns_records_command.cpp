#include "dns_records_command.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "dns/dns_records_export.h"
#include "engine/error.h"
#include "engine/layout.h"
#include "profile/profile_loader.h"
#include "registry.h"
#include "store/store.h"

namespace firstboot::cli {

int dns_records(const DnsRecordsCommand& cmd) {
  Layout layout = !cmd.target.sandbox.empty() ? Layout::sandbox(cmd.target.sandbox)
                  : !cmd.target.root.empty()  ? Layout::offline(cmd.target.root)
                                              : Layout::system();
  std::vector<dns::DomainRecords> sets;
  if (!cmd.profile.empty()) {
    auto modules = all_modules();
    std::vector<const Module*> views;
    for (auto& m : modules) views.push_back(m.get());
    LoadedProfile loaded = load_profile(cmd.profile, views);
    for (auto& issue : loaded.issues) std::cerr << issue.format() << "\n";
    if (!loaded.profile) {
      std::cerr << "firstboot: " << loaded.issues.size() << " problem(s) in the profile\n";
      return 2;
    }
    // Read-only: tokens and keys are shown when they exist; nothing is created.
    std::unique_ptr<Store> store;
    try {
      store = open_store(*loaded.profile, layout, true);
    } catch (const std::exception& e) {
      std::cerr << "firstboot: note: the store cannot be read (" << e.what()
                << "); verification tokens are shown after the first run\n";
    }
    sets = dns::dns_records_for_profile(*loaded.profile, layout, store.get());
  } else {
    sets = dns::applied_dns_records(layout);
    if (sets.empty()) {
      std::cerr << "firstboot: no DNS records in " << layout.map(dns::kStateFile).string()
                << " yet: run `firstboot run` first, or pass --profile FILE\n";
      return 1;
    }
  }
  if (!cmd.domain.empty()) sets = dns::select_domain(sets, cmd.domain);
  if (cmd.format == "zone")
    std::cout << dns::export_zone(sets);
  else if (cmd.format == "json")
    std::cout << dns::onboarding_json(sets).dump(2) << "\n";
  else
    std::cout << dns::records_table(sets);
  return 0;
}

}  // namespace firstboot::cli
