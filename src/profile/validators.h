// Validators for profile values beyond the public ones in profile_loader.h. Each returns an empty
// string when the value is fine, else what is wrong with it (without the value itself).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace firstboot::profile_rules {

// Why name is not a host name (RFC 1123), "" when it is. fqdn: at least two labels.
std::string hostname_problem(const std::string& name, bool fqdn);
// A DNS name that may hold underscores (SPF include targets like _spf.provider.example).
std::string dns_name_problem(const std::string& name);
std::string email_problem(const std::string& address);
std::string dkim_selector_problem(const std::string& selector);
std::string ipv4_problem(const std::string& text);
std::string ipv6_problem(const std::string& text);
// A relay or resolver host: a host name, an IPv4 address or an IPv6 address.
std::string host_problem(const std::string& host);
// "host", "host:port", "[v6]:port", "v4:port" (DNS resolver).
std::string resolver_problem(const std::string& text);
// postgresql://[user@]host[:port]/dbname[?key=value&...], no password.
std::string database_url_problem(const std::string& url);
// http(s)://host[:port]/path with a conservative character set.
std::string url_problem(const std::string& url);
// A file system path that may appear in a config file: no spaces, quotes or control characters.
std::string path_problem(const std::string& path);

// "500M", "2G", "1024" (bytes, binary units K M G T). nullopt when malformed or overflowing.
std::optional<std::uint64_t> parse_size(const std::string& text);
// "30s", "15m", "1h", "1d", "900" (seconds). nullopt when malformed or overflowing.
std::optional<std::uint64_t> parse_interval(const std::string& text);

// The text with control and non-ASCII bytes escaped and cut to max_chars, safe for a message.
std::string printable(const std::string& text, std::size_t max_chars = 60);

}  // namespace firstboot::profile_rules
