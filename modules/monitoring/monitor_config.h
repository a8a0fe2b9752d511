// What the checks need to know, resolved once by the monitoring module from the profile and the
// layout and written to /etc/firstboot/monitoring.json, so `firstboot status` and `firstboot check`
// (and the timer) run the same checks without the profile file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/layout.h"
#include "profile/profile.h"

namespace firstboot {

struct MonitoredSelector {
  std::string selector;
  std::string algorithm;  // "rsa-2048" | "ed25519"
  std::string key_file;   // mapped path of the private key
};

struct MonitoredDomain {
  std::string name;
  std::vector<MonitoredSelector> dkim;
};

// A DNS record the dns module planned (from the store's dns_records).
struct ExpectedRecord {
  std::string domain;  // zone apex
  std::string name;    // "@", "_dmarc", "mail._domainkey"
  std::string type;    // "TXT", "MX", ...
  std::string value;   // presentation value, TXT unquoted
};

struct MonitorConfig {
  std::string target;  // "sandbox" | "system"
  std::string hostname;
  std::string mode;  // relay | local | full
  std::vector<MonitoredDomain> domains;
  std::vector<std::string> cert_hosts;  // the mail host names that must have a certificate
  Ports ports;
  std::string listen_address = "127.0.0.1";   // where the probes connect
  std::string outside_address = "127.0.0.2";  // the "outside" client of the open-relay probe
  std::string dns_server;  // "127.0.0.1:5353", a resolver "host[:port]", or "" for the system's
  bool dns_served = false;
  std::string alert_to;
  std::string probe_address;      // firstboot-probe@<first domain> (full mode)
  std::string probe_secret_file;  // mapped
  std::string relay_host;
  int relay_port = 0;
  std::string relay_username;
  int interval_seconds = 900;
  std::vector<std::string> services;    // supervisor names expected to run
  std::string postfix_config_dir;       // mapped
  std::string maillog_file;             // mapped
  std::string queue_dir;                // mapped
  std::string textfile_dir;             // mapped node-exporter textfile directory
  std::string state_dir;                // mapped /var/lib/firstboot/monitoring
  std::string tls_dir;                  // mapped /etc/firstboot/tls
  std::vector<std::string> disk_paths;  // mapped: filesystems that must have room
  std::vector<ExpectedRecord> dns_records;

  // Stable text: the same profile gives the same bytes (so a re-run writes nothing).
  std::string to_json() const;
  static MonitorConfig from_json(const std::string& text);  // throws Error
};

// System paths of the monitoring files (map them with the layout).
inline constexpr const char* kMonitorConfigPath = "/etc/firstboot/monitoring.json";
inline constexpr const char* kTextfileDir = "/var/lib/prometheus/node-exporter";
inline constexpr const char* kMonitorStateDir = "/var/lib/firstboot/monitoring";

// main_cf_text: the rendered Postfix main.cf (may be empty): maillog_file and queue_directory
// come from it when set.
MonitorConfig build_monitor_config(const Profile& profile, const Layout& layout, const Ports& ports,
                                   const std::string& main_cf_text,
                                   std::vector<ExpectedRecord> dns_records);

// Reads the configuration for a layout; nullopt when the monitoring module has not run there.
std::optional<MonitorConfig> load_monitor_config(const Layout& layout);

// The value of "key = value" in a Postfix main.cf (last assignment wins); empty when unset.
std::string postfix_main_cf_value(const std::string& main_cf_text, const std::string& key);

// The services each mode runs, by supervisor name (the sandbox's supervisor adds what it records).
std::vector<std::string> expected_services(const Profile& profile);

}  // namespace firstboot
