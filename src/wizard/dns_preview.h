// The DNS records the summary screen lists. The dns module owns the real records
// (format_dns_records in modules/dns); until the command is wired to it, this lists the record
// names and types the profile alone determines, with what goes in each.
#pragma once

#include <functional>
#include <string>

#include "profile/profile.h"

namespace firstboot::wizard {

// What the summary calls: the text of the records to create, one per line, <= 76 columns wide.
using DnsRecordsFormatter = std::function<std::string(const Profile&)>;

// Names and types derived from the profile (values are known only after apply: DKIM keys,
// the MTA-STS id, the verification token, the public address).
std::string derived_dns_record_names(const Profile& profile);

}  // namespace firstboot::wizard
