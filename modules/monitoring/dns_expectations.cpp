#include "dns_expectations.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "probe/smtp.h"

namespace firstboot {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(trim(cur));
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// "v=DMARC1; p=reject" -> [(v, DMARC1), (p, reject)]; tags lower-cased.
std::vector<std::pair<std::string, std::string>> tags(const std::string& txt) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& part : split(txt, ';')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(lower(part), "");
      continue;
    }
    out.emplace_back(lower(trim(part.substr(0, eq))), trim(part.substr(eq + 1)));
  }
  return out;
}

std::string tag(const std::vector<std::pair<std::string, std::string>>& t, const std::string& k) {
  for (auto& [name, value] : t)
    if (name == k) return value;
  return "";
}

bool has_tag(const std::vector<std::pair<std::string, std::string>>& t, const std::string& k) {
  return std::any_of(t.begin(), t.end(), [&](auto& p) { return p.first == k; });
}

bool is_hostname(const std::string& name) {
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  if (n.empty() || n.size() > 253) return false;
  for (auto& label : split(n, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string owner_fqdn(const std::string& zone, const std::string& name) {
  std::string z = zone;
  if (!z.empty() && z.back() == '.') z.pop_back();
  if (name.empty() || name == "@") return z;
  if (name.back() == '.') return name.substr(0, name.size() - 1);
  return name + "." + z;
}

std::string normalize_rdata(const std::string& type, const std::string& value) {
  std::string t = lower(type);
  if (t == "txt") {
    // Either presentation form ("a" "b") or already joined: join strings, drop the quotes.
    std::string v = trim(value);
    if (v.size() >= 2 && v.front() == '"') {
      std::string joined;
      bool in_quotes = false;
      for (std::size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (c == '\\' && in_quotes && i + 1 < v.size()) {
          joined += v[++i];
          continue;
        }
        if (c == '"') {
          in_quotes = !in_quotes;
          continue;
        }
        if (in_quotes) joined += c;
      }
      v = joined;
    }
    // Whitespace inside a TXT value matters little for mail records; compare it collapsed.
    std::string out;
    for (auto& w : words(v)) out += (out.empty() ? "" : " ") + w;
    return out;
  }
  std::string out;
  for (auto w : words(value)) {
    if (w.size() >= 2 && w.front() == '"' && w.back() == '"') w = w.substr(1, w.size() - 2);
    w = lower(w);
    if (w.size() > 1 && w.back() == '.') w.pop_back();
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

std::vector<std::string> records_starting_with(const std::vector<std::string>& txts,
                                               const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& t : txts) {
    std::string n = normalize_rdata("TXT", t);
    if (lower(n.substr(0, prefix.size())) == lower(prefix) &&
        (n.size() == prefix.size() || n[prefix.size()] == ' ' || n[prefix.size()] == ';'))
      out.push_back(n);
  }
  return out;
}

std::string spf_problem(const std::string& txt) {
  auto w = words(normalize_rdata("TXT", txt));
  if (w.empty() || lower(w[0]) != "v=spf1") return "does not start with v=spf1";
  bool has_all = false, has_redirect = false;
  for (std::size_t i = 1; i < w.size(); ++i) {
    std::string term = lower(w[i]);
    std::string mech = term;
    if (!mech.empty() && std::string("+-~?").find(mech[0]) != std::string::npos) mech.erase(0, 1);
    std::string name = mech.substr(0, mech.find_first_of(":/="));
    static const std::vector<std::string> known = {"all", "include", "a",      "mx",       "ptr",
                                                   "ip4", "ip6",     "exists", "redirect", "exp"};
    if (std::find(known.begin(), known.end(), name) == known.end())
      return "unknown SPF term '" + w[i] + "'";
    if (name == "all") {
      has_all = true;
      if (i + 1 != w.size()) return "terms after 'all' are ignored";
      if (term == "+all" || term == "all") return "'+all' lets anyone send as this domain";
    }
    if (name == "redirect") has_redirect = true;
  }
  if (!has_all && !has_redirect) return "no 'all' mechanism (end with -all or ~all)";
  return "";
}

std::string dmarc_problem(const std::string& txt) {
  std::string n = normalize_rdata("TXT", txt);
  auto t = tags(n);
  if (t.empty() || t[0].first != "v" || t[0].second != "DMARC1")
    return "does not start with v=DMARC1";
  if (!has_tag(t, "p")) return "no p= policy";
  std::string p = lower(tag(t, "p"));
  if (p != "none" && p != "quarantine" && p != "reject") return "p=" + p + " is not a policy";
  for (const char* key : {"rua", "ruf"}) {
    if (!has_tag(t, key)) continue;
    for (auto& uri : split(tag(t, key), ','))
      if (lower(uri.substr(0, 7)) != "mailto:" || uri.find('@') == std::string::npos)
        return std::string(key) + "= must list mailto: addresses";
  }
  return "";
}

std::string mta_sts_problem(const std::string& txt) {
  auto t = tags(normalize_rdata("TXT", txt));
  if (t.empty() || t[0].first != "v" || t[0].second != "STSv1")
    return "does not start with v=STSv1";
  std::string id = tag(t, "id");
  if (id.empty() || id.size() > 32) return "id= must be 1 to 32 letters or digits";
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c))) return "id= must be letters or digits";
  return "";
}

std::string tlsrpt_problem(const std::string& txt) {
  auto t = tags(normalize_rdata("TXT", txt));
  if (t.empty() || t[0].first != "v" || t[0].second != "TLSRPTv1")
    return "does not start with v=TLSRPTv1";
  std::string rua = tag(t, "rua");
  if (rua.empty()) return "no rua= reporting address";
  for (auto& uri : split(rua, ','))
    if (lower(uri.substr(0, 7)) != "mailto:" && lower(uri.substr(0, 8)) != "https://")
      return "rua= must list mailto: or https: URIs";
  return "";
}

std::string caa_problem(const std::string& rdata) {
  auto w = words(rdata);
  if (w.size() < 3) return "a CAA record is: flags tag \"value\"";
  for (char c : w[0])
    if (!std::isdigit(static_cast<unsigned char>(c))) return "CAA flags must be a number";
  if (w[0].size() > 3 || std::stoi(w[0]) > 255) return "CAA flags must be 0 to 255";
  std::string t = lower(w[1]);
  if (t != "issue" && t != "issuewild" && t != "iodef") return "unknown CAA tag " + w[1];
  std::string value = rdata.substr(rdata.find(w[1]) + w[1].size());
  value = trim(value);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"')
    return "the CAA value must be quoted";
  return "";
}

std::string mx_problem(const std::string& rdata) {
  auto w = words(rdata);
  if (w.size() != 2) return "an MX record is: preference host";
  for (char c : w[0])
    if (!std::isdigit(static_cast<unsigned char>(c))) return "MX preference must be a number";
  if (w[0].size() > 5 || std::stol(w[0]) > 65535) return "MX preference must be 0 to 65535";
  if (!is_hostname(w[1])) return "MX host " + w[1] + " is not a host name";
  return "";
}

std::string dkim_key_problem(const std::string& txt) {
  auto t = tags(normalize_rdata("TXT", txt));
  if (!t.empty() && t[0].first == "v" && t[0].second != "DKIM1") return "v= must be DKIM1";
  if (has_tag(t, "v") && t[0].first != "v") return "v=DKIM1 must come first";
  std::string k = has_tag(t, "k") ? lower(tag(t, "k")) : "rsa";
  if (k != "rsa" && k != "ed25519") return "k=" + k + " is not rsa or ed25519";
  if (!has_tag(t, "p")) return "no p= public key";
  std::string p;
  for (char c : tag(t, "p"))
    if (!std::isspace(static_cast<unsigned char>(c))) p += c;
  if (p.empty()) return "p= is empty (the key is revoked)";
  try {
    std::string der = probe::base64_decode(p);
    if (k == "ed25519" && der.size() != 32) return "an ed25519 p= must be 32 bytes";
    if (k == "rsa" && der.size() < 128) return "the RSA key is too short";
  } catch (const std::exception&) {
    return "p= is not base64";
  }
  return "";
}

}  // namespace firstboot
