#include "wizard/answer_checks.h"

#include <arpa/inet.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <regex>

#include "profile/profile_loader.h"

namespace firstboot::wizard {

namespace {

std::string trim(const std::string& text) {
  auto start = text.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  auto end = text.find_last_not_of(" \t");
  return text.substr(start, end - start + 1);
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Splits on commas and blanks, dropping empty pieces.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "" : address.substr(at + 1);
}

}  // namespace

std::string normalize_name(const std::string& text) { return lower(trim(text)); }

std::string check_hostname(const std::string& name) {
  if (name.empty()) return "Enter the host name, for example mail.example.com.";
  if (has_control_chars(name)) return "The host name contains a control character.";
  if (name.find('.') == std::string::npos)
    return "'" + name + "' is not fully qualified: add the domain, for example " + name +
           ".example.com.";
  if (!is_valid_hostname(name))
    return "'" + name +
           "' is not a valid host name: use letters, digits and hyphens, labels separated by "
           "dots (RFC 1123), for example mail.example.com.";
  return "";
}

std::string parse_domain_list(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  if (has_control_chars(text)) return "The list contains a control character.";
  for (const auto& piece : split_list(lower(text))) {
    if (!is_valid_domain(piece))
      return "'" + piece + "' is not a valid domain name (for example example.com).";
    if (std::find(out.begin(), out.end(), piece) != out.end())
      return "'" + piece + "' is listed twice.";
    out.push_back(piece);
  }
  if (out.empty()) return "Enter at least one domain, for example example.com.";
  if (out.size() > kMaxDomains)
    return "At most " + std::to_string(kMaxDomains) + " domains here; add more in the profile.";
  return "";
}

std::string check_mailbox_address(const std::string& address,
                                  const std::vector<std::string>& domains,
                                  const std::vector<std::string>& taken) {
  if (address.empty())
    return "Enter an address, for example alice@" +
           (domains.empty() ? std::string("example.com") : domains[0]) + ".";
  if (has_control_chars(address) || !is_valid_email(address))
    return "'" + address + "' is not a valid mail address.";
  std::string domain = lower(domain_of(address));
  if (std::find(domains.begin(), domains.end(), domain) == domains.end()) {
    std::string list;
    for (const auto& d : domains) list += (list.empty() ? "" : ", ") + d;
    return "'" + address + "' is not in one of this server's domains (" + list + ").";
  }
  for (const auto& t : taken)
    if (strcasecmp(t.c_str(), address.c_str()) == 0) return "'" + address + "' already exists.";
  return "";
}

std::string check_new_password(const std::string& password, const std::string& again,
                               const std::string& address) {
  if (password.empty()) return "Enter a password (twice).";
  if (has_control_chars(password)) return "The password contains a control character.";
  if (password.size() < kMinPasswordLength)
    return "The password is too short: use at least " + std::to_string(kMinPasswordLength) +
           " characters.";
  if (password.size() > kMaxPasswordLength) return "The password is too long.";
  if (password != again) return "The two passwords differ. Type the same password twice.";
  auto at = address.find('@');
  if (strcasecmp(password.c_str(), address.c_str()) == 0 ||
      (at != std::string::npos && strcasecmp(password.c_str(), address.substr(0, at).c_str()) == 0))
    return "The password must not be the address.";
  return "";
}

std::string check_given_password(const std::string& password, const std::string& again) {
  if (password.empty()) return "Enter the password (twice).";
  if (has_control_chars(password)) return "The password contains a control character.";
  if (password.size() > kMaxPasswordLength) return "The password is too long.";
  if (password != again) return "The two passwords differ. Type the same password twice.";
  return "";
}

std::string check_quota(const std::string& quota) {
  if (quota.empty()) return "";
  static const std::regex shape(R"(^[1-9][0-9]{0,5}[KMGT]?$)");
  if (!std::regex_match(quota, shape))
    return "'" + quota +
           "' is not a size: use a number with K, M, G or T, like 2G, or leave it "
           "empty for no limit.";
  return "";
}

std::string parse_port(const std::string& text, int& port) {
  static const std::regex digits(R"(^[0-9]{1,5}$)");
  if (!std::regex_match(text, digits) || std::stoi(text) < 1 || std::stoi(text) > 65535)
    return "'" + text + "' is not a port number (1-65535); providers use 587 or 465.";
  port = std::stoi(text);
  return "";
}

std::string parse_mappings(const std::string& text,
                           std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  if (has_control_chars(text)) return "The mappings contain a control character.";
  for (const auto& piece : split_list(text)) {
    auto eq = piece.find('=');
    if (eq == std::string::npos)
      return "'" + piece + "' is not a mapping: write from@example.com=to@example.com.";
    std::string from = lower(piece.substr(0, eq)), to = lower(piece.substr(eq + 1));
    if (!is_valid_email(from)) return "'" + from + "' is not a valid mail address.";
    if (!is_valid_email(to)) return "'" + to + "' is not a valid mail address.";
    for (const auto& [f, t] : out)
      if (f == from) return "'" + from + "' is mapped twice.";
    out.emplace_back(from, to);
  }
  return "";
}

std::string check_username(const std::string& name) {
  static const std::regex shape(R"(^[A-Za-z0-9._+@-]{1,254}$)");
  if (name.empty()) return "Enter the user name your provider gave you.";
  if (!std::regex_match(name, shape))
    return "The user name may only hold letters, digits and . _ + @ -";
  if (name.find('@') != std::string::npos && !is_valid_email(name))
    return "'" + name + "' looks like a mail address but is not a valid one.";
  return "";
}

std::string check_dns_name(const std::string& name) {
  // As the schema's spf_include: host-name labels that may also hold underscores.
  static const std::regex shape(
      R"(^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)+$)");
  if (name.size() > 253 || !std::regex_match(name, shape))
    return "'" + name + "' is not a DNS name (like _spf.provider.example).";
  return "";
}

std::string check_relay_host(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return "";
  return check_hostname(host);
}

std::string check_acme_directory(const std::string& url) {
  static const std::regex shape(R"(^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$)");
  if (!std::regex_match(url, shape))
    return "'" + url + "' is not an https:// URL of an ACME directory.";
  return "";
}

std::string check_readable_file(const std::string& path, const std::string& what) {
  if (path.empty()) return "Enter the path of the " + what + ".";
  if (has_control_chars(path)) return "The path contains a control character.";
  if (path[0] != '/') return "Give the full path of the " + what + " (starting with /).";
  if (access(path.c_str(), R_OK) != 0) return "Cannot read " + path + ": " + std::strerror(errno);
  return "";
}

std::string domain_from_hostname(const std::string& hostname) {
  auto dots = std::count(hostname.begin(), hostname.end(), '.');
  if (dots >= 2) return hostname.substr(hostname.find('.') + 1);
  return hostname;
}

void wipe(std::string& secret) {
  if (!secret.empty()) explicit_bzero(secret.data(), secret.size());
  secret.clear();
  secret.shrink_to_fit();
}

}  // namespace firstboot::wizard
