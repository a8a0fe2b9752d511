// DNS queries with ldns to a chosen server and port (the sandbox's named on 127.0.0.1:5353) or the
// system resolver, bounded by a deadline. Answers come back in presentation form.
#pragma once

#include <string>
#include <vector>

#include "probe/connection.h"

namespace firstboot::probe {

struct DnsServer {
  std::string host;  // numeric address; empty: the system resolver (/etc/resolv.conf)
  int port = 53;
  std::string describe() const;
};

// "host[:port]", "[v6]:port"; empty text: the system resolver. Throws ProbeError when malformed.
DnsServer parse_dns_server(const std::string& text);

struct DnsAnswer {
  std::string rcode;  // "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...
  bool authoritative = false;
  // The answers of the asked type: TXT as the concatenation of its strings (unquoted), others as
  // their presentation rdata ("10 mail.example.com.", "0 issue \"letsencrypt.org\"").
  std::vector<std::string> records;
  bool ok() const { return rcode == "NOERROR"; }
};

// Throws ProbeError when no answer came in time or the server cannot be used.
DnsAnswer dns_query(const DnsServer& server, const std::string& name, const std::string& type,
                    Deadline deadline);

}  // namespace firstboot::probe
