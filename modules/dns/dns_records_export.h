// The DNS records of the mail domains for people: as a zone file, as a JSON onboarding document
// (schema/dns-records.schema.json), or as the table a person pastes at a registrar. Used by
// `firstboot dns-records` and the wizard. Nothing here changes anything on disk.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dns_records.h"

namespace firstboot {
class Layout;
class Store;
class TemplateRenderer;
}  // namespace firstboot

namespace firstboot::dns {

// System paths (map them with the layout).
inline constexpr const char* kStateFile = "/var/lib/firstboot/dns/records.json";
inline constexpr const char* kBindKeyDirectory = "/var/lib/bind/firstboot/keys";
std::string mta_sts_policy_path(const std::string& domain);  // /var/www/mta-sts/<d>/.well-known/...

// The records as the last run applied them (the dns module's state file). Empty when the dns
// module has not run on this target. Throws Error when the state file is unreadable.
std::vector<DomainRecords> applied_dns_records(const Layout& layout);

// The records a profile asks for on this target, computed without changing anything: DKIM keys
// and verification tokens are used when they exist (notes say what the first run will create),
// serials continue from the applied state. store may be null.
std::vector<DomainRecords> dns_records_for_profile(const Profile& profile, const Layout& layout,
                                                   Store* store);

// Only the named domain (case-insensitive); throws Error when it is not there.
std::vector<DomainRecords> select_domain(const std::vector<DomainRecords>& sets,
                                         const std::string& domain);

// Formats. zone_text with the installed templates (data_dir()/templates).
std::string export_zone(const std::vector<DomainRecords>& sets);
nlohmann::json onboarding_json(const std::vector<DomainRecords>& sets);
std::string records_table(const std::vector<DomainRecords>& sets);

// The state file's form of the sets.
nlohmann::json state_json(const std::vector<DomainRecords>& sets);
std::vector<DomainRecords> sets_from_state_json(const nlohmann::json& state);

}  // namespace firstboot::dns
