#include "dns_records_export.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "dns_client.h"
#include "dns_names.h"
#include "engine/error.h"
#include "engine/file_writer.h"
#include "engine/layout.h"
#include "engine/template_renderer.h"
#include "record_sources.h"
#include "zone_text.h"

namespace firstboot::dns {

namespace fs = std::filesystem;
using nlohmann::json;

std::string mta_sts_policy_path(const std::string& domain) {
  return "/var/www/mta-sts/" + domain + "/.well-known/mta-sts.txt";
}

namespace {

json record_json(const ZoneRecord& r) {
  return {{"name", r.name},
          {"type", r.type},
          {"ttl", r.ttl},
          {"value", r.value},
          {"purpose", r.purpose},
          {"in_zone", r.in_zone},
          {"at_registrar", r.at_registrar}};
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ZoneRecord record_from_json(const json& j) {
  ZoneRecord r;
  r.name = string_at(j, "name");
  r.type = string_at(j, "type");
  r.ttl = j.contains("ttl") && j["ttl"].is_number_integer() ? j["ttl"].get<int>() : kDefaultTtl;
  r.value = string_at(j, "value");
  r.purpose = string_at(j, "purpose");
  r.in_zone = !j.contains("in_zone") || j["in_zone"].get<bool>();
  r.at_registrar = j.contains("at_registrar") && j["at_registrar"].get<bool>();
  return r;
}

std::string serve_phrase(const std::string& serve) {
  if (serve == "bind") return "served by this host (BIND)";
  if (serve == "nsd") return "served by this host (NSD)";
  return "not served here: enter the records at your DNS provider";
}

// In a registrar checklist SOA and NS belong to whoever serves the zone: with serve none that is
// the DNS provider, so they are left out.
bool in_checklist(const DomainRecords& set, const ZoneRecord& r) {
  return !(set.serve == "none" && (r.type == "SOA" || r.type == "NS"));
}

}  // namespace

json state_json(const std::vector<DomainRecords>& sets) {
  json domains = json::array();
  for (const DomainRecords& s : sets) {
    json records = json::array();
    for (const ZoneRecord& r : s.records) records.push_back(record_json(r));
    domains.push_back({{"domain", s.domain},
                       {"serve", s.serve},
                       {"serial", s.serial},
                       {"content_sha256", s.content_sha256},
                       {"verification_token", s.verification_token},
                       {"records", records},
                       {"notes", s.notes},
                       {"mta_sts_policy", s.mta_sts_policy}});
  }
  return {{"version", 1}, {"domains", domains}};
}

std::vector<DomainRecords> sets_from_state_json(const json& state) {
  std::vector<DomainRecords> out;
  if (!state.is_object() || !state.contains("domains") || !state["domains"].is_array())
    throw Error("not a dns state document");
  for (const json& d : state["domains"]) {
    DomainRecords s;
    s.domain = string_at(d, "domain");
    s.serve = string_at(d, "serve");
    s.serial = d.contains("serial") ? d["serial"].get<std::uint32_t>() : 0;
    s.content_sha256 = string_at(d, "content_sha256");
    s.verification_token = string_at(d, "verification_token");
    s.mta_sts_policy = string_at(d, "mta_sts_policy");
    if (d.contains("records"))
      for (const json& r : d["records"]) s.records.push_back(record_from_json(r));
    if (d.contains("notes"))
      for (const json& n : d["notes"])
        if (n.is_string()) s.notes.push_back(n.get<std::string>());
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DomainRecords> applied_dns_records(const Layout& layout) {
  fs::path file = layout.map(kStateFile);
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  try {
    return sets_from_state_json(json::parse(read_file(file)));
  } catch (const std::exception& e) {
    throw Error("reading " + file.string() + ": " + e.what());
  }
}

std::vector<DomainRecords> dns_records_for_profile(const Profile& profile, const Layout& layout,
                                                   Store* store) {
  std::vector<DomainRecords> applied = applied_dns_records(layout);
  std::map<std::string, std::string> tokens;
  for (const DomainRecords& s : applied)
    if (!s.verification_token.empty()) tokens[s.domain] = s.verification_token;
  std::vector<DomainRecords> sets =
      build_records(profile, gather_inputs(profile, layout, store, tokens));
  TemplateRenderer templates(data_dir() / "templates");
  assign_serials(sets, applied, templates, today_yyyymmdd());
  if (profile.dns.serve == "bind" && profile.dns.dnssec) {
    for (DomainRecords& s : sets) {
      for (const std::string& ds :
           ds_records_from_key_directory(layout.map(kBindKeyDirectory).string(), s.domain)) {
        ZoneRecord r;
        r.name = "@";
        r.type = "DS";
        r.value = ds;
        r.purpose = "dnssec: the delegation signer for the parent zone";
        s.records.push_back(r);
      }
      place_records(s);
    }
  }
  return sets;
}

std::vector<DomainRecords> select_domain(const std::vector<DomainRecords>& sets,
                                         const std::string& domain) {
  for (const DomainRecords& s : sets)
    if (lowercase(s.domain) == lowercase(domain)) return {s};
  std::string known;
  for (const DomainRecords& s : sets) known += (known.empty() ? "" : ", ") + s.domain;
  throw Error("no domain '" + domain + "' (known: " + (known.empty() ? "none" : known) + ")");
}

std::string export_zone(const std::vector<DomainRecords>& sets) {
  TemplateRenderer templates(data_dir() / "templates");
  std::string out;
  for (const DomainRecords& s : sets) {
    if (!out.empty()) out += "\n";
    out += zone_text(s, true, templates);
  }
  return out;
}

json onboarding_json(const std::vector<DomainRecords>& sets) {
  json domains = json::array();
  for (const DomainRecords& s : sets) {
    json records = json::array();
    for (const ZoneRecord& r : s.records) {
      if (!in_checklist(s, r)) continue;
      records.push_back({{"name", r.name},
                         {"fqdn", absolute_name(r.name, s.domain)},
                         {"type", r.type},
                         {"ttl", r.ttl},
                         {"value", r.value},
                         {"purpose", r.purpose},
                         {"where", r.at_registrar ? "registrar" : "served"}});
    }
    json verification = nullptr;
    if (!s.verification_token.empty())
      verification = {{"name", "_mail-verification." + s.domain},
                      {"type", "TXT"},
                      {"value", "firstboot-verification=" + s.verification_token},
                      {"token", s.verification_token}};
    json policy = nullptr;
    if (!s.mta_sts_policy.empty())
      policy = {{"url", "https://mta-sts." + s.domain + "/.well-known/mta-sts.txt"},
                {"file", mta_sts_policy_path(s.domain)},
                {"content", s.mta_sts_policy}};
    domains.push_back({{"domain", s.domain},
                       {"serve", s.serve},
                       {"serial", s.serial},
                       {"verification", verification},
                       {"records", records},
                       {"mta_sts_policy", policy},
                       {"notes", s.notes}});
  }
  return {{"version", 1}, {"domains", domains}};
}

std::string records_table(const std::vector<DomainRecords>& sets) {
  std::ostringstream out;
  for (const DomainRecords& s : sets) {
    if (out.tellp() > 0) out << "\n";
    out << s.domain << ": " << serve_phrase(s.serve) << "\n";
    std::vector<const ZoneRecord*> rows;
    std::size_t served = 0;
    for (const ZoneRecord& r : s.records) {
      if (!in_checklist(s, r)) continue;
      if (r.at_registrar)
        rows.push_back(&r);
      else
        ++served;
    }
    std::size_t name_w = 4, type_w = 4;
    for (const ZoneRecord* r : rows) {
      name_w = std::max(name_w, absolute_name(r->name, s.domain).size());
      type_w = std::max(type_w, r->type.size());
    }
    auto pad = [](std::string text, std::size_t width) {
      text.resize(std::max(width, text.size()), ' ');
      return text;
    };
    if (!rows.empty()) {
      out << "  " << pad("NAME", name_w) << "  " << pad("TYPE", type_w) << "  " << pad("TTL", 5)
          << "  VALUE\n";
      for (const ZoneRecord* r : rows)
        out << "  " << pad(absolute_name(r->name, s.domain), name_w) << "  " << pad(r->type, type_w)
            << "  " << pad(std::to_string(r->ttl), 5) << "  " << r->value << "    (" << r->purpose
            << ")\n";
    } else {
      out << "  nothing to enter at the registrar\n";
    }
    if (served > 0)
      out << "  " << served
          << " more record(s) are served by this host: `firstboot dns-records --format zone`\n";
    for (const std::string& note : s.notes) out << "  note: " << note << "\n";
  }
  return out.str();
}

}  // namespace firstboot::dns
