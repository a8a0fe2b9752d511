// The mail module's own validation: real protocol checks against the running daemons (banner,
// STARTTLS with TLS 1.2+, AUTH only after TLS, a login as the probe account, no open relay, the
// smarthost's acceptance of the relay credentials) and the DKIM keys on disk and in the store.
// The monitoring module runs the deeper end-to-end report; these stay focused and bounded.
#pragma once

#include <vector>

#include "engine/check.h"
#include "engine/layout.h"
#include "profile/profile.h"
#include "service/supervisor.h"

namespace firstboot {

class Store;

struct MailCheckInputs {
  const Profile& profile;
  const Layout& layout;
  const Ports& ports;
  ServiceSupervisor& services;
  Store& store;
};

std::vector<CheckResult> run_mail_checks(const MailCheckInputs& in);

}  // namespace firstboot
