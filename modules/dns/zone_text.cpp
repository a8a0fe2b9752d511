#include "zone_text.h"

#include <nlohmann/json.hpp>

#include "crypto/keys.h"
#include "dns_names.h"
#include "engine/template_renderer.h"

namespace firstboot::dns {

std::string zone_text(const DomainRecords& set, bool with_notes,
                      const TemplateRenderer& templates) {
  std::size_t width = 1;
  for (const ZoneRecord& r : set.records)
    if (r.in_zone) width = std::max(width, r.name.size());
  nlohmann::json records = nlohmann::json::array();
  nlohmann::json comments = nlohmann::json::array();
  for (const ZoneRecord& r : set.records) {
    std::string rdata = r.type == "TXT" ? txt_rdata(r.value) : r.value;
    if (!r.in_zone) {
      if (with_notes)
        comments.push_back(
            {{"text", "at your registrar: " + absolute_name(r.name, set.domain) + ". " +
                          std::to_string(r.ttl) + " IN " + r.type + " " + rdata}});
      continue;
    }
    std::string name = r.name;
    name.resize(width, ' ');
    records.push_back({{"name", name}, {"ttl", r.ttl}, {"type", r.type}, {"rdata", rdata}});
  }
  if (with_notes)
    for (const std::string& note : set.notes) comments.push_back({{"text", "note: " + note}});
  nlohmann::json data = {{"domain", set.domain},
                         {"default_ttl", kDefaultTtl},
                         {"records", records},
                         {"comments", comments}};
  std::string text = templates.render("dns/zone.db", data);
  // A section that renders nothing at the end of the template leaves blank lines behind.
  while (text.size() >= 2 && text.compare(text.size() - 2, 2, "\n\n") == 0) text.pop_back();
  return text;
}

std::string zone_content_sha256(const DomainRecords& set, const TemplateRenderer& templates) {
  DomainRecords copy = set;
  set_serial(copy, 0);
  return sha256_hex(zone_text(copy, false, templates));
}

void assign_serials(std::vector<DomainRecords>& sets, const std::vector<DomainRecords>& previous,
                    const TemplateRenderer& templates, std::uint32_t today) {
  for (DomainRecords& set : sets) {
    set.content_sha256 = zone_content_sha256(set, templates);
    const DomainRecords* before = nullptr;
    for (const DomainRecords& p : previous)
      if (lowercase(p.domain) == lowercase(set.domain)) before = &p;
    if (before && before->content_sha256 == set.content_sha256 && before->serial != 0)
      set_serial(set, before->serial);
    else
      set_serial(set, next_serial(before ? before->serial : 0, today));
  }
}

}  // namespace firstboot::dns
