// The check registry: every readiness check, which probe produces it, its module, severity and
// hint. build_probes() turns a MonitorConfig into the probes that run_probes() runs in parallel.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "check_runner.h"
#include "monitor_config.h"
#include "probe/dns.h"
#include "service/supervisor.h"

namespace firstboot {

struct CheckEnvironment {
  MonitorConfig config;
  // Read in the calling thread before the probes start (they never touch the supervisor).
  std::vector<ServiceStatus> services;
  bool services_known = false;  // false: no supervisor (offline tree)
  ServiceStatus timer;          // firstboot-check.timer on a real system
  std::string probe_password;   // the probe account's password; empty when unreadable
  std::string probe_password_error;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::string ca_file;  // extra trust anchors (tests); the system store is always used
  // Per-probe timeouts.
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds roundtrip_timeout{8000};
  std::chrono::milliseconds outbound_timeout{2000};
};

// Reads what the probes need from the system (services, the probe secret) into an environment.
std::shared_ptr<CheckEnvironment> make_check_environment(const MonitorConfig& config,
                                                         ServiceSupervisor* services);

std::vector<ProbeSpec> build_probes(const std::shared_ptr<const CheckEnvironment>& env);

// build_probes + run_probes.
CheckRun run_checks(const std::shared_ptr<const CheckEnvironment>& env, probe::Deadline overall);

// The module a service belongs to, by its supervisor name ("dovecot" -> "mail").
std::string module_of_service(const std::string& name);

// Probes per area (checks_mail.cpp, checks_dns.cpp, checks_system.cpp).
void add_mail_probes(const std::shared_ptr<const CheckEnvironment>& env,
                     std::vector<ProbeSpec>& probes);
void add_dns_probes(const std::shared_ptr<const CheckEnvironment>& env,
                    std::vector<ProbeSpec>& probes);
void add_system_probes(const std::shared_ptr<const CheckEnvironment>& env,
                       std::vector<ProbeSpec>& probes);

// Decisions shared by the probes, pure and unit-tested.
struct DiskVerdict {
  CheckStatus status;
  std::string detail;
};
DiskVerdict disk_verdict(const std::string& path, std::uint64_t free_bytes,
                         std::uint64_t total_bytes);
DiskVerdict memory_verdict(std::uint64_t available_bytes, std::uint64_t total_bytes);
// From /proc/meminfo text: {MemTotal, MemAvailable} in bytes; zeros when missing.
std::pair<std::uint64_t, std::uint64_t> parse_meminfo(const std::string& text);
// Certificate expiry: pass, warn (< 14 days), fail (< 3 days or expired).
CheckStatus expiry_status(double days_left);
// "TLSv1.2"/"TLSv1.3" are fine; anything older is not.
bool modern_tls_version(const std::string& version);

}  // namespace firstboot
