// 7-ssl: a certificate for every mail host name, the best one available (live > staged >
// self-signed), installed where the services read it:
// /etc/firstboot/tls/<host>/{fullchain,privkey}.pem
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/module.h"

namespace firstboot {

std::unique_ptr<Module> make_ssl_module();

// Where the active certificate and key for a host live (system paths; map with the layout).
std::string active_certificate_path(const std::string& host);
std::string active_key_path(const std::string& host);

}  // namespace firstboot
