// What a TLS client would think of the certificate chain a server sent: host name, chain order
// and completeness, trust by the system's roots, expiry.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crypto/keys.h"

namespace firstboot::probe {

struct ChainAssessment {
  bool readable = false;  // false: problem says why and nothing else is meaningful
  CertificateInfo leaf;
  bool host_matches = false;
  bool complete = false;     // each certificate issued by the next; ends at a root or a trusted CA
  bool self_signed = false;  // the leaf signs itself
  bool trusted = false;      // verifies against the system's (or the given) trust store
  std::string problem;       // the first reason the chain is not fine, one line
  double days_left = 0;      // until the leaf expires (negative: expired)
};

// chain_pem: as sent by the server, leaf first. ca_file: extra trust anchors (tests); empty uses
// only the system store.
ChainAssessment assess_chain(const std::vector<std::string>& chain_pem, const std::string& host,
                             std::chrono::system_clock::time_point now,
                             const std::string& ca_file = "");

}  // namespace firstboot::probe
