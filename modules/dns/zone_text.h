// The zone file text of a domain's records (templates/dns/zone.db) and the serial rule built on
// it: a zone keeps its serial while its text (rendered with serial 0) stays the same.
#pragma once

#include <cstdint>
#include <vector>

#include "dns_records.h"

namespace firstboot {
class TemplateRenderer;
}

namespace firstboot::dns {

// The zone file. with_notes adds the notes and the registrar-only records (DS) as comments, for
// `firstboot dns-records --format zone`; the served file has neither.
std::string zone_text(const DomainRecords& records, bool with_notes,
                      const TemplateRenderer& templates);

// sha256 of the zone text with serial 0.
std::string zone_content_sha256(const DomainRecords& records, const TemplateRenderer& templates);

// Sets content_sha256 and the serial of every set: the previous serial when the content is the
// same as in previous (the applied state), else the next YYYYMMDDnn serial for today.
void assign_serials(std::vector<DomainRecords>& sets, const std::vector<DomainRecords>& previous,
                    const TemplateRenderer& templates, std::uint32_t today);

}  // namespace firstboot::dns
