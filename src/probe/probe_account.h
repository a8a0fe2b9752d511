// The probe account: a mailbox the mail module creates in full mode so the mail module's validate
// and the monitoring checks can log in (IMAP, submission AUTH) and send a round trip without
// knowing any user's password. Its random password is made once and kept 0600 root.
#pragma once

#include <cstdint>
#include <string>

namespace firstboot::probe {

inline constexpr const char* kProbeLocalPart = "firstboot-probe";
// System path (map it with the layout).
inline constexpr const char* kProbeSecretPath = "/var/lib/firstboot/probe.secret";
inline constexpr std::uint64_t kProbeQuotaBytes = 64ull * 1024 * 1024;

// firstboot-probe@<the profile's first domain>; empty without a domain.
inline std::string probe_account_address(const std::string& first_domain) {
  return first_domain.empty() ? "" : std::string(kProbeLocalPart) + "@" + first_domain;
}

}  // namespace firstboot::probe
