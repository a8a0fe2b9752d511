#include "probe/dns.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace firstboot::probe {

namespace {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};

std::string rdf_text(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string out = text ? text : "";
  free(text);  // NOLINT: ldns allocates with malloc
  return out;
}

}  // namespace

std::string DnsServer::describe() const {
  if (host.empty()) return "the system resolver";
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

DnsServer parse_dns_server(const std::string& text) {
  DnsServer server;
  if (text.empty()) return server;
  std::string host = text;
  std::string port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos)
      throw ProbeError(ProbeError::Kind::protocol, "bad server " + text);
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':')
        throw ProbeError(ProbeError::Kind::protocol, "bad server " + text);
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!port.empty()) {
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c)) || port.size() > 5)
        throw ProbeError(ProbeError::Kind::protocol, "bad port in " + text);
    server.port = std::stoi(port);
    if (server.port < 1 || server.port > 65535)
      throw ProbeError(ProbeError::Kind::protocol, "bad port in " + text);
  }
  server.host = host;
  return server;
}

DnsAnswer dns_query(const DnsServer& server, const std::string& name, const std::string& type,
                    Deadline deadline) {
  ldns_rr_type rr_type = ldns_get_rr_type_by_name(type.c_str());
  if (rr_type == 0) throw ProbeError(ProbeError::Kind::protocol, "unknown record type " + type);
  std::unique_ptr<ldns_resolver, ResolverFree> res;
  if (server.host.empty()) {
    ldns_resolver* r = nullptr;
    if (ldns_resolver_new_frm_file(&r, nullptr) != LDNS_STATUS_OK || !r)
      throw ProbeError(ProbeError::Kind::connect, "no system resolver (/etc/resolv.conf)");
    res.reset(r);
  } else {
    res.reset(ldns_resolver_new());
    bool v6 = server.host.find(':') != std::string::npos;
    std::unique_ptr<ldns_rdf, RdfFree> ns(
        ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.host.c_str()));
    if (!ns) throw ProbeError(ProbeError::Kind::connect, "not a numeric address: " + server.host);
    if (ldns_resolver_push_nameserver(res.get(), ns.get()) != LDNS_STATUS_OK)
      throw ProbeError(ProbeError::Kind::connect, "cannot use " + server.describe());
    ldns_resolver_set_port(res.get(), static_cast<uint16_t>(server.port));
  }
  int ms = std::max(deadline.remaining_ms(), 1);
  timeval tv{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
  ldns_resolver_set_timeout(res.get(), tv);
  ldns_resolver_set_retry(res.get(), 1);
  ldns_resolver_set_retrans(res.get(), static_cast<uint8_t>(std::min(ms / 1000 + 1, 255)));
  ldns_resolver_set_edns_udp_size(res.get(), 4096);
  ldns_resolver_set_fallback(res.get(), true);
  ldns_resolver_set_recursive(res.get(), true);

  std::unique_ptr<ldns_rdf, RdfFree> dname(ldns_dname_new_frm_str(name.c_str()));
  if (!dname) throw ProbeError(ProbeError::Kind::protocol, "not a domain name: " + name);
  ldns_pkt* raw = nullptr;
  ldns_status status =
      ldns_resolver_query_status(&raw, res.get(), dname.get(), rr_type, LDNS_RR_CLASS_IN, LDNS_RD);
  std::unique_ptr<ldns_pkt, PktFree> pkt(raw);
  if (status != LDNS_STATUS_OK || !pkt)
    throw ProbeError(deadline.expired() ? ProbeError::Kind::timeout : ProbeError::Kind::connect,
                     "asking " + server.describe() + " for " + name + " " + type + ": " +
                         ldns_get_errorstr_by_id(status));

  DnsAnswer answer;
  ldns_lookup_table* rcode = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(pkt.get()));
  answer.rcode = rcode ? rcode->name : std::to_string(ldns_pkt_get_rcode(pkt.get()));
  answer.authoritative = ldns_pkt_aa(pkt.get());
  ldns_rr_list* list = ldns_pkt_answer(pkt.get());
  for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) != rr_type) continue;
    std::string value;
    for (std::size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      const ldns_rdf* rdf = ldns_rr_rdf(rr, j);
      if (rr_type == LDNS_RR_TYPE_TXT && ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_STR &&
          ldns_rdf_size(rdf) >= 1) {
        const uint8_t* data = ldns_rdf_data(rdf);
        value.append(reinterpret_cast<const char*>(data + 1),
                     std::min<std::size_t>(data[0], ldns_rdf_size(rdf) - 1));
        continue;
      }
      if (!value.empty()) value += ' ';
      value += rdf_text(rdf);
    }
    answer.records.push_back(value);
  }
  return answer;
}

}  // namespace firstboot::probe
