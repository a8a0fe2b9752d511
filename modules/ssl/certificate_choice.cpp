#include "certificate_choice.h"

#include <algorithm>
#include <exception>

namespace firstboot {

const char* to_string(CertificateSource source) {
  switch (source) {
    case CertificateSource::live:
      return "live";
    case CertificateSource::staged:
      return "staged";
    case CertificateSource::self_signed:
      return "self-signed";
  }
  return "?";
}

CandidateVerdict assess_candidate(const CertificateCandidate& c, const std::string& host,
                                  std::chrono::system_clock::time_point now) {
  CandidateVerdict v;
  try {
    v.leaf = inspect_certificate(c.chain_pem);
  } catch (const std::exception& e) {
    v.problems.push_back(c.cert_path + ": not a PEM certificate (" + e.what() + ")");
    return v;
  }
  try {
    if (!key_matches_certificate(c.key_pem, c.chain_pem))
      v.problems.push_back(
          c.key_path + ": this private key does not belong to the certificate in " + c.cert_path);
  } catch (const std::exception& e) {
    v.problems.push_back(c.key_path + ": not a PEM private key (" + e.what() + ")");
  }
  std::string why;
  if (!chain_in_order(c.chain_pem, &why))
    v.problems.push_back(c.cert_path + ": chain out of order: " + why +
                         " (put the server certificate first, then each issuer)");
  if (!certificate_covers(*v.leaf, host)) {
    std::string names;
    for (auto& n : v.leaf->dns_names) names += (names.empty() ? "" : ", ") + n;
    v.problems.push_back(c.cert_path + ": host name " + host +
                         " is not in the certificate's names (" + (names.empty() ? "none" : names) +
                         ")");
  }
  if (v.leaf->not_after <= now) v.problems.push_back(c.cert_path + ": certificate has expired");
  if (v.leaf->not_before > now)
    v.problems.push_back(c.cert_path + ": certificate is not valid yet");
  v.usable = v.problems.empty();
  return v;
}

CertificateChoice choose_certificate(const std::vector<CertificateCandidate>& candidates,
                                     const std::string& host,
                                     std::chrono::system_clock::time_point now) {
  std::vector<CertificateCandidate> sorted = candidates;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) {
    return static_cast<int>(a.source) < static_cast<int>(b.source);
  });
  CertificateChoice choice;
  for (auto& c : sorted) {
    CandidateVerdict v = assess_candidate(c, host, now);
    if (v.usable) {
      choice.chosen = c;
      return choice;
    }
    for (auto& p : v.problems)
      choice.notes.push_back(std::string(to_string(c.source)) + " certificate passed over: " + p);
  }
  return choice;
}

bool self_signed_still_good(const CertificateInfo& cert, const std::vector<std::string>& names,
                            std::chrono::system_clock::time_point now) {
  for (auto& n : names)
    if (!certificate_covers(cert, n)) return false;
  return cert.not_after - now > std::chrono::hours(24 * 30) && cert.not_before <= now;
}

}  // namespace firstboot
