// `firstboot dns-records`: the DNS records of the mail domains, as a zone file, a JSON onboarding
// document or the table a person pastes at a registrar.
#pragma once

#include <string>

#include "commands.h"

namespace firstboot::cli {

struct DnsRecordsCommand {
  std::string profile;  // --profile: compute from this profile; empty: what the last run applied
  TargetOptions target;
  std::string domain;            // --domain: only this one
  std::string format = "table";  // zone | json | table
};

int dns_records(const DnsRecordsCommand& cmd);

}  // namespace firstboot::cli
