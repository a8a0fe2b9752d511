#include "dns_module.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/dkim_keys.h"
#include "dns_client.h"
#include "dns_names.h"
#include "dns_records.h"
#include "dns_records_export.h"
#include "dns_verify.h"
#include "engine/error.h"
#include "profile/profile_loader.h"
#include "record_sources.h"
#include "store/store.h"
#include "zone_server.h"
#include "zone_text.h"

namespace firstboot {

namespace {

using namespace dns;
namespace fs = std::filesystem;

constexpr auto kDsWait = std::chrono::seconds(10);
constexpr auto kServeWait = std::chrono::seconds(20);
constexpr auto kQueryTimeout = std::chrono::milliseconds(1500);

const DomainRecords* find_set(const std::vector<DomainRecords>& sets, const std::string& domain) {
  for (const DomainRecords& s : sets)
    if (lowercase(s.domain) == lowercase(domain)) return &s;
  return nullptr;
}

std::vector<std::string> ds_values(const DomainRecords* set) {
  std::vector<std::string> out;
  if (set)
    for (const ZoneRecord& r : set->records)
      if (r.type == "DS") out.push_back(r.value);
  return out;
}

bool has_address_record(const DomainRecords& set, const std::string& host) {
  std::string owner = relative_name(host, set.domain);
  for (const ZoneRecord& r : set.records)
    if ((r.type == "A" || r.type == "AAAA") && r.name == owner) return true;
  return false;
}

std::string first_lines(const std::string& text, std::size_t max_lines = 4) {
  std::string out;
  std::size_t lines = 0, at = 0;
  while (at < text.size() && lines < max_lines) {
    std::size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (!line.empty()) {
      out += (out.empty() ? "" : " / ") + line;
      ++lines;
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out.empty() ? "(no output)" : out;
}

class DnsModule : public Module {
 public:
  explicit DnsModule(ToolRunner run) : run_(std::move(run)) {}

  ModuleInfo info() const override {
    return {"dns",
            8,
            {"tls-certificates"},
            {"dns-zone"},
            "DNS records for the mail domains, served by BIND or NSD or printed for the "
            "registrar"};
  }

  void check_profile(const Profile& p, std::vector<ProfileIssue>& issues) const override {
    std::size_t before = issues.size();
    auto add = [&](const std::string& field, const std::string& message) {
      issues.push_back({p.source_file, 0, 0, field, message});
    };
    const std::string& serve = p.dns.serve;
    if (serve != "bind" && serve != "nsd" && serve != "none")
      add("dns.serve", "must be bind, nsd or none, not '" + serve + "'");
    if (p.dns.dnssec && serve != "bind")
      add("dns.dnssec", "DNSSEC signing needs dns.serve: bind (it uses BIND's dnssec-policy)");
    if (!p.dns.resolver.empty() && !parse_server_address(p.dns.resolver, nullptr))
      add("dns.resolver",
          "'" + p.dns.resolver + "' is not an address or name with an optional :port");
    if (!p.public_ipv4.empty() && canonical_ipv4(p.public_ipv4).empty())
      add("public_ipv4", "'" + p.public_ipv4 + "' is not an IPv4 address");
    if (!p.public_ipv6.empty() && canonical_ipv6(p.public_ipv6).empty())
      add("public_ipv6", "'" + p.public_ipv6 + "' is not an IPv6 address");
    if (!is_dns_name(p.hostname, false, 2))
      add("hostname",
          "cannot go into a DNS zone: use letters, digits and hyphens in dot-separated "
          "labels of at most 63 characters, at least two labels");
    if (!p.admin_email.empty() && !is_safe_email(p.admin_email))
      add("admin_email",
          "cannot be published in DNS records (SOA, TLS-RPT, CAA iodef): use "
          "letters, digits and . _ + - before the @");
    for (std::size_t i = 0; i < p.domains.size(); ++i) {
      const Domain& d = p.domains[i];
      std::string f = "domains[" + std::to_string(i) + "]";
      if (!is_dns_name(d.name, false, 2))
        add(f + ".name", "'" + d.name +
                             "' cannot be a DNS zone name (letters, digits, hyphens; "
                             "at least two labels)");
      // The Ed25519 key uses "<selector>-ed25519", which must still be a valid label.
      if (!is_dns_name(d.dkim.selector, false, 1) ||
          !is_dns_name(d.dkim.selector + "-ed25519", false, 1))
        add(f + ".dkim.selector",
            "'" + d.dkim.selector +
                "' cannot be a DKIM selector: use "
                "letters, digits and hyphens, at most 55 characters per label");
      for (std::size_t a = 0; a < d.dkim.algorithms.size(); ++a)
        if (d.dkim.algorithms[a] != "rsa-2048" && d.dkim.algorithms[a] != "ed25519")
          add(f + ".dkim.algorithms[" + std::to_string(a) + "]",
              "must be rsa-2048 or ed25519, not '" + d.dkim.algorithms[a] + "'");
      const std::string& policy = d.dmarc.policy;
      if (policy != "none" && policy != "quarantine" && policy != "reject")
        add(f + ".dmarc.policy", "must be none, quarantine or reject, not '" + policy + "'");
      if (!d.dmarc.rua.empty() && !is_safe_email(d.dmarc.rua))
        add(f + ".dmarc.rua", "'" + d.dmarc.rua +
                                  "' cannot be published in a DMARC record: use "
                                  "letters, digits and . _ + - before the @");
    }
    if (p.relay) {
      if (!p.relay->spf_include.empty() && !is_dns_name(p.relay->spf_include, true, 2))
        add("relay.spf_include", "'" + p.relay->spf_include + "' is not a DNS name for SPF");
      if (p.mode == MailMode::relay && !is_dns_name(p.relay->host, false, 2))
        add("relay.host", "'" + p.relay->host + "' is not a host name");
    }
    if (issues.size() != before) return;
    // Whatever else the builder refuses is a profile problem too, found before anything changes.
    try {
      RecordInputs in;
      in.ports = p.sandbox_ports;
      build_records(p, in);
    } catch (const std::exception& e) {
      add("domains", e.what());
    }
  }

  void apply(ModuleContext& ctx) override {
    const Profile& p = ctx.profile;
    {
      auto step = ctx.step("dkim keys");
      for (const DkimKey& key : dkim_keys_for(p, ctx.layout))
        if (ensure_dkim_key(ctx.files, key))
          ctx.log.info("{}: DKIM key {} ({}) {}", key.domain, key.selector, key.algorithm,
                       ctx.dry_run ? "would be created" : "created");
    }

    std::vector<DomainRecords> applied;
    try {
      applied = applied_dns_records(ctx.layout);
    } catch (const std::exception& e) {
      ctx.log.warn("{}; zone serials start afresh", e.what());
    }
    std::map<std::string, std::string> tokens;
    for (const DomainRecords& s : applied)
      if (!s.verification_token.empty()) tokens[s.domain] = s.verification_token;

    Store& store = ctx.store();
    std::vector<DomainRecords> sets;
    {
      auto step = ctx.step("build records");
      sets = build_records(p, gather_inputs(p, ctx.layout, &store, tokens));
      assign_serials(sets, applied, ctx.templates, today_yyyymmdd());
    }
    for (const DomainRecords& s : sets) {
      const DomainRecords* before = find_set(applied, s.domain);
      bool changed = !before || before->serial != s.serial;
      if (changed)
        ctx.log.info("{}: {} records, zone serial {}", s.domain, s.records.size(), s.serial);
      for (const std::string& note : s.notes) {
        if (changed)
          ctx.log.info("{}: note: {}", s.domain, note);
        else
          ctx.log.debug("{}: note: {}", s.domain, note);
      }
    }

    std::vector<std::string> dropped;
    for (const DomainRecords& s : applied)
      if (!find_set(sets, s.domain)) dropped.push_back(s.domain);

    write_mta_sts_policies(ctx, sets, dropped);

    std::string previous_serve = applied.empty() ? "" : applied.front().serve;
    if (!previous_serve.empty() && previous_serve != p.dns.serve) {
      if (auto old = make_zone_server(previous_serve)) {
        if (!ctx.dry_run) ctx.services.stop({old->service_name()});
        ctx.services_changed.push_back(old->service_name() +
                                       (ctx.dry_run ? ":would_stop" : ":stopped"));
        ctx.log.info("service {}: stopped (dns.serve is now {})", old->service_name(), p.dns.serve);
      }
    }

    auto server = make_zone_server(p.dns.serve);
    if (server) serve(ctx, *server, sets, dropped);
    if (server && p.dns.dnssec) add_ds_records(ctx, sets, applied);

    if (!ctx.dry_run) {
      auto step = ctx.step("store records");
      for (const DomainRecords& s : sets) {
        std::vector<DnsRecordRow> rows;
        for (const ZoneRecord& r : s.records)
          rows.push_back({s.domain, r.name, r.type, r.ttl, r.value, r.purpose});
        store.put_dns_records(s.domain, "dns", rows);
      }
      for (const std::string& d : dropped) store.put_dns_records(d, "dns", {});
    }
    ctx.files.ensure_directory(ctx.path("/var/lib/firstboot/dns"), FileAttrs{0750, "", ""});
    ctx.files.write(ctx.path(kStateFile), state_json(sets).dump(2) + "\n", FileAttrs{0640, "", ""});
  }

  std::vector<CheckResult> validate(ModuleContext& ctx) override {
    const Profile& p = ctx.profile;
    std::vector<DomainRecords> sets = applied_dns_records(ctx.layout);
    std::vector<CheckResult> checks;
    if (ctx.layout.target() == Target::offline) {
      CheckResult c = make_check("dns.zones", "dns");
      c.detail = std::to_string(sets.size()) +
                 " zone(s) written for an offline image; they are served and checked on first "
                 "boot";
      checks.push_back(c);
      return checks;
    }
    VerifyOptions options;
    if (p.dns.serve == "none") {
      options.served_here = false;
      if (!p.dns.resolver.empty()) parse_server_address(p.dns.resolver, &options.server);
    } else {
      options.server = {"127.0.0.1", ctx.ports().dns};
      options.dnssec = p.dns.dnssec;
    }
    DnsClient client(options.server, kQueryTimeout);
    checks = verify_records(sets, client, options);

    for (const DomainRecords& s : sets) {
      if (in_zone(p.hostname, s.domain) && !has_address_record(s, p.hostname)) {
        CheckResult c = make_check("dns." + lowercase(s.domain) + ".address", "dns");
        c.severity = CheckSeverity::warning;
        c.status = CheckStatus::warn;
        c.detail = "no A/AAAA record for " + p.hostname + ": its public address is unknown";
        c.hint = "set public_ipv4 / public_ipv6 in the profile";
        checks.push_back(c);
      }
      if (s.mta_sts_policy.empty()) continue;
      CheckResult c = make_check("dns." + lowercase(s.domain) + ".mta-sts-policy", "dns");
      fs::path file = ctx.path(mta_sts_policy_path(s.domain));
      std::error_code ec;
      if (fs::exists(file, ec) && read_file(file) == s.mta_sts_policy) {
        c.detail = "policy file " + file.string() + " matches the _mta-sts id";
      } else {
        c.status = CheckStatus::fail;
        c.detail = "policy file " + file.string() + " is missing or differs";
        c.hint = "run `firstboot run --only dns --force`";
      }
      checks.push_back(c);
    }
    return checks;
  }

 private:
  void write_mta_sts_policies(ModuleContext& ctx, const std::vector<DomainRecords>& sets,
                              const std::vector<std::string>& dropped) {
    auto step = ctx.step("mta-sts policy files");
    for (const DomainRecords& s : sets) {
      fs::path file = ctx.path(mta_sts_policy_path(s.domain));
      if (s.mta_sts_policy.empty()) {
        ctx.files.remove(file);
        continue;
      }
      ctx.files.ensure_directory(file.parent_path(), FileAttrs{0755, "", ""});
      ctx.files.write(file, s.mta_sts_policy, FileAttrs{0644, "", ""});
    }
    for (const std::string& d : dropped) ctx.files.remove(ctx.path(mta_sts_policy_path(d)));
  }

  void serve(ModuleContext& ctx, const ZoneServer& server, const std::vector<DomainRecords>& sets,
             const std::vector<std::string>& dropped) {
    auto step = ctx.step("zones for " + server.kind());
    const std::string& host = ctx.profile.hostname;
    for (const DomainRecords& s : sets)
      if (in_zone(host, s.domain) && !has_address_record(s, host))
        throw Error("dns.serve " + server.kind() + ": " + host + " is the name server of " +
                    s.domain +
                    " but its address is unknown; set public_ipv4 / public_ipv6 in "
                    "the profile");

    std::size_t checkpoint = ctx.files.checkpoint();
    server.prepare(ctx);
    std::vector<std::string> changed_zones;
    bool zones_removed = false;
    for (const DomainRecords& s : sets) {
      FileChange change =
          ctx.files.write(ctx.path(server.zone_path(s.domain)), zone_text(s, false, ctx.templates),
                          FileAttrs{0644, "", ""});
      if (change != FileChange::unchanged) changed_zones.push_back(s.domain);
    }
    for (const std::string& d : dropped)
      zones_removed |= ctx.files.remove(ctx.path(server.zone_path(d))) != FileChange::unchanged;
    bool config_changed =
        ctx.files.write(ctx.path(server.config_path()), server.render_config(ctx, sets),
                        FileAttrs{0644, "", ""}) != FileChange::unchanged;
    bool zones_changed = zones_removed || !changed_zones.empty();

    if (!ctx.dry_run && (zones_changed || config_changed)) {
      auto check_step = ctx.step("check " + server.kind() + " config and zones");
      std::string failure;
      for (const std::string& d : changed_zones) {
        ToolResult r = run_(server.check_zone_command(ctx, d));
        if (!r.ok()) {
          failure = server.check_zone_command(ctx, d).front() + " rejected the zone " + d + ": " +
                    first_lines(r.output);
          break;
        }
      }
      if (failure.empty()) {
        ToolResult r = run_(server.check_config_command(ctx));
        if (!r.ok())
          failure = server.check_config_command(ctx).front() + " rejected " + server.config_path() +
                    ": " + first_lines(r.output);
      }
      if (!failure.empty()) {
        ctx.files.rollback_to(checkpoint);
        throw Error(failure +
                    " (nothing was loaded: the previous files were restored and keep "
                    "serving)");
      }
      for (const std::string& d : changed_zones) ctx.log.info("{}: zone checked and written", d);
    }

    ConfigChange change = server.change_for(config_changed, zones_changed);
    if (change == ConfigChange::none && !ctx.dry_run && stale_zones(ctx, server, sets)) {
      // A zone file newer than what is served (an earlier run stopped before the reload).
      ctx.log.info("{} serves an older zone than the files: reloading", server.service_name());
      change = ConfigChange::reloadable;
    }
    ServiceAction action = ctx.ensure_service(server.service(ctx), change);
    if (action != ServiceAction::none && !ctx.dry_run && ctx.layout.target() != Target::offline)
      wait_until_serving(ctx, server, sets);
  }

  // The server accepts connections before it has loaded its zones (and a reload returns before
  // the new zones are in): wait, bounded, until every zone answers the serial just written.
  void wait_until_serving(ModuleContext& ctx, const ZoneServer& server,
                          const std::vector<DomainRecords>& sets) {
    auto step = ctx.step("wait for " + server.service_name() + " to serve the zones");
    auto deadline = std::chrono::steady_clock::now() + kServeWait;
    DnsClient client({"127.0.0.1", ctx.ports().dns}, std::chrono::milliseconds(500));
    VerifyOptions options;
    options.server = {"127.0.0.1", ctx.ports().dns};
    options.dnssec = ctx.profile.dns.dnssec;
    for (const DomainRecords& s : sets) {
      const ZoneRecord* soa = nullptr;
      for (const ZoneRecord& r : s.records)
        if (r.type == "SOA") soa = &r;
      if (!soa) continue;
      while (true) {
        Answer a = client.query(s.domain, "SOA");
        // Not answering yet is as likely as SERVFAIL on a loaded machine: both wait, bounded.
        if (a.reached &&
            compare_rrset(s.domain, "SOA", {soa->value}, a, options).status == CheckStatus::pass)
          break;
        if (std::chrono::steady_clock::now() >= deadline) {
          if (!a.reached)
            ctx.log.warn("{}: {} does not answer on port {}: {}", s.domain, server.service_name(),
                         ctx.ports().dns, a.error);
          else
            ctx.log.warn("{}: {} does not serve serial {} yet", s.domain, server.service_name(),
                         s.serial);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  // True when the running server answers an SOA serial other than the zone file's.
  bool stale_zones(ModuleContext& ctx, const ZoneServer& server,
                   const std::vector<DomainRecords>& sets) {
    if (ctx.layout.target() == Target::offline) return false;
    if (!ctx.services.status(server.service_name()).running) return false;
    DnsClient client({"127.0.0.1", ctx.ports().dns}, std::chrono::milliseconds(500));
    VerifyOptions options;
    options.server = {"127.0.0.1", ctx.ports().dns};
    options.dnssec = ctx.profile.dns.dnssec;
    for (const DomainRecords& s : sets) {
      for (const ZoneRecord& r : s.records) {
        if (r.type != "SOA") continue;
        Answer a = client.query(s.domain, "SOA");
        if (!a.reached) return false;  // not answering at all: the supervisor's business
        if (compare_rrset(s.domain, "SOA", {r.value}, a, options).status != CheckStatus::pass)
          return true;
      }
    }
    return false;
  }

  void add_ds_records(ModuleContext& ctx, std::vector<DomainRecords>& sets,
                      const std::vector<DomainRecords>& applied) {
    if (ctx.layout.target() == Target::offline) {
      for (DomainRecords& s : sets)
        s.notes.push_back(
            "DNSSEC: the signing key and the DS record are made on first boot; "
            "`firstboot dns-records` shows the DS record then");
      return;
    }
    auto step = ctx.step("dnssec ds records");
    std::string dir = ctx.path(kBindKeyDirectory).string();
    // named makes the keys when it loads a zone with a dnssec-policy; wait for them, bounded.
    auto deadline = std::chrono::steady_clock::now() +
                    (ctx.dry_run ? std::chrono::seconds(0) : std::chrono::seconds(kDsWait));
    for (DomainRecords& s : sets) {
      std::vector<std::string> ds = ds_records_from_key_directory(dir, s.domain);
      while (ds.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ds = ds_records_from_key_directory(dir, s.domain);
      }
      if (ds.empty()) {
        s.notes.push_back(
            "DNSSEC: no signing key yet; the DS record appears after named has "
            "signed the zone (run again)");
        continue;
      }
      for (const std::string& v : ds) {
        ZoneRecord r;
        r.name = "@";
        r.type = "DS";
        r.value = v;
        r.purpose = "dnssec: the delegation signer for the parent zone";
        s.records.push_back(r);
        s.notes.push_back("DNSSEC: give your registrar the DS record " + s.domain + ". IN DS " + v);
      }
      place_records(s);
      if (ds != ds_values(find_set(applied, s.domain)))
        ctx.log.info("{}: DS record for the registrar: {}. IN DS {}", s.domain, s.domain,
                     ds.front());
    }
  }

  ToolRunner run_;
};

}  // namespace

std::unique_ptr<Module> make_dns_module() {
  return make_dns_module([](const std::vector<std::string>& argv) { return run_tool(argv); });
}

std::unique_ptr<Module> make_dns_module(dns::ToolRunner run_tool) {
  return std::make_unique<DnsModule>(std::move(run_tool));
}

}  // namespace firstboot
