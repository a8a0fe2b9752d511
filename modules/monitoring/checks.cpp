#include "checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/file_writer.h"
#include "probe/connection.h"

namespace firstboot {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  auto b = s.find_first_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b);
}

std::string service_hint(const MonitorConfig& c, const std::string& name) {
  if (c.target == "sandbox")
    return "read " +
           (std::filesystem::path(c.state_dir).parent_path().parent_path().parent_path() /
            "log/firstboot" / (name + ".out"))
               .string() +
           ", then `firstboot run --sandbox DIR --profile FILE` starts it again";
  return "`systemctl status " + name + "` and `journalctl -u " + name +
         "` say why; `firstboot run` starts it again";
}

}  // namespace

std::string module_of_service(const std::string& name) {
  static const std::vector<std::pair<std::string, std::string>> prefixes = {
      {"postfix", "mail"},
      {"dovecot", "mail"},
      {"opendkim", "mail"},
      {"opendmarc", "mail"},
      {"named", "dns"},
      {"bind", "dns"},
      {"nsd", "dns"},
      {"node-exporter", "monitoring"},
      {"prometheus", "monitoring"}};
  for (auto& [prefix, module] : prefixes)
    if (name.rfind(prefix, 0) == 0) return module;
  return "system";
}

std::pair<std::uint64_t, std::uint64_t> parse_meminfo(const std::string& text) {
  std::uint64_t total = 0, available = 0;
  std::istringstream in(text);
  std::string key, unit;
  std::uint64_t value = 0;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") total = value * 1024;
    if (key == "MemAvailable:") available = value * 1024;
  }
  return {total, available};
}

DiskVerdict disk_verdict(const std::string& path, std::uint64_t free_bytes,
                         std::uint64_t total_bytes) {
  double ratio =
      total_bytes ? static_cast<double>(free_bytes) / static_cast<double>(total_bytes) : 0.0;
  std::string detail =
      fmt::format("{}: {:.1f} GiB free of {:.1f} GiB ({:.0f}%)", path, free_bytes / 1073741824.0,
                  total_bytes / 1073741824.0, ratio * 100);
  constexpr std::uint64_t kMiB = 1024 * 1024;
  if (free_bytes < 200 * kMiB || ratio < 0.02) return {CheckStatus::fail, detail};
  if (free_bytes < 1024 * kMiB || ratio < 0.10) return {CheckStatus::warn, detail};
  return {CheckStatus::pass, detail};
}

DiskVerdict memory_verdict(std::uint64_t available_bytes, std::uint64_t total_bytes) {
  double ratio =
      total_bytes ? static_cast<double>(available_bytes) / static_cast<double>(total_bytes) : 0.0;
  std::string detail =
      fmt::format("{} MiB available of {} MiB", available_bytes >> 20, total_bytes >> 20);
  if (total_bytes == 0) return {CheckStatus::fail, "cannot read /proc/meminfo"};
  if (available_bytes < (48u << 20)) return {CheckStatus::fail, detail};
  if (available_bytes < (128u << 20) || ratio < 0.10) return {CheckStatus::warn, detail};
  return {CheckStatus::pass, detail};
}

CheckStatus expiry_status(double days_left) {
  if (days_left < 3) return CheckStatus::fail;
  if (days_left < 14) return CheckStatus::warn;
  return CheckStatus::pass;
}

bool modern_tls_version(const std::string& version) {
  return version == "TLSv1.2" || version == "TLSv1.3";
}

std::shared_ptr<CheckEnvironment> make_check_environment(const MonitorConfig& config,
                                                         ServiceSupervisor* services) {
  auto env = std::make_shared<CheckEnvironment>();
  env->config = config;
  if (services) {
    env->services_known = true;
    std::set<std::string> names(config.services.begin(), config.services.end());
    if (config.target == "sandbox")
      for (auto& s : services->status_all()) names.insert(s.name);
    for (auto& n : names) env->services.push_back(services->status(n));
    if (config.target == "system") env->timer = services->status("firstboot-check.timer");
  }
  if (!config.probe_secret_file.empty()) {
    try {
      env->probe_password = trim(read_file(config.probe_secret_file));
      if (env->probe_password.empty()) env->probe_password_error = "the probe secret is empty";
    } catch (const std::exception& e) {
      env->probe_password_error = e.what();
    }
  }
  return env;
}

namespace {

void add_service_probe(const std::shared_ptr<const CheckEnvironment>& env,
                       std::vector<ProbeSpec>& probes) {
  if (!env->services_known) return;
  ProbeSpec p;
  p.name = "services";
  for (auto& s : env->services)
    p.checks.push_back({"service." + s.name, module_of_service(s.name), CheckSeverity::required,
                        service_hint(env->config, s.name)});
  p.run = [env](probe::Deadline, CheckSink& sink) {
    for (auto& s : env->services) {
      if (s.running)
        sink.pass("service." + s.name, s.detail.empty() ? "running" : s.detail);
      else
        sink.fail("service." + s.name, s.detail.empty() ? "not running" : s.detail);
    }
  };
  probes.push_back(std::move(p));
}

void add_monitoring_probe(const std::shared_ptr<const CheckEnvironment>& env,
                          std::vector<ProbeSpec>& probes) {
  const MonitorConfig& c = env->config;
  ProbeSpec p;
  p.name = "node-exporter";
  p.timeout = env->timeout;
  p.checks = {{"monitoring.exporter", "monitoring", CheckSeverity::required,
               c.target == "sandbox"
                   ? service_hint(c, "node-exporter")
                   : "`systemctl status prometheus-node-exporter`; firstboot run starts it"},
              {"monitoring.timer", "monitoring", CheckSeverity::warning,
               "`systemctl enable --now firstboot-check.timer` (firstboot run does this)"}};
  p.run = [env](probe::Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    if (c.target != "system")
      sink.skip("monitoring.timer", "the sandbox has no timer: run `firstboot check` yourself");
    else if (env->timer.running)
      sink.pass("monitoring.timer",
                "firstboot-check.timer active, every " + std::to_string(c.interval_seconds) + " s");
    else
      sink.fail("monitoring.timer", "firstboot-check.timer: " + env->timer.detail);
    auto conn = probe::Connection::open({c.listen_address, c.ports.metrics, ""}, deadline);
    conn.write("GET /metrics HTTP/1.0\r\nHost: " + c.listen_address + "\r\n\r\n", deadline);
    std::string response = conn.read_to_end(deadline, 16u << 20);
    auto eol = response.find("\r\n");
    std::string status_line = response.substr(0, eol);
    if (status_line.find(" 200 ") == std::string::npos) {
      sink.fail("monitoring.exporter", "GET /metrics answered " + status_line.substr(0, 80));
      return;
    }
    if (response.find("\nnode_textfile_scrape_error 0") == std::string::npos) {
      sink.fail(
          "monitoring.exporter",
          "node-exporter answers but its textfile collector reports an error for " + c.textfile_dir,
          "start node-exporter with --collector.textfile.directory=" + c.textfile_dir);
      return;
    }
    sink.pass("monitoring.exporter", "node-exporter serves metrics on " + c.listen_address + ":" +
                                         std::to_string(c.ports.metrics) +
                                         " with the textfile collector");
  };
  probes.push_back(std::move(p));
}

}  // namespace

std::vector<ProbeSpec> build_probes(const std::shared_ptr<const CheckEnvironment>& env) {
  std::vector<ProbeSpec> probes;
  add_service_probe(env, probes);
  add_mail_probes(env, probes);
  add_dns_probes(env, probes);
  add_system_probes(env, probes);
  add_monitoring_probe(env, probes);
  return probes;
}

CheckRun run_checks(const std::shared_ptr<const CheckEnvironment>& env, probe::Deadline overall) {
  return run_probes(build_probes(env), overall);
}

}  // namespace firstboot
