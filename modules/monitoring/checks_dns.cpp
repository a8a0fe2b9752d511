// DNS probes, one per domain: every record the dns module planned is served with the planned
// value, and the mail records (MX, SPF, DMARC, MTA-STS, TLS-RPT, CAA, DKIM) are well formed. The
// DKIM record must also hold the public half of the key OpenDKIM signs with.
#include <fmt/format.h>

#include <algorithm>

#include "checks.h"
#include "crypto/dkim_keys.h"
#include "dns_expectations.h"
#include "probe/dns.h"

namespace firstboot {

namespace {

using probe::Deadline;
using probe::ProbeError;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Which check a planned record belongs to.
std::string kind_of(const ExpectedRecord& r) {
  std::string type = upper(r.type);
  std::string name = lower(r.name);
  std::string value = lower(normalize_rdata(type, r.value));
  bool apex = name == "@" || name.empty() || name == lower(r.domain) + ".";
  if (type == "MX" && apex) return "mx";
  if (type == "TXT" && apex && value.rfind("v=spf1", 0) == 0) return "spf";
  if (type == "TXT" && name == "_dmarc") return "dmarc";
  if (type == "TXT" && name == "_mta-sts") return "mta-sts";
  if (type == "TXT" && name == "_smtp._tls") return "tls-rpt";
  if (type == "CAA" && apex) return "caa";
  auto dk = name.find("._domainkey");
  if (type == "TXT" && dk != std::string::npos && dk + 11 == name.size())
    return "dkim." + r.name.substr(0, dk);
  return "records";
}

std::string problem_for(const std::string& kind, const std::string& value) {
  if (kind == "mx") return mx_problem(value);
  if (kind == "spf") return spf_problem(value);
  if (kind == "dmarc") return dmarc_problem(value);
  if (kind == "mta-sts") return mta_sts_problem(value);
  if (kind == "tls-rpt") return tlsrpt_problem(value);
  if (kind == "caa") return caa_problem(value);
  if (kind.rfind("dkim.", 0) == 0) return dkim_key_problem(value);
  return "";
}

const char* what_of(const std::string& kind) {
  if (kind == "mx") return "MX";
  if (kind == "spf") return "SPF";
  if (kind == "dmarc") return "DMARC";
  if (kind == "mta-sts") return "MTA-STS";
  if (kind == "tls-rpt") return "TLS-RPT";
  if (kind == "caa") return "CAA";
  if (kind.rfind("dkim.", 0) == 0) return "DKIM key";
  return "other";
}

}  // namespace

void add_dns_probes(const std::shared_ptr<const CheckEnvironment>& env,
                    std::vector<ProbeSpec>& probes) {
  const MonitorConfig& c = env->config;
  CheckSeverity severity = c.dns_served ? CheckSeverity::required : CheckSeverity::warning;
  std::string publish_hint =
      c.dns_served ? "the zone is out of date: `firstboot run` reloads it; compare with "
                     "`firstboot dns-records`"
                   : "publish the records printed by `firstboot dns-records` at your DNS provider";
  for (auto& domain : c.domains) {
    // The checks this domain gets: the mail records always, others when planned.
    std::vector<std::string> kinds = {"spf", "dmarc", "caa"};  // CAA only when planned
    if (c.mode != "relay") kinds.insert(kinds.begin(), "mx");
    if (c.mode != "relay") kinds.push_back("mta-sts");
    for (auto& s : domain.dkim) kinds.push_back("dkim." + s.selector);
    std::vector<ExpectedRecord> rows;
    for (auto& r : c.dns_records)
      // The SOA serial changes with every zone update: its presence is what matters, and any
      // other record answering proves the zone is served.
      if (lower(r.domain) == lower(domain.name) && upper(r.type) != "SOA") rows.push_back(r);
    for (auto& r : rows) {
      std::string k = kind_of(r);
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
    }
    ProbeSpec spec;
    spec.name = "dns " + domain.name;
    spec.timeout = env->timeout;
    for (auto& k : kinds)
      spec.checks.push_back({"dns." + domain.name + "." + k, "dns", severity, publish_hint});
    spec.run = [env, domain, rows, kinds](Deadline deadline, CheckSink& sink) {
      const MonitorConfig& c = env->config;
      probe::DnsServer ns = probe::parse_dns_server(c.dns_server);
      std::string unreachable;  // the first check that could not reach the server
      for (auto& kind : kinds) {
        std::string id = "dns." + domain.name + "." + kind;
        if (!unreachable.empty()) {
          sink.skip(id, unreachable + " failed: " + ns.describe() + " does not answer");
          continue;
        }
        std::vector<ExpectedRecord> planned;
        for (auto& r : rows)
          if (kind_of(r) == kind) planned.push_back(r);
        if (planned.empty() && kind == "caa") {
          sink.skip(id,
                    "the dns module plans no CAA record for this tls.source (see the notes "
                    "of `firstboot dns-records`)");
          continue;
        }
        if (planned.empty()) {
          sink.fail(id, std::string("no ") + what_of(kind) + " record planned for " + domain.name,
                    "run `firstboot run`: the dns module plans the records");
          continue;
        }
        std::string failure;
        std::vector<std::string> seen;
        for (auto& r : planned) {
          std::string owner = owner_fqdn(domain.name, r.name);
          std::string type = upper(r.type);
          probe::DnsAnswer answer;
          try {
            answer =
                probe::dns_query(ns, owner, type, deadline.within(std::chrono::milliseconds(1500)));
          } catch (const ProbeError& e) {
            failure = e.what();
            unreachable = id;
            break;
          }
          if (!answer.ok()) {
            failure = owner + " " + type + ": " + answer.rcode + " from " + ns.describe();
            break;
          }
          std::string want = normalize_rdata(type, r.value);
          auto match = std::find_if(
              answer.records.begin(), answer.records.end(),
              [&](const std::string& got) { return normalize_rdata(type, got) == want; });
          if (match == answer.records.end()) {
            std::string served =
                answer.records.empty()
                    ? "nothing"
                    : "'" + normalize_rdata(type, answer.records.front()).substr(0, 60) + "'";
            failure =
                owner + " " + type + " does not serve the planned value (serves " + served + ")";
            break;
          }
          if (std::string p = problem_for(kind, *match); !p.empty()) {
            failure = owner + " " + type + ": " + p;
            break;
          }
          if (kind == "spf" && records_starting_with(answer.records, "v=spf1").size() > 1) {
            failure = owner + " has more than one SPF record (receivers then ignore SPF)";
            break;
          }
          if (kind.rfind("dkim.", 0) == 0) {
            std::string selector = kind.substr(5);
            for (auto& s : domain.dkim) {
              if (s.selector != selector) continue;
              std::string on_disk;
              try {
                on_disk = dkim_txt_value(DkimKey{domain.name, s.selector, s.algorithm, s.key_file});
              } catch (const std::exception& e) {
                failure = std::string("cannot read the signing key: ") + e.what();
              }
              if (failure.empty() && !on_disk.empty() &&
                  normalize_rdata("TXT", on_disk) != normalize_rdata("TXT", *match))
                failure = owner + " publishes a key that is not the one OpenDKIM signs with (" +
                          s.key_file + ")";
            }
            if (!failure.empty()) break;
          }
          if (kind == "mx") {
            auto words = normalize_rdata("MX", *match);
            std::string host = words.substr(words.find(' ') + 1);
            bool has_address = false;
            for (const char* t : {"A", "AAAA"}) {
              try {
                auto a =
                    probe::dns_query(ns, host, t, deadline.within(std::chrono::milliseconds(1500)));
                has_address = has_address || !a.records.empty();
              } catch (const ProbeError&) {
              }
            }
            if (!has_address) {
              failure = "the MX host " + host + " has no A or AAAA record";
              break;
            }
          }
          seen.push_back(owner + " " + type);
        }
        if (!failure.empty())
          sink.fail(id, failure);
        else
          sink.pass(id, planned.size() == 1
                            ? seen.front() + " served and well formed"
                            : fmt::format("{} records served as planned", planned.size()));
      }
    };
    probes.push_back(std::move(spec));
  }
}

}  // namespace firstboot
