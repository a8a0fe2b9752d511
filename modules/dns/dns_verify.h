// Checks the served records against the expected ones, one check per name and type: present,
// missing, or different (with both values). Feeds `firstboot status`.
#pragma once

#include <string>
#include <vector>

#include "dns_client.h"
#include "dns_records.h"
#include "engine/check.h"

namespace firstboot::dns {

struct VerifyOptions {
  ServerAddress server;  // who is asked
  // true: this host serves the zones (bind/nsd), so any difference is a failure; false (serve
  // none): the records live at a DNS provider and a difference is a warning with what to add.
  bool served_here = true;
  bool dnssec = false;
};

// One check for an RRset. expected are raw zone values (TXT unquoted); answer as received.
CheckResult compare_rrset(const std::string& fqdn, const std::string& type,
                          const std::vector<std::string>& expected, const Answer& answer,
                          const VerifyOptions& options);

// Every in-zone RRset of every domain, asked through client.
std::vector<CheckResult> verify_records(const std::vector<DomainRecords>& sets, DnsClient& client,
                                        const VerifyOptions& options);

// Shortens a value for a one-line detail.
std::string shorten(const std::string& text, std::size_t max = 100);

}  // namespace firstboot::dns
