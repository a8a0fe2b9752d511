#include "dns_names.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "engine/error.h"

namespace firstboot::dns {

namespace {
constexpr std::size_t kMaxName = 253;
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxString = 255;
// A TXT RRset far larger than any mail record; keeps a hostile value from bloating the zone.
constexpr std::size_t kMaxTxtValue = 4000;

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  if (suffix.size() > text.size()) return false;
  return lowercase(text.substr(text.size() - suffix.size())) == lowercase(suffix);
}
}  // namespace

bool is_dns_label(std::string_view label, bool allow_underscore) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           (allow_underscore && c == '_');
  });
}

bool is_dns_name(std::string_view name, bool allow_underscore, int min_labels) {
  if (name.empty() || name.size() > kMaxName) return false;
  int labels = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_dns_label(label, allow_underscore)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= min_labels;
}

bool is_safe_email(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = address.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  bool local_ok = std::all_of(local.begin(), local.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
           c == '-';
  });
  return local_ok && is_dns_name(address.substr(at + 1), false, 2);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool in_zone(std::string_view name, std::string_view zone) {
  if (lowercase(name) == lowercase(zone)) return true;
  return name.size() > zone.size() && name[name.size() - zone.size() - 1] == '.' &&
         ends_with_ci(name, zone);
}

std::string relative_name(std::string_view fqdn, std::string_view zone) {
  if (lowercase(fqdn) == lowercase(zone)) return "@";
  if (in_zone(fqdn, zone)) return std::string(fqdn.substr(0, fqdn.size() - zone.size() - 1));
  return std::string(fqdn) + ".";
}

std::string absolute_name(std::string_view relative, std::string_view zone) {
  if (relative == "@") return std::string(zone);
  if (!relative.empty() && relative.back() == '.')
    return std::string(relative.substr(0, relative.size() - 1));
  return std::string(relative) + "." + std::string(zone);
}

std::string canonical_ipv4(std::string_view text) {
  in_addr addr{};
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) return "";
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &addr, buf, sizeof buf) ? buf : "";
}

std::string canonical_ipv6(std::string_view text) {
  in6_addr addr{};
  std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), &addr) != 1) return "";
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, &addr, buf, sizeof buf) ? buf : "";
}

std::vector<std::string> split_txt(std::string_view value) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < value.size(); at += kMaxString)
    parts.emplace_back(value.substr(at, kMaxString));
  if (parts.empty()) parts.emplace_back();
  return parts;
}

std::string txt_value_problem(std::string_view value) {
  if (value.size() > kMaxTxtValue)
    return "a TXT value of " + std::to_string(value.size()) + " bytes is too long (at most " +
           std::to_string(kMaxTxtValue) + ")";
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return "a TXT value contains a control character";
  return "";
}

std::string txt_rdata(std::string_view value) {
  if (std::string why = txt_value_problem(value); !why.empty()) throw Error(why);
  std::string out;
  for (const std::string& part : split_txt(value)) {
    if (!out.empty()) out += ' ';
    out += '"';
    for (unsigned char c : part) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c >= 0x80) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
  }
  return out;
}

std::string soa_mailbox(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) throw Error("not an e-mail address: " + std::string(address));
  std::string out;
  for (char c : address.substr(0, at)) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out + "." + std::string(address.substr(at + 1)) + ".";
}

}  // namespace firstboot::dns
