// Checks of single wizard answers, on top of the profile validators (profile_loader.h). Each
// returns the message to show in the dialog, or "" when the answer is fine.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace firstboot::wizard {

inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordLength = 1024;
inline constexpr std::size_t kMaxDomains = 50;

// Lower-cases ASCII and removes surrounding blanks: what people type for names.
std::string normalize_name(const std::string& text);

std::string check_hostname(const std::string& name);
// "example.com example.org" or "example.com, example.org" -> out, in order, without duplicates.
std::string parse_domain_list(const std::string& text, std::vector<std::string>& out);
// An address for a mailbox of one of the domains, not yet taken (case-insensitive).
std::string check_mailbox_address(const std::string& address,
                                  const std::vector<std::string>& domains,
                                  const std::vector<std::string>& taken);
// A new password typed twice: at least kMinPasswordLength characters, no control characters,
// not the address itself.
std::string check_new_password(const std::string& password, const std::string& again,
                               const std::string& address);
// A password someone else chose (the relay provider's): any length, no control characters.
std::string check_given_password(const std::string& password, const std::string& again);
// "" (no limit) or a size like 500M, 2G, 1T.
std::string check_quota(const std::string& quota);
std::string parse_port(const std::string& text, int& port);
// "from@a=to@b, from2@a=to2@b" -> pairs.
std::string parse_mappings(const std::string& text,
                           std::vector<std::pair<std::string, std::string>>& out);
// A SASL user name: letters, digits and . _ + @ - (a valid address when it has an @).
std::string check_username(const std::string& name);
// A DNS name that may hold underscores (an SPF include like _spf.provider.example).
std::string check_dns_name(const std::string& name);
// The smarthost: a fully qualified host name or an IP address.
std::string check_relay_host(const std::string& host);
// An https:// URL of an ACME directory.
std::string check_acme_directory(const std::string& url);
// An absolute path of a file that exists and can be read.
std::string check_readable_file(const std::string& path, const std::string& what);

// The mail domain a host name suggests: mail.example.com -> example.com; example.com stays.
std::string domain_from_hostname(const std::string& hostname);

// Overwrites the characters of a secret before the string lets go of them.
void wipe(std::string& secret);

}  // namespace firstboot::wizard
