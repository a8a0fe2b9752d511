// The wizard's answers and the profile YAML made from them. The draft holds only hashes: a
// password is hashed the moment it is typed. The relay password is not here either; it goes to
// its own 0600 file, named by relay_password_file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "profile/profile.h"

namespace firstboot::wizard {

struct DraftUser {
  std::string address;
  std::string password_hash;
  std::string quota;  // "" or "2G"
};

struct DraftRelay {
  std::string host;
  int port = 587;
  std::string username;
  std::string password_file;  // absolute path of the 0600 secret file
  std::string spf_include;
  std::vector<std::pair<std::string, std::string>> mappings;
};

struct DraftTls {
  std::string source = "self-signed";  // self-signed | acme | provided
  std::string cert_file;
  std::string key_file;
  std::string acme_directory;
  std::string acme_email;
};

struct ProfileDraft {
  std::string hostname;
  MailMode mode = MailMode::full;
  std::vector<std::string> domains;
  std::string admin_email;
  std::string admin_password_hash;  // empty in relay mode (no mailboxes)
  std::vector<DraftUser> users;     // further mailboxes (local and full modes)
  DraftRelay relay;                 // relay mode only
  DraftTls tls;
  std::string dns_serve = "none";  // none | bind | nsd
};

// The profile document. header: comment lines put on top (without the leading "# ").
std::string to_yaml(const ProfileDraft& draft, const std::vector<std::string>& header = {});

}  // namespace firstboot::wizard
