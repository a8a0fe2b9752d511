#include "record_sources.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cctype>

#include "crypto/dkim_keys.h"
#include "dns_names.h"
#include "engine/layout.h"
#include "engine/module.h"
#include "store/store.h"

namespace firstboot::dns {

bool is_public_ipv4(const std::string& address) {
  in_addr a{};
  if (inet_pton(AF_INET, address.c_str(), &a) != 1) return false;
  std::uint32_t ip = ntohl(a.s_addr);
  auto in = [&](std::uint32_t net, int bits) {
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (ip & mask) == net;
  };
  return !(in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
           in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000200, 24) || in(0xC0A80000, 16) ||
           in(0xC6120000, 15) || in(0xC6336400, 24) || in(0xCB007100, 24) || in(0xE0000000, 3));
}

bool is_public_ipv6(const std::string& address) {
  in6_addr a{};
  if (inet_pton(AF_INET6, address.c_str(), &a) != 1) return false;
  // 2000::/3 is global unicast; 2001:db8::/32 is documentation.
  if ((a.s6_addr[0] & 0xE0) != 0x20) return false;
  return !(a.s6_addr[0] == 0x20 && a.s6_addr[1] == 0x01 && a.s6_addr[2] == 0x0d &&
           a.s6_addr[3] == 0xb8);
}

HostAddresses host_addresses(const Profile& profile, const Layout& layout) {
  HostAddresses out;
  out.ipv4 = canonical_ipv4(profile.public_ipv4);
  out.ipv6 = canonical_ipv6(profile.public_ipv6);
  if (!out.ipv4.empty() || !out.ipv6.empty()) {
    out.source = "profile";
    return out;
  }
  if (layout.is_sandbox()) {
    out.ipv4 = "127.0.0.1";
    out.source = "sandbox";
    return out;
  }
  if (layout.target() != Target::system) return out;  // an image: its address is not known yet
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::string iface;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET && out.ipv4.empty()) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      if (is_public_ipv4(buf)) {
        out.ipv4 = buf;
        iface = i->ifa_name;
      }
    } else if (i->ifa_addr->sa_family == AF_INET6 && out.ipv6.empty()) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf,
                sizeof buf);
      if (is_public_ipv6(buf)) {
        out.ipv6 = buf;
        if (iface.empty()) iface = i->ifa_name;
      }
    }
  }
  freeifaddrs(list);
  if (!out.ipv4.empty() || !out.ipv6.empty()) out.source = "detected on " + iface;
  return out;
}

RecordInputs gather_inputs(const Profile& profile, const Layout& layout, Store* store,
                           const std::map<std::string, std::string>& fallback_tokens) {
  RecordInputs in;
  HostAddresses addresses = host_addresses(profile, layout);
  in.ipv4 = addresses.ipv4;
  in.ipv6 = addresses.ipv6;
  in.address_source = addresses.source;
  in.ports = layout.is_sandbox() ? profile.sandbox_ports : standard_ports();
  for (const DkimKey& key : dkim_keys_for(profile, layout))
    in.dkim.push_back({key.domain, key.selector, key.algorithm, dkim_txt_value(key)});
  for (const Domain& d : profile.domains) {
    std::string token;
    if (store) {
      try {
        token = store->verification_token(d.name);
      } catch (const std::exception&) {
        token.clear();  // a read-only store without the token yet (plan before the first run)
      }
    }
    // A read-only store answers a placeholder for a token it would create: not a token.
    bool usable = !token.empty() && token.size() <= 128 &&
                  std::all_of(token.begin(), token.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                  });
    if (!usable) token.clear();
    if (token.empty())
      if (auto it = fallback_tokens.find(d.name); it != fallback_tokens.end()) token = it->second;
    if (!token.empty()) in.verification_tokens[d.name] = token;
  }
  return in;
}

}  // namespace firstboot::dns
