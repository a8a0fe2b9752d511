// What the wizard proposes from the machine it runs on.
#pragma once

#include <string>

namespace firstboot::wizard {

// The host name to propose: the machine's fully qualified name when it has one, else its short
// name completed with the resolver's domain, else the short name (the dialog then asks for the
// domain part).
std::string machine_hostname();

// The choice behind machine_hostname(), from what the machine says (any may be empty).
// nodename: gethostname(); canonical: its qualified name from /etc/hosts; mailname: the first
// line of /etc/mailname; resolv_domain: the domain or first search entry of /etc/resolv.conf.
std::string pick_hostname(const std::string& nodename, const std::string& canonical,
                          const std::string& mailname, const std::string& resolv_domain);

}  // namespace firstboot::wizard
