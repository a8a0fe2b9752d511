// Zone-file syntax safety: names, addresses and TXT strings are checked (and TXT escaped) here, so
// no profile value can break a zone file or a server config (a newline, a quote, a brace).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace firstboot::dns {

// One label: 1..63 of [A-Za-z0-9-], not starting or ending with '-'; underscores allowed only
// when asked (service labels like _dmarc, _spf).
bool is_dns_label(std::string_view label, bool allow_underscore = false);
// A name without the trailing dot: labels as above, at most 253 characters, at least min_labels.
bool is_dns_name(std::string_view name, bool allow_underscore = false, int min_labels = 1);
// An e-mail address whose both parts are safe in a zone TXT and a mailto: URI:
// local part [A-Za-z0-9._+-], domain a DNS name of at least two labels.
bool is_safe_email(std::string_view address);

std::string lowercase(std::string_view text);
// True when name is zone or below it (case-insensitive).
bool in_zone(std::string_view name, std::string_view zone);
// The owner name relative to the zone: "@" for the apex, "mail" for mail.example.com, or the
// absolute name with a trailing dot when it lies outside the zone.
std::string relative_name(std::string_view fqdn, std::string_view zone);
// The owner name as a fully qualified name (no trailing dot): "@" -> zone.
std::string absolute_name(std::string_view relative, std::string_view zone);

// The address in canonical text form, or "" when text is not an address of that family.
std::string canonical_ipv4(std::string_view text);
std::string canonical_ipv6(std::string_view text);

// A TXT value as character-strings of at most 255 bytes each (RFC 1035 3.3.14).
std::vector<std::string> split_txt(std::string_view value);
// Zone presentation of a TXT value: "part1" "part2", with '"' and '\' escaped and bytes outside
// printable ASCII written as \DDD. Throws Error on a control character.
std::string txt_rdata(std::string_view value);
// Why a TXT value cannot be published ("" when it can): control characters, or too long.
std::string txt_value_problem(std::string_view value);

// The SOA RNAME for an address: admin@example.com -> "admin.example.com." (dots in the local
// part escaped as "\.").
std::string soa_mailbox(std::string_view address);

}  // namespace firstboot::dns
