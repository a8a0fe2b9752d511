#include "dns_records.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>
#include <sstream>

#include "crypto/keys.h"
#include "dns_names.h"
#include "engine/error.h"

namespace firstboot::dns {

namespace {

// SOA timers: refresh 1h, retry 15 min, expire 14 days, negative caching 5 min.
constexpr const char* kSoaTimers = "3600 900 1209600 300";
constexpr int kMtaStsMaxAge = 604800;  // one week (RFC 8461 suggests weeks)
constexpr std::size_t kMtaStsIdLength = 20;

ZoneRecord make(std::string name, std::string type, std::string value, std::string purpose) {
  ZoneRecord r;
  r.name = std::move(name);
  r.type = std::move(type);
  r.value = std::move(value);
  r.purpose = std::move(purpose);
  return r;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "" : address.substr(at + 1);
}

std::vector<std::string> tokens(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool is_number(const std::string& text, unsigned long max) {
  if (text.empty() || text.size() > 10) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return std::stoul(text) <= max;
}

// An absolute target name with its trailing dot ("." alone is the RFC 2782 "no service").
bool is_target(const std::string& text, bool allow_root = false) {
  if (allow_root && text == ".") return true;
  return text.size() > 1 && text.back() == '.' &&
         is_dns_name(std::string_view(text).substr(0, text.size() - 1), true);
}

bool is_owner(const std::string& name) {
  if (name == "@") return true;
  if (!name.empty() && name.back() == '.') return is_target(name);
  return is_dns_name(name, true);
}

// An SOA RNAME: labels where the first may contain "\." escapes.
bool is_mailbox_name(const std::string& text) {
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '.') {
      plain += '-';  // an escaped dot stands inside a label
      ++i;
    } else {
      plain += text[i];
    }
  }
  std::replace(plain.begin(), plain.end(), '+', '-');
  return is_target(plain);
}

std::string acme_host(const std::string& url) {
  std::string rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) rest = rest.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return "";  // an IPv6 literal: a local test CA
  return lowercase(rest.substr(0, rest.find(':')));
}

}  // namespace

std::string spf_value(const Profile& profile) {
  std::string out = "v=spf1";
  bool relay_mode = profile.mode == MailMode::relay;
  if (!relay_mode) out += " mx";
  bool soft = false;
  if (profile.relay && !profile.relay->spf_include.empty()) {
    out += " include:" + profile.relay->spf_include;
  } else if (relay_mode && profile.relay) {
    // Without the provider's published include, its submission host is the best guess; a soft
    // fail keeps mail flowing if the provider sends from other addresses.
    out += " a:" + profile.relay->host;
    soft = true;
  }
  return out + (soft ? " ~all" : " -all");
}

std::string dmarc_value(const Domain& domain) {
  std::string out = "v=DMARC1; p=" + domain.dmarc.policy;
  if (!domain.dmarc.rua.empty()) out += "; rua=mailto:" + domain.dmarc.rua;
  return out;
}

std::string tls_rpt_value(const Profile& profile, const Domain& domain) {
  std::string to = !domain.dmarc.rua.empty() ? domain.dmarc.rua : profile.admin_email;
  if (to.empty()) return "";
  return "v=TLSRPTv1; rua=mailto:" + to;
}

std::string mta_sts_mode(const Profile& profile) {
  // Senders validate the MX certificate against public CAs: a self-signed one would make an
  // enforcing sender refuse delivery, so self-signed hosts only report (testing).
  return profile.tls.source == "self-signed" ? "testing" : "enforce";
}

std::string mta_sts_policy(const Profile& profile) {
  return "version: STSv1\r\nmode: " + mta_sts_mode(profile) + "\r\nmx: " + profile.hostname +
         "\r\nmax_age: " + std::to_string(kMtaStsMaxAge) + "\r\n";
}

std::string mta_sts_id(const std::string& policy) {
  return sha256_hex(policy).substr(0, kMtaStsIdLength);
}

std::string caa_issuer(const TlsSettings& tls, std::string* why) {
  auto say = [&](const std::string& text) {
    if (why) *why = text;
    return std::string();
  };
  if (tls.source == "self-signed")
    return say(
        "no CAA record: a self-signed certificate comes from no CA, and a CAA record that forbids "
        "every CA would block a later ACME certificate");
  if (tls.source == "provided")
    return say(
        "no CAA record: firstboot does not know which CA issued the provided certificate; add "
        "`0 issue \"<your CA's domain>\"` yourself if you want one");
  std::string host =
      acme_host(tls.acme_directory.empty() ? "https://acme-v02.api.letsencrypt.org/directory"
                                           : tls.acme_directory);
  struct Known {
    const char* suffix;
    const char* caa;
  };
  static const Known known[] = {{"letsencrypt.org", "letsencrypt.org"},
                                {"zerossl.com", "sectigo.com"},
                                {"sectigo.com", "sectigo.com"},
                                {"buypass.com", "buypass.com"},
                                {"buypass.no", "buypass.com"},
                                {"pki.goog", "pki.goog"},
                                {"ssl.com", "ssl.com"},
                                {"digicert.com", "digicert.com"}};
  for (const Known& k : known)
    if (in_zone(host, k.suffix)) return k.caa;
  return say("no CAA record: the ACME directory " + (host.empty() ? tls.acme_directory : host) +
             " is not a CA firstboot knows; add `0 issue \"<its CAA domain>\"` yourself");
}

std::uint32_t next_serial(std::uint32_t previous, std::uint32_t yyyymmdd) {
  std::uint32_t first_today = yyyymmdd * 100 + 1;
  if (previous < first_today) return first_today;
  return previous == UINT32_MAX ? 1 : previous + 1;
}

std::uint32_t today_yyyymmdd() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
                                    tm.tm_mday);
}

std::string soa_value(const std::string& primary_ns, const std::string& admin_email,
                      std::uint32_t serial) {
  return primary_ns + ". " + soa_mailbox(admin_email) + " " + std::to_string(serial) + " " +
         kSoaTimers;
}

void set_serial(DomainRecords& records, std::uint32_t serial) {
  for (ZoneRecord& r : records.records) {
    if (r.type != "SOA") continue;
    auto t = tokens(r.value);
    if (t.size() != 7) throw Error("internal: malformed SOA " + r.value);
    t[2] = std::to_string(serial);
    r.value = t[0];
    for (std::size_t i = 1; i < t.size(); ++i) r.value += " " + t[i];
  }
  records.serial = serial;
}

void place_records(DomainRecords& set) {
  std::string ns_target;
  for (const ZoneRecord& r : set.records)
    if (r.type == "NS" && r.name == "@") ns_target = r.value;
  std::string glue_owner =
      ns_target.empty() ? "" : relative_name(ns_target.substr(0, ns_target.size() - 1), set.domain);
  for (ZoneRecord& r : set.records) {
    r.in_zone = r.type != "DS";
    if (set.serve == "none") {
      r.at_registrar = r.type != "SOA" && r.type != "NS";
    } else {
      bool delegation = r.type == "NS" && r.name == "@";
      bool glue = (r.type == "A" || r.type == "AAAA") && r.name == glue_owner;
      r.at_registrar = r.type == "DS" || delegation || glue;
    }
  }
}

std::string record_problem(const ZoneRecord& r) {
  auto bad = [&](const std::string& what) {
    return r.type + " record " + r.name + ": " + what + " (value '" + r.value + "')";
  };
  if (!is_owner(r.name)) return bad("not a valid owner name");
  if (r.ttl < 0) return bad("negative TTL");
  if (r.type != "TXT") {
    // Built from checked names and numbers only, in canonical form: single spaces, printable.
    for (unsigned char c : r.value)
      if (c < 0x20 || c >= 0x7f) return bad("control or non-ASCII character");
    if (r.value.empty() || r.value.front() == ' ' || r.value.back() == ' ' ||
        r.value.find("  ") != std::string::npos)
      return bad("not in canonical form");
  }
  auto t = tokens(r.value);
  if (r.type == "TXT") {
    std::string why = txt_value_problem(r.value);
    return why.empty() ? "" : bad(why);
  }
  // Every other type is built from checked names and numbers only: no quote, brace, semicolon
  // or backslash may appear (the CAA value and the SOA mailbox are checked on their own).
  if (r.type == "A") return canonical_ipv4(r.value) == r.value ? "" : bad("not an IPv4 address");
  if (r.type == "AAAA") return canonical_ipv6(r.value) == r.value ? "" : bad("not an IPv6 address");
  if (r.type == "NS" || r.type == "CNAME")
    return t.size() == 1 && is_target(t[0]) ? "" : bad("not an absolute name");
  if (r.type == "MX")
    return t.size() == 2 && is_number(t[0], 65535) && is_target(t[1], true) ? ""
                                                                            : bad("malformed MX");
  if (r.type == "SRV")
    return t.size() == 4 && is_number(t[0], 65535) && is_number(t[1], 65535) &&
                   is_number(t[2], 65535) && is_target(t[3], true)
               ? ""
               : bad("malformed SRV");
  if (r.type == "CAA") {
    if (t.size() != 3 || !is_number(t[0], 255) ||
        (t[1] != "issue" && t[1] != "issuewild" && t[1] != "iodef"))
      return bad("malformed CAA");
    const std::string& v = t[2];
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return bad("CAA value not quoted");
    std::string inner = v.substr(1, v.size() - 2);
    bool ok = std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view(".-_:;@/=+").find(c) != std::string_view::npos;
    });
    return ok ? "" : bad("CAA value has characters outside [A-Za-z0-9.-_:;@/=+]");
  }
  if (r.type == "SOA") {
    if (t.size() != 7 || !is_target(t[0]) || !is_mailbox_name(t[1])) return bad("malformed SOA");
    for (std::size_t i = 2; i < 7; ++i)
      if (!is_number(t[i], UINT32_MAX)) return bad("malformed SOA number");
    return "";
  }
  if (r.type == "DS") {
    if (t.size() != 4 || !is_number(t[0], 65535) || !is_number(t[1], 255) ||
        !is_number(t[2], 255) || !std::all_of(t[3].begin(), t[3].end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c));
        }))
      return bad("malformed DS");
    return "";
  }
  return bad("unsupported record type");
}

std::vector<DomainRecords> build_records(const Profile& profile, const RecordInputs& in) {
  const std::string& host = profile.hostname;
  std::string host_zone;
  for (const Domain& d : profile.domains)
    if (in_zone(host, d.name) && d.name.size() > host_zone.size()) host_zone = d.name;
  const bool relay_mode = profile.mode == MailMode::relay;
  const std::string admin = is_safe_email(profile.admin_email) ? profile.admin_email : "";

  std::vector<DomainRecords> out;
  std::map<std::string, std::vector<ZoneRecord>> extra;  // cross-zone records by zone
  for (const Domain& d : profile.domains) {
    DomainRecords set;
    set.domain = d.name;
    set.serve = profile.dns.serve;
    if (auto it = in.verification_tokens.find(d.name); it != in.verification_tokens.end())
      set.verification_token = it->second;
    auto add = [&](std::string name, std::string type, std::string value, std::string purpose) {
      set.records.push_back(
          make(std::move(name), std::move(type), std::move(value), std::move(purpose)));
    };

    add("@", "SOA", soa_value(host, admin.empty() ? "hostmaster@" + d.name : admin, 0),
        "zone authority");
    add("@", "NS", host + ".", "name server (this host)");

    if (lowercase(host_zone) == lowercase(d.name)) {
      std::string owner = relative_name(host, d.name);
      if (!in.ipv4.empty()) add(owner, "A", in.ipv4, "mail host address");
      if (!in.ipv6.empty()) add(owner, "AAAA", in.ipv6, "mail host address");
      if (in.ipv4.empty() && in.ipv6.empty())
        set.notes.push_back("no public address is known for " + host +
                            ": its A/AAAA records are not published; set public_ipv4 / "
                            "public_ipv6 in the profile");
      else if (in.address_source == "sandbox")
        set.notes.push_back("sandbox: " + host + " A " + in.ipv4 +
                            " (the profile sets no public_ipv4; a real run needs the public one)");
      else if (!in.address_source.empty() && in.address_source != "profile")
        set.notes.push_back(host + ": address " + in.address_source +
                            "; set public_ipv4 / public_ipv6 in the profile if that is wrong");
    } else if (host_zone.empty()) {
      set.notes.push_back(host +
                          " is in no zone of this profile: publish its A/AAAA records in "
                          "its own zone");
    }

    if (!relay_mode)
      add("@", "MX", "10 " + host + ".", "mail exchanger");
    else
      set.notes.push_back(
          "relay mode: this host receives no mail, so no MX, MTA-STS, TLS-RPT or "
          "SRV records; keep the domain's existing MX");
    add("@", "TXT", spf_value(profile), "spf");
    if (relay_mode && profile.relay && profile.relay->spf_include.empty())
      set.notes.push_back("SPF names the smarthost " + profile.relay->host +
                          " with ~all; set relay.spf_include to the provider's SPF include");

    for (const DkimPublicKey& key : in.dkim) {
      if (lowercase(key.domain) != lowercase(d.name)) continue;
      if (key.txt.empty()) {
        set.notes.push_back("DKIM key " + key.selector + " (" + key.algorithm +
                            ") does not exist yet: it is created on the first run");
        continue;
      }
      add(key.selector + "._domainkey", "TXT", key.txt,
          "dkim " + key.algorithm + " (selector " + key.selector + ")");
    }

    add("_dmarc", "TXT", dmarc_value(d), "dmarc");
    if (!d.dmarc.rua.empty()) {
      std::string rua_domain = domain_of(d.dmarc.rua);
      if (!in_zone(rua_domain, d.name)) {
        bool ours = false;
        for (const Domain& other : profile.domains)
          if (lowercase(other.name) == lowercase(rua_domain)) ours = true;
        if (ours)
          extra[lowercase(rua_domain)].push_back(
              make(d.name + "._report._dmarc", "TXT", "v=DMARC1",
                   "dmarc reports for " + d.name + " may go to " + rua_domain));
        else
          set.notes.push_back("DMARC reports go to " + rua_domain + ", which must publish " +
                              d.name + "._report._dmarc." + rua_domain +
                              " TXT \"v=DMARC1\" (RFC 7489 7.1)");
      }
    }

    if (!relay_mode) {
      set.mta_sts_policy = mta_sts_policy(profile);
      if (relative_name(host, d.name) != "mta-sts")
        add("mta-sts", "CNAME", host + ".", "mta-sts policy host");
      add("_mta-sts", "TXT", "v=STSv1; id=" + mta_sts_id(set.mta_sts_policy), "mta-sts");
      set.notes.push_back("MTA-STS (mode " + mta_sts_mode(profile) +
                          "): serve the policy file over HTTPS at https://mta-sts." + d.name +
                          "/.well-known/mta-sts.txt with a certificate for mta-sts." + d.name);
      if (std::string rpt = tls_rpt_value(profile, d); !rpt.empty())
        add("_smtp._tls", "TXT", rpt, "tls-rpt");
    }

    std::string why;
    if (std::string ca = caa_issuer(profile.tls, &why); !ca.empty()) {
      add("@", "CAA", "0 issue \"" + ca + "\"", "caa: only " + ca + " may issue certificates");
      if (!admin.empty())
        add("@", "CAA", "0 iodef \"mailto:" + admin + "\"", "caa: where CAs report problems");
    } else {
      set.notes.push_back(why);
    }

    if (profile.mode == MailMode::full) {
      const Ports& p = in.ports;
      add("_submission._tcp", "SRV", "0 1 " + std::to_string(p.submission) + " " + host + ".",
          "rfc6186 submission");
      add("_imaps._tcp", "SRV", "0 1 " + std::to_string(p.imaps) + " " + host + ".",
          "rfc6186 imaps");
      add("_pop3s._tcp", "SRV", "0 1 " + std::to_string(p.pop3s) + " " + host + ".",
          "rfc6186 pop3s");
    }

    if (!set.verification_token.empty())
      add("_mail-verification", "TXT", "firstboot-verification=" + set.verification_token,
          "ownership verification");
    else
      set.notes.push_back("the ownership verification token is created on the first run");
    out.push_back(std::move(set));
  }

  for (DomainRecords& set : out) {
    for (ZoneRecord& r : extra[lowercase(set.domain)]) set.records.push_back(std::move(r));
    place_records(set);
    for (const ZoneRecord& r : set.records)
      if (std::string why = record_problem(r); !why.empty())
        throw Error("dns: refusing to publish for " + set.domain + ": " + why);
  }
  return out;
}

}  // namespace firstboot::dns
