#include "backup/contents.h"

namespace firstboot::backup {

const std::vector<SavedPath>& saved_paths() {
  static const std::vector<SavedPath> paths = {
      {"/var/vmail", "mailboxes"},
      {kStorePath, "user store (snapshot)"},
      {"/var/lib/firstboot/probe.secret", "probe account secret"},
      {"/var/lib/firstboot/dns", "published DNS records"},
      {"/etc/opendkim", "DKIM keys and OpenDKIM tables"},
      {"/etc/firstboot", "kept profile, certificates and keys"},
      {"/etc/postfix", "Postfix configuration"},
      {"/etc/dovecot", "Dovecot configuration"},
      {"/etc/opendkim.conf", "OpenDKIM configuration"},
      {"/etc/opendkim-ed25519.conf", "OpenDKIM (Ed25519) configuration"},
      {"/etc/opendmarc.conf", "OpenDMARC configuration"},
      {"/etc/opendmarc", "OpenDMARC configuration"},
      {"/etc/bind", "BIND configuration"},
      {"/var/lib/bind/firstboot/keys", "DNSSEC keys"},
      {"/etc/nsd", "NSD configuration"},
      {"/etc/systemd/system/opendkim-ed25519.service", "OpenDKIM (Ed25519) unit"},
  };
  return paths;
}

std::string normalized_entry(std::string_view name) {
  if (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
  return std::string(name);
}

std::string entry_path_problem(std::string_view raw) {
  if (raw.empty()) return "an empty name";
  if (raw.size() > 4096) return "a name longer than 4096 bytes";
  for (unsigned char c : raw)
    if (c < 0x20 || c == 0x7f) return "a control character in the name";
  if (raw.front() == '/') return "an absolute path";
  std::string name = normalized_entry(raw);
  std::size_t start = 0;
  // Bounded by the name's length: each step moves past one '/'.
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string_view part(name.data() + start, end - start);
    if (part.empty()) return "an empty path component";
    if (part == "..") return "a '..' component";
    if (part == ".") return "a '.' component";
    start = end + 1;
  }
  if (name == kManifestEntry || name == kManifestSumEntry) return "";
  for (const SavedPath& saved : saved_paths()) {
    std::string_view root(saved.system_path + 1);  // without the leading '/'
    if (name == root || (name.size() > root.size() && name.compare(0, root.size(), root) == 0 &&
                         name[root.size()] == '/'))
      return "";
  }
  return "a path outside what a backup saves";
}

}  // namespace firstboot::backup
