// What the systemd backend asks of systemd, as an interface: the sd-bus implementation talks to
// the system bus (systemd_bus.cpp); the unit tests drive the backend's logic (when to enable,
// when to daemon-reload, which job to queue, how a failure reads) with a scripted fake, without
// systemd as PID 1. Internal to src/service.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "service/supervisor.h"
#include "service/systemd_unit.h"

namespace firstboot::systemd {

class Bus {
 public:
  virtual ~Bus() = default;

  // LoadUnit + the Unit (and, for a loaded service, Service) properties. Throws Error when there
  // is no bus.
  virtual UnitState read_state(const std::string& unit) = 0;
  virtual bool can_reload(const std::string& unit) = 0;
  // EnableUnitFiles([unit], runtime=false, force=false): the number of symlinks it changed.
  virtual std::size_t enable_unit_files(const std::string& unit) = 0;
  // Manager.Reload (`systemctl daemon-reload`): returns once systemd has re-read its unit files.
  virtual void reload() = 0;
  // Queues METHOD(unit, "replace") for each unit and waits (bounded) until every job is removed;
  // each job's result ("done", "failed", ...), or "timed out".
  virtual std::vector<std::string> run_jobs(const std::string& method,
                                            const std::vector<std::string>& units,
                                            std::chrono::milliseconds timeout) = 0;
  // The unit's last journal lines (what it and systemd about it logged), oldest first.
  virtual std::vector<std::string> journal_lines(const std::string& unit, std::size_t count) = 0;
};

// The system bus, opened on first use.
std::unique_ptr<Bus> make_sd_bus();

// The systemd backend over any Bus (make_systemd_supervisor() uses make_sd_bus()).
std::unique_ptr<ServiceSupervisor> make_systemd_supervisor(std::unique_ptr<Bus> bus);

}  // namespace firstboot::systemd
