// What makes a published mail record right: comparison of a served answer with the record the
// dns module planned, and the well-formedness rules of SPF, DMARC, MTA-STS, TLS-RPT, CAA, MX and
// DKIM key records. Pure functions, unit-tested on recorded answers.
#pragma once

#include <string>
#include <vector>

namespace firstboot {

// The record's owner as a fully qualified name without the final dot:
// ("example.com", "@") -> "example.com"; ("example.com", "_dmarc") -> "_dmarc.example.com".
std::string owner_fqdn(const std::string& zone, const std::string& name);

// A canonical form for comparing rdata: lower case names, no trailing dots, single spaces, TXT
// quotes and string splits removed.
std::string normalize_rdata(const std::string& type, const std::string& value);

// Each returns an empty string when well formed, else what is wrong (one line).
std::string spf_problem(const std::string& txt);
std::string dmarc_problem(const std::string& txt);
std::string mta_sts_problem(const std::string& txt);
std::string tlsrpt_problem(const std::string& txt);
std::string caa_problem(const std::string& rdata);
std::string mx_problem(const std::string& rdata);
std::string dkim_key_problem(const std::string& txt);

// Records at a name of which exactly one must be the given kind ("v=spf1"): the matching ones.
std::vector<std::string> records_starting_with(const std::vector<std::string>& txts,
                                               const std::string& prefix);

}  // namespace firstboot
