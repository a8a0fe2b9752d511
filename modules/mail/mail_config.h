// What the mail module renders, as plain data: the files (template, destination, owner, mode,
// which service reads them), the values the templates see, and the services each mode runs.
// Pure functions of the profile, the layout and the ports, so they are unit-tested without
// daemons.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/file_writer.h"
#include "engine/layout.h"
#include "probe/probe_account.h"
#include "profile/profile.h"
#include "service/supervisor.h"

namespace firstboot {

// Services, by the names the supervisor knows them.
inline constexpr const char* kPostfix = "postfix";
inline constexpr const char* kDovecot = "dovecot";
inline constexpr const char* kOpendkim = "opendkim";
inline constexpr const char* kOpendkimEd25519 = "opendkim-ed25519";
inline constexpr const char* kOpendmarc = "opendmarc";

// A path as the daemons will see it: mapped into the sandbox (the daemons run now, from there);
// the system path for the real system and for an offline image (its daemons run after boot).
std::string daemon_path(const Layout& layout, std::string_view system_path);

struct MailFile {
  std::string system_path;    // "/etc/postfix/main.cf"
  std::string template_name;  // "mail/postfix/main.cf"
  nlohmann::json data;
  FileAttrs attrs;
  std::vector<std::string> services;  // which services read it
  bool restart = false;               // a change needs a restart (not a reload)
  bool secret = false;                // never diffed or logged
};

// The services a mode runs, in start order (milters before Postfix, Dovecot before Postfix).
std::vector<std::string> mail_services(const Profile& profile);
bool has_ed25519(const Profile& profile);
bool has_rsa(const Profile& profile);

struct MailInputs {
  const Profile& profile;
  const Layout& layout;
  const Ports& ports;
  std::string db_location;   // the user store file as the daemons open it
  std::string relay_secret;  // relay mode: the smarthost password (empty otherwise)
};

// Every file the mode needs, rendered from templates/mail/.
std::vector<MailFile> mail_files(const MailInputs& in);

// The supervisor's view of each service.
ServiceSpec mail_service_spec(const std::string& name, const Profile& profile, const Layout& layout,
                              const Ports& ports);
// The TCP ports a service listens on (for the port-in-use check and readiness).
std::vector<int> service_ports(const std::string& name, const Profile& profile, const Ports& ports);

// "[smtp.example.net]:587" (IPv6 literals as "[ipv6:2001:db8::1]:587").
std::string relay_nexthop(const Relay& relay);
// A relay password must fit on one texthash line: no control characters, no surrounding blanks.
std::string relay_password_problem(const std::string& password);
// The relay password installed in a sasl_passwd map's text ("nexthop user:password" lines) for
// this relay's next hop and user; empty when there is none.
std::string installed_relay_password(const std::string& sasl_passwd_text, const Relay& relay);

// postmaster@ and abuse@ for every domain, pointing at the admin, unless the profile defines
// them (as a user or an alias).
std::vector<Alias> required_aliases(const Profile& profile);

// The probe account's address: firstboot-probe@<first domain>.
std::string probe_address(const Profile& profile);

}  // namespace firstboot
