// Readiness probes and port ownership. Internal to src/service.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "service/supervisor.h"

namespace firstboot {

// One connection attempt (bounded by `timeout`). On refusal, `why` says what happened.
bool probe_accepts(const ReadinessProbe& probe, std::chrono::milliseconds timeout,
                   std::string* why = nullptr);

// PIDs of the processes holding a listening TCP socket that conflicts with host:port.
std::vector<pid_t> port_holders(const std::string& host, int port);

}  // namespace firstboot
