// Asking a DNS server for records, through ldns. Every query is bounded (timeout, one retry) and
// answers are normalized so they compare with what the zone builder expects.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace firstboot::dns {

struct ServerAddress {
  std::string host;  // an IP address or a name; "" means the system resolver (/etc/resolv.conf)
  int port = 53;
  std::string describe() const;
};

// Parses "host", "host:port", "[v6]:port" or a bare IPv6 address (host: an address or a name);
// false when it cannot.
bool parse_server_address(const std::string& text, ServerAddress* out);

struct Answer {
  bool reached = false;  // a response arrived (any rcode)
  std::string error;     // why not, or the rcode when not NOERROR/NXDOMAIN
  bool nxdomain = false;
  bool authoritative = false;
  bool signed_ = false;             // RRSIGs came with the answer (asked with DO)
  std::vector<std::string> values;  // normalized rdata, see normalize_rdata
};

class DnsClient {
 public:
  explicit DnsClient(const ServerAddress& server,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(1500));
  ~DnsClient();
  DnsClient(const DnsClient&) = delete;
  DnsClient& operator=(const DnsClient&) = delete;

  // fqdn without the trailing dot; type like "TXT". dnssec: set DO and report RRSIGs.
  Answer query(const std::string& fqdn, const std::string& type, bool dnssec = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The comparable form of a record value as the zone builder writes it: TXT values are the
// concatenated strings (how they were split does not matter), other types are rdata as ldns
// prints it with names lowercased. Throws Error when the value does not parse.
std::string normalize_rdata(const std::string& fqdn, const std::string& type,
                            const std::string& value);

// The DS records (rdata "tag alg 2 HEX", SHA-256) for the key-signing keys of a zone in a BIND
// key directory (K<zone>.+<alg>+<tag>.key files with flags 257). Sorted; empty when none.
std::vector<std::string> ds_records_from_key_directory(const std::string& key_directory,
                                                       const std::string& zone);

}  // namespace firstboot::dns
