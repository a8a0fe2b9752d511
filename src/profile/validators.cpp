#include "profile/validators.h"

#include <arpa/inet.h>

#include <cctype>
#include <limits>
#include <vector>

#include "profile/profile_loader.h"

namespace firstboot {

namespace profile_rules {

namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::string label_problem(const std::string& label, bool underscore = false) {
  if (label.empty()) return "has an empty label (two dots in a row, or a leading or trailing dot)";
  if (label.size() > 63)
    return "has a label of " + std::to_string(label.size()) + " characters; at most 63 are allowed";
  for (char c : label) {
    if (!is_alnum(c) && c != '-' && !(underscore && c == '_'))
      return "contains '" + printable(std::string(1, c)) + "'; only letters, digits, hyphens" +
             (underscore ? ", underscores" : "") + " and dots are allowed";
  }
  if (label.front() == '-' || label.back() == '-')
    return "has a label that starts or ends with a hyphen";
  return "";
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

std::optional<int> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || !all_digits(text)) return std::nullopt;
  int port = std::stoi(text);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

std::optional<std::uint64_t> parse_with_units(const std::string& text, const std::string& units,
                                              const std::vector<std::uint64_t>& factors) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  std::string digits = text;
  std::uint64_t factor = 1;
  auto unit = units.find(text.back());
  if (unit != std::string::npos) {
    digits = text.substr(0, text.size() - 1);
    factor = factors[unit];
  }
  if (!all_digits(digits) || digits.size() > 19) return std::nullopt;
  std::uint64_t value = std::stoull(digits);
  if (value > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
  return value * factor;
}

}  // namespace

std::string printable(const std::string& text, std::size_t max_chars) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string hostname_problem(const std::string& name, bool fqdn) {
  if (name.empty()) return "is empty";
  if (has_control_chars(name)) return "contains a control character";
  if (name.size() > 253)
    return "is " + std::to_string(name.size()) + " characters long; at most 253 are allowed";
  auto labels = split(name, '.');
  for (auto& label : labels) {
    std::string why = label_problem(label);
    if (!why.empty()) return why;
  }
  if (fqdn && labels.size() < 2)
    return "is not a fully qualified name (expected at least two labels, like mail.example.com)";
  if (labels.size() > 1 && all_digits(labels.back()))
    return "has an all-numeric top-level label (an IP address is not a host name)";
  return "";
}

std::string dns_name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (has_control_chars(name)) return "contains a control character";
  if (name.size() > 253)
    return "is " + std::to_string(name.size()) + " characters long; at most 253 are allowed";
  auto labels = split(name, '.');
  for (auto& label : labels) {
    std::string why = label_problem(label, true);
    if (!why.empty()) return why;
  }
  if (labels.size() < 2) return "is not a fully qualified name (expected at least two labels)";
  return "";
}

std::string email_problem(const std::string& address) {
  if (address.empty()) return "is empty";
  if (has_control_chars(address)) return "contains a control character";
  if (address.size() > 254)
    return "is " + std::to_string(address.size()) + " characters long; at most 254 are allowed";
  auto at = address.rfind('@');
  if (at == std::string::npos) return "is not an email address (no '@')";
  std::string local = address.substr(0, at);
  std::string domain = address.substr(at + 1);
  if (local.empty()) return "has an empty local part before '@'";
  if (local.size() > 64) return "has a local part longer than 64 characters";
  for (char c : local) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '+' && c != '-')
      return "contains '" + printable(std::string(1, c)) +
             "' in the local part; only letters, digits and . _ + - are allowed";
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos)
    return "has a local part with a leading, trailing or doubled dot";
  std::string why = hostname_problem(domain, true);
  if (!why.empty()) return "has a domain that " + why;
  return "";
}

std::string dkim_selector_problem(const std::string& selector) {
  if (selector.empty()) return "is empty";
  if (has_control_chars(selector)) return "contains a control character";
  if (selector.size() > 63)
    return "is " + std::to_string(selector.size()) + " characters long; at most 63 are allowed";
  for (auto& label : split(selector, '.')) {
    std::string why = label_problem(label);
    if (!why.empty()) return why;
  }
  return "";
}

std::string ipv4_problem(const std::string& text) {
  in_addr addr{};
  if (text.size() > 15 || inet_pton(AF_INET, text.c_str(), &addr) != 1)
    return "is not an IPv4 address (expected four numbers like 192.0.2.10)";
  return "";
}

std::string ipv6_problem(const std::string& text) {
  in6_addr addr{};
  if (text.size() > 45 || inet_pton(AF_INET6, text.c_str(), &addr) != 1)
    return "is not an IPv6 address (expected a form like 2001:db8::10)";
  return "";
}

std::string host_problem(const std::string& host) {
  if (host.empty()) return "is empty";
  if (host.find(':') != std::string::npos) return ipv6_problem(host);
  bool dotted_digits = true;
  for (char c : host) dotted_digits = dotted_digits && (is_digit(c) || c == '.');
  if (dotted_digits) return ipv4_problem(host);
  return hostname_problem(host, false);
}

std::string resolver_problem(const std::string& text) {
  if (text.empty()) return "is empty";
  std::string host = text;
  std::string port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return "has '[' without ']'";
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "has text after ']' that is not ':PORT'";
      port = rest.substr(1);
    }
    std::string why = ipv6_problem(host);
    if (!why.empty()) return why;
  } else {
    auto colon = text.find(':');
    if (colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    std::string why = host_problem(host);
    if (!why.empty()) return why;
  }
  if (!port.empty() || text.back() == ':') {
    if (!parse_port(port)) return "has a port that is not a number from 1 to 65535";
  }
  return "";
}

std::string database_url_problem(const std::string& url) {
  std::string rest;
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  }
  if (rest.empty()) return "must be sqlite or a URL like postgresql://user@host/dbname";
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  if (slash == std::string::npos) return "has no database name (postgresql://user@host/dbname)";
  std::string authority = rest.substr(0, slash);
  std::string dbname = rest.substr(slash + 1);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    std::string user = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (user.find(':') != std::string::npos)
      return "contains a password; put it in database_password_file instead";
    if (user.empty() || user.size() > 63) return "has an empty or over-long user name";
    for (char c : user)
      if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
        return "has a user name with '" + printable(std::string(1, c)) + "'";
  }
  std::string why = resolver_problem(authority);
  if (!why.empty()) return "has a host that " + why;
  if (dbname.empty() || dbname.size() > 63) return "has an empty or over-long database name";
  for (char c : dbname)
    if (!is_alnum(c) && c != '_' && c != '-')
      return "has a database name with '" + printable(std::string(1, c)) + "'";
  if (!query.empty()) {
    for (auto& pair : split(query, '&')) {
      auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
        return "has a malformed parameter (expected key=value)";
      for (char c : pair)
        if (!is_alnum(c) && c != '_' && c != '-' && c != '=' && c != '.')
          return "has a parameter with '" + printable(std::string(1, c)) + "'";
      if (pair.rfind("password=", 0) == 0)
        return "contains a password; put it in database_password_file instead";
    }
  }
  return "";
}

std::string url_problem(const std::string& url) {
  std::string rest;
  for (const char* scheme : {"https://", "http://"}) {
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  }
  if (rest.empty()) return "must be an http:// or https:// URL";
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) return "must not contain user information ('@')";
  std::string why = resolver_problem(authority);
  if (!why.empty()) return "has a host that " + why;
  for (char c : path)
    if (!is_alnum(c) && std::string("/._~%-").find(c) == std::string::npos)
      return "has '" + printable(std::string(1, c)) + "' in its path";
  return "";
}

std::string path_problem(const std::string& path) {
  if (path.empty()) return "is empty";
  if (has_control_chars(path)) return "contains a control character";
  if (path.size() > 1024)
    return "is " + std::to_string(path.size()) + " characters long; at most 1024 are allowed";
  for (char c : path) {
    if (!is_alnum(c) && std::string("/._-+@,=:").find(c) == std::string::npos)
      return "contains '" + printable(std::string(1, c)) +
             "'; paths may use letters, digits and / . _ - + @ , = :";
  }
  return "";
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  constexpr std::uint64_t k = 1024;
  return parse_with_units(text, "KMGT", {k, k * k, k * k * k, k * k * k * k});
}

std::optional<std::uint64_t> parse_interval(const std::string& text) {
  return parse_with_units(text, "smhd", {1, 60, 3600, 86400});
}

}  // namespace profile_rules

bool is_valid_hostname(const std::string& name) {
  return profile_rules::hostname_problem(name, false).empty();
}

bool is_valid_domain(const std::string& name) {
  return profile_rules::hostname_problem(name, true).empty();
}

bool is_valid_email(const std::string& address) {
  return profile_rules::email_problem(address).empty();
}

bool is_valid_dkim_selector(const std::string& selector) {
  return profile_rules::dkim_selector_problem(selector).empty();
}

bool has_control_chars(const std::string& value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return true;
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xc2 && i + 1 < value.size()) {
      auto next = static_cast<unsigned char>(value[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
  }
  return false;
}

}  // namespace firstboot
