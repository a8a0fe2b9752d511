// Where the run-time parts of the records come from: the mail host's addresses (profile,
// sandbox default, or detected on a real system), DKIM public keys on disk, verification tokens
// in the store.
#pragma once

#include <string>

#include "dns_records.h"

namespace firstboot {
class Layout;
class Store;
}  // namespace firstboot

namespace firstboot::dns {

struct HostAddresses {
  std::string ipv4;
  std::string ipv6;
  std::string source;  // "profile", "sandbox", "detected on eth0", "" (unknown)
};

// The profile's public_ipv4/6; in the sandbox 127.0.0.1 when none is given; on a real system
// the first global unicast address of an interface; nothing for an offline image (unknown).
HostAddresses host_addresses(const Profile& profile, const Layout& layout);

// Global unicast: not loopback, private (RFC 1918), CGNAT, link-local, ULA, documentation or
// multicast space.
bool is_public_ipv4(const std::string& address);
bool is_public_ipv6(const std::string& address);

// Everything build_records needs. store may be null (tokens then come from fallback_tokens);
// DKIM keys are read as they are on disk (missing ones stay empty).
RecordInputs gather_inputs(const Profile& profile, const Layout& layout, Store* store,
                           const std::map<std::string, std::string>& fallback_tokens = {});

}  // namespace firstboot::dns
