#include "dns_verify.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include "dns_names.h"

namespace firstboot::dns {

namespace {

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : " | ") + v;
  return out;
}

std::vector<std::string> soa_fields(const std::string& normalized) {
  std::istringstream in(normalized);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

// SOA: everything but the serial must match; the served serial must equal the expected one, or
// (DNSSEC inline signing bumps it) be newer.
bool soa_matches(const std::string& expected, const std::string& served, bool dnssec) {
  auto e = soa_fields(expected), s = soa_fields(served);
  if (e.size() != 7 || s.size() != 7) return expected == served;
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == 2) continue;
    if (e[i] != s[i]) return false;
  }
  std::uint32_t want = static_cast<std::uint32_t>(std::stoul(e[2]));
  std::uint32_t got = static_cast<std::uint32_t>(std::stoul(s[2]));
  if (!dnssec) return want == got;
  return got == want || static_cast<std::int32_t>(got - want) > 0;  // RFC 1982 arithmetic
}

std::string id_for(const std::string& fqdn, const std::string& type) {
  return "dns." + lowercase(fqdn) + "." + lowercase(type);
}

}  // namespace

std::string shorten(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  return text.substr(0, max - 3) + "...";
}

CheckResult compare_rrset(const std::string& fqdn, const std::string& type,
                          const std::vector<std::string>& expected, const Answer& answer,
                          const VerifyOptions& options) {
  CheckResult c = make_check(id_for(fqdn, type), "dns");
  if (!options.served_here) c.severity = CheckSeverity::warning;
  std::vector<std::string> want;
  for (const std::string& v : expected) {
    try {
      want.push_back(normalize_rdata(fqdn, type, v));
    } catch (const std::exception& e) {
      c.status = CheckStatus::fail;
      c.detail = e.what();
      return c;
    }
  }
  std::sort(want.begin(), want.end());
  const std::vector<std::string>& got = answer.values;
  bool same = want == got;
  if (!same && type == "SOA" && want.size() == 1 && got.size() == 1)
    same = soa_matches(want[0], got[0], options.dnssec);
  auto failed = [&](const std::string& detail) {
    c.status = options.served_here ? CheckStatus::fail : CheckStatus::warn;
    c.detail = detail;
    std::string values = join(expected);
    if (options.served_here)
      c.hint =
          "the server answers differently from the zone firstboot wrote: read its log and "
          "run `firstboot run --only dns --force`";
    else if (values.size() <= 200)
      c.hint = "add at your DNS provider: " + fqdn + " " + type + " " + values;
    else
      c.hint = "add at your DNS provider: " + fqdn + " " + type +
               " (the value is long: `firstboot dns-records --domain ...`)";
  };
  if (!answer.reached) {
    failed("no answer from " + options.server.describe() + ": " + answer.error);
    return c;
  }
  if (same) {
    c.detail = "present: " + shorten(join(got));
    return c;
  }
  if (got.empty()) {
    std::string why = answer.nxdomain        ? " (NXDOMAIN)"
                      : answer.error.empty() ? ""
                                             : " (" + answer.error + ")";
    failed("missing: no " + type + " at " + fqdn + why + "; expected " + shorten(join(want)));
    return c;
  }
  failed("different: expected " + shorten(join(want), 160) + "; served " + shorten(join(got), 160));
  return c;
}

std::vector<CheckResult> verify_records(const std::vector<DomainRecords>& sets, DnsClient& client,
                                        const VerifyOptions& options) {
  std::vector<CheckResult> checks;
  for (const DomainRecords& set : sets) {
    // Group the in-zone records by owner and type, in zone order.
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> groups;
    for (const ZoneRecord& r : set.records) {
      if (!r.in_zone) continue;
      auto key = std::make_pair(absolute_name(r.name, set.domain), r.type);
      if (!groups.count(key)) order.push_back(key);
      groups[key].push_back(r.value);
    }
    bool unreachable = false;
    Answer first;
    for (const auto& key : order) {
      auto start = std::chrono::steady_clock::now();
      Answer answer;
      if (unreachable) {
        answer = first;  // the server did not answer the SOA query: do not wait again per record
      } else {
        answer = client.query(key.first, key.second);
        if (!answer.reached) {
          unreachable = true;
          first = answer;
        }
      }
      CheckResult c = compare_rrset(key.first, key.second, groups[key], answer, options);
      c.duration_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      checks.push_back(std::move(c));
    }
    if (options.dnssec && options.served_here) {
      CheckResult c = make_check("dns." + lowercase(set.domain) + ".dnssec", "dns");
      Answer keys = unreachable ? first : client.query(set.domain, "DNSKEY", true);
      std::vector<std::string> ds;
      for (const ZoneRecord& r : set.records)
        if (r.type == "DS") ds.push_back(r.value);
      if (!keys.reached || keys.values.empty() || !keys.signed_) {
        c.status = CheckStatus::fail;
        c.detail = keys.reached ? "the zone is not signed yet (no signed DNSKEY answer)"
                                : "no answer: " + keys.error;
        c.hint =
            "named signs the zone shortly after loading it; run `firstboot run --only dns "
            "--force` again, or read named's log";
      } else if (ds.empty()) {
        c.status = CheckStatus::fail;
        c.detail = "signed, but no key-signing key found to derive the DS record from";
      } else {
        c.detail = "signed; give your registrar the DS record: " + set.domain + ". IN DS " + ds[0];
      }
      checks.push_back(std::move(c));
    }
  }
  return checks;
}

}  // namespace firstboot::dns
