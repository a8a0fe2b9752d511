// Which certificate serves a host name: live (ACME-issued, renewed) > staged (provided by the
// user) > self-signed (generated, so first boot never waits on the network). Pure logic over what
// was found on disk, so it is unit-tested without files.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.h"

namespace firstboot {

enum class CertificateSource { live, staged, self_signed };
const char* to_string(CertificateSource source);

// A certificate and key pair found on disk, already read.
struct CertificateCandidate {
  CertificateSource source;
  std::string cert_path;
  std::string key_path;
  std::string chain_pem;  // leaf first
  std::string key_pem;
};

struct CandidateVerdict {
  bool usable = false;
  std::vector<std::string> problems;  // each a clear sentence naming the file
  std::optional<CertificateInfo> leaf;
};

// Checks a candidate for a host: parses, key matches, chain in order, host name in SAN, valid now.
CandidateVerdict assess_candidate(const CertificateCandidate& candidate, const std::string& host,
                                  std::chrono::system_clock::time_point now);

struct CertificateChoice {
  std::optional<CertificateCandidate> chosen;  // empty: generate a self-signed one
  std::vector<std::string> notes;              // why better sources were passed over
};

// Picks the best usable candidate (live, then staged, then self-signed).
CertificateChoice choose_certificate(const std::vector<CertificateCandidate>& candidates,
                                     const std::string& host,
                                     std::chrono::system_clock::time_point now);

// A self-signed certificate is kept while it covers every name and has 30+ days left.
bool self_signed_still_good(const CertificateInfo& cert, const std::vector<std::string>& names,
                            std::chrono::system_clock::time_point now);

inline constexpr int kSelfSignedDays = 825;

}  // namespace firstboot
