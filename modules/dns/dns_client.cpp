#include "dns_client.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "dns_names.h"
#include "engine/error.h"

namespace firstboot::dns {

namespace fs = std::filesystem;

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
using RdfPtr = std::unique_ptr<ldns_rdf, Deleter<ldns_rdf, ldns_rdf_deep_free>>;
using RrPtr = std::unique_ptr<ldns_rr, Deleter<ldns_rr, ldns_rr_free>>;
using RrListPtr = std::unique_ptr<ldns_rr_list, Deleter<ldns_rr_list, ldns_rr_list_deep_free>>;
using PktPtr = std::unique_ptr<ldns_pkt, Deleter<ldns_pkt, ldns_pkt_free>>;

std::string take_string(char* s) {
  if (!s) return "";
  std::string out(s);
  LDNS_FREE(s);
  return out;
}

// TXT: the raw strings joined; others: each rdf printed, names lowercased.
std::string normalized(ldns_rr* rr) {
  std::string out;
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT) {
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
      ldns_rdf* rdf = ldns_rr_rdf(rr, i);
      const uint8_t* data = ldns_rdf_data(rdf);
      std::size_t size = ldns_rdf_size(rdf);
      if (size == 0) continue;
      std::size_t len = std::min<std::size_t>(data[0], size - 1);
      out.append(reinterpret_cast<const char*>(data + 1), len);
    }
    return out;
  }
  ldns_rr2canonical(rr);
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (i) out += ' ';
    out += take_string(ldns_rdf2str(ldns_rr_rdf(rr, i)));
  }
  return out;
}

// The first address of a name, through the system's resolver.
std::string lookup_address(const std::string& name) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &list) != 0 || !list) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  const void* addr =
      list->ai_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(list->ai_addr)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(list->ai_addr)->sin_addr);
  std::string out = inet_ntop(list->ai_family, addr, buf, sizeof buf) ? buf : "";
  freeaddrinfo(list);
  return out;
}

}  // namespace

std::string ServerAddress::describe() const {
  if (host.empty()) return "the system resolver";
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool parse_server_address(const std::string& text, ServerAddress* out) {
  ServerAddress a;
  std::string host = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      rest = rest.substr(1);
      if (rest.empty() || rest.size() > 5 ||
          !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      a.port = std::stoi(rest);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    a.port = std::stoi(port);
  }
  if (a.port < 1 || a.port > 65535) return false;
  if (!canonical_ipv4(host).empty())
    a.host = canonical_ipv4(host);
  else if (!canonical_ipv6(host).empty())
    a.host = canonical_ipv6(host);
  else if (is_dns_name(host, false, 1))
    a.host = host;  // a name: looked up when the client is made
  else
    return false;
  if (out) *out = a;
  return true;
}

struct DnsClient::Impl {
  ldns_resolver* res = nullptr;
  std::string setup_error;
  ~Impl() {
    if (res) ldns_resolver_deep_free(res);
  }
};

DnsClient::DnsClient(const ServerAddress& server, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  if (server.host.empty()) {
    if (ldns_resolver_new_frm_file(&impl_->res, nullptr) != LDNS_STATUS_OK || !impl_->res) {
      impl_->res = nullptr;
      impl_->setup_error = "no usable resolver in /etc/resolv.conf";
      return;
    }
  } else {
    impl_->res = ldns_resolver_new();
    std::string host = server.host;
    if (canonical_ipv4(host).empty() && canonical_ipv6(host).empty()) {
      host = lookup_address(server.host);
      if (host.empty()) {
        impl_->setup_error = "cannot resolve the resolver's name " + server.host;
        return;
      }
    }
    bool v6 = host.find(':') != std::string::npos;
    RdfPtr addr(ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, host.c_str()));
    if (!addr || ldns_resolver_push_nameserver(impl_->res, addr.get()) != LDNS_STATUS_OK) {
      impl_->setup_error = "bad server address " + server.host;
      return;
    }
    ldns_resolver_set_port(impl_->res, static_cast<uint16_t>(server.port));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ldns_resolver_set_timeout(impl_->res, tv);
  ldns_resolver_set_retry(impl_->res, 1);
  ldns_resolver_set_fallback(impl_->res, true);  // TCP when the UDP answer is truncated
  ldns_resolver_set_random(impl_->res, false);
}

DnsClient::~DnsClient() = default;

Answer DnsClient::query(const std::string& fqdn, const std::string& type, bool dnssec) {
  Answer a;
  if (!impl_->res) {
    a.error = impl_->setup_error;
    return a;
  }
  RdfPtr name(ldns_dname_new_frm_str((fqdn + ".").c_str()));
  ldns_rr_type t = ldns_get_rr_type_by_name(type.c_str());
  if (!name || t == 0) {
    a.error = "cannot ask for " + fqdn + " " + type;
    return a;
  }
  ldns_resolver_set_dnssec(impl_->res, dnssec);
  ldns_pkt* raw = nullptr;
  ldns_status st = ldns_resolver_send(&raw, impl_->res, name.get(), t, LDNS_RR_CLASS_IN, LDNS_RD);
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK || !pkt) {
    a.error = std::string("no answer: ") + ldns_get_errorstr_by_id(st);
    return a;
  }
  a.reached = true;
  a.authoritative = ldns_pkt_aa(pkt.get());
  ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt.get());
  if (rcode == LDNS_RCODE_NXDOMAIN) {
    a.nxdomain = true;
    return a;
  }
  if (rcode != LDNS_RCODE_NOERROR) {
    a.error = take_string(ldns_pkt_rcode2str(rcode));
    return a;
  }
  RrListPtr answers(
      ldns_pkt_rr_list_by_name_and_type(pkt.get(), name.get(), t, LDNS_SECTION_ANSWER));
  if (answers) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answers.get()); ++i)
      a.values.push_back(normalized(ldns_rr_list_rr(answers.get(), i)));
  }
  RrListPtr sigs(ldns_pkt_rr_list_by_type(pkt.get(), LDNS_RR_TYPE_RRSIG, LDNS_SECTION_ANSWER));
  a.signed_ = sigs && ldns_rr_list_rr_count(sigs.get()) > 0;
  std::sort(a.values.begin(), a.values.end());
  return a;
}

std::string normalize_rdata(const std::string& fqdn, const std::string& type,
                            const std::string& value) {
  std::string text = fqdn + ". 3600 IN " + type + " " + value;
  if (type == "TXT") text = fqdn + ". 3600 IN TXT " + txt_rdata(value);
  ldns_rr* raw = nullptr;
  ldns_status st = ldns_rr_new_frm_str(&raw, text.c_str(), 0, nullptr, nullptr);
  RrPtr rr(raw);
  if (st != LDNS_STATUS_OK || !rr)
    throw Error("cannot parse record '" + text + "': " + ldns_get_errorstr_by_id(st));
  return normalized(rr.get());
}

std::vector<std::string> ds_records_from_key_directory(const std::string& key_directory,
                                                       const std::string& zone) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(key_directory, ec)) return out;
  std::string prefix = "K" + lowercase(zone) + ".+";
  for (const auto& entry : fs::directory_iterator(key_directory, ec)) {
    std::string name = entry.path().filename().string();
    if (lowercase(name).rfind(lowercase(prefix), 0) != 0 || entry.path().extension() != ".key")
      continue;
    FILE* f = std::fopen(entry.path().c_str(), "r");
    if (!f) continue;
    ldns_rr* raw = nullptr;
    uint32_t ttl = 3600;
    ldns_rdf* origin = nullptr;
    ldns_rdf* prev = nullptr;
    ldns_status st = LDNS_STATUS_OK;
    // Skip the comment header; the first record is the DNSKEY.
    while (!raw && !std::feof(f)) {
      st = ldns_rr_new_frm_fp(&raw, f, &ttl, &origin, &prev);
      if (st != LDNS_STATUS_OK && st != LDNS_STATUS_SYNTAX_EMPTY && st != LDNS_STATUS_SYNTAX_TTL &&
          st != LDNS_STATUS_SYNTAX_ORIGIN)
        break;
    }
    std::fclose(f);
    if (origin) ldns_rdf_deep_free(origin);
    if (prev) ldns_rdf_deep_free(prev);
    RrPtr key(raw);
    if (!key || ldns_rr_get_type(key.get()) != LDNS_RR_TYPE_DNSKEY) continue;
    if (ldns_rdf2native_int16(ldns_rr_dnskey_flags(key.get())) != 257) continue;
    RrPtr ds(ldns_key_rr2ds(key.get(), LDNS_SHA256));
    if (!ds) continue;
    std::string value = normalized(ds.get());
    // The digest in upper case, as dnssec-dsfromkey and most registrars print it.
    auto last = value.rfind(' ');
    for (std::size_t i = last + 1; i < value.size(); ++i)
      value[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(value[i])));
    out.push_back(value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace firstboot::dns
