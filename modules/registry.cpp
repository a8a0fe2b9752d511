#include "registry.h"

#include "dns/dns_module.h"
#include "mail/mail_module.h"
#include "monitoring/monitoring_module.h"
#include "ssl/ssl_module.h"

namespace firstboot {

std::vector<std::unique_ptr<Module>> all_modules() {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(make_ssl_module());
  modules.push_back(make_dns_module());
  modules.push_back(make_mail_module());
  modules.push_back(make_monitoring_module());
  return modules;
}

}  // namespace firstboot
