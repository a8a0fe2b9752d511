// 10-monitoring: the readiness checks (the check registry in checks.h), the report behind
// `firstboot status`, node-exporter with firstboot.prom in its textfile directory, and on a real
// system a timer that runs `firstboot check` every monitoring.interval.
#pragma once

#include <memory>

#include "engine/module.h"

namespace firstboot {

std::unique_ptr<Module> make_monitoring_module();

}  // namespace firstboot
