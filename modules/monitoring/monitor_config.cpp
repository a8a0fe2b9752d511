#include "monitor_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/dkim_keys.h"
#include "engine/error.h"
#include "engine/file_writer.h"
#include "probe/probe_account.h"

namespace firstboot {

using nlohmann::json;

namespace {

json ports_json(const Ports& p) {
  return {{"smtp", p.smtp},         {"submission", p.submission},
          {"smtps", p.smtps},       {"imap", p.imap},
          {"imaps", p.imaps},       {"pop3", p.pop3},
          {"pop3s", p.pop3s},       {"dns", p.dns},
          {"opendkim", p.opendkim}, {"opendmarc", p.opendmarc},
          {"metrics", p.metrics},   {"lmtp", p.lmtp}};
}

Ports ports_from(const json& j) {
  Ports p;
  auto get = [&](const char* key, int& field) {
    if (j.contains(key)) field = j.at(key).get<int>();
  };
  get("smtp", p.smtp);
  get("submission", p.submission);
  get("smtps", p.smtps);
  get("imap", p.imap);
  get("imaps", p.imaps);
  get("pop3", p.pop3);
  get("pop3s", p.pop3s);
  get("dns", p.dns);
  get("opendkim", p.opendkim);
  get("opendmarc", p.opendmarc);
  get("metrics", p.metrics);
  get("lmtp", p.lmtp);
  return p;
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key) && j.at(key).is_array())
    for (auto& v : j.at(key)) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::string MonitorConfig::to_json() const {
  json doms = json::array();
  for (auto& d : domains) {
    json sels = json::array();
    for (auto& s : d.dkim)
      sels.push_back(
          {{"selector", s.selector}, {"algorithm", s.algorithm}, {"key_file", s.key_file}});
    doms.push_back({{"name", d.name}, {"dkim", sels}});
  }
  json records = json::array();
  for (auto& r : dns_records)
    records.push_back(
        {{"domain", r.domain}, {"name", r.name}, {"type", r.type}, {"value", r.value}});
  json j = {{"version", 1},
            {"target", target},
            {"hostname", hostname},
            {"mode", mode},
            {"domains", doms},
            {"cert_hosts", cert_hosts},
            {"ports", ports_json(ports)},
            {"listen_address", listen_address},
            {"outside_address", outside_address},
            {"dns_server", dns_server},
            {"dns_served", dns_served},
            {"alert_to", alert_to},
            {"probe_address", probe_address},
            {"probe_secret_file", probe_secret_file},
            {"relay_host", relay_host},
            {"relay_port", relay_port},
            {"relay_username", relay_username},
            {"interval_seconds", interval_seconds},
            {"services", services},
            {"postfix_config_dir", postfix_config_dir},
            {"maillog_file", maillog_file},
            {"queue_dir", queue_dir},
            {"textfile_dir", textfile_dir},
            {"state_dir", state_dir},
            {"tls_dir", tls_dir},
            {"disk_paths", disk_paths},
            {"dns_records", records}};
  return j.dump(2) + "\n";
}

MonitorConfig MonitorConfig::from_json(const std::string& text) {
  MonitorConfig c;
  try {
    json j = json::parse(text);
    c.target = str(j, "target");
    c.hostname = str(j, "hostname");
    c.mode = str(j, "mode");
    if (j.contains("domains"))
      for (auto& d : j.at("domains")) {
        MonitoredDomain md;
        md.name = str(d, "name");
        if (d.contains("dkim"))
          for (auto& s : d.at("dkim"))
            md.dkim.push_back({str(s, "selector"), str(s, "algorithm"), str(s, "key_file")});
        c.domains.push_back(md);
      }
    c.cert_hosts = strings(j, "cert_hosts");
    if (j.contains("ports")) c.ports = ports_from(j.at("ports"));
    c.listen_address = str(j, "listen_address");
    c.outside_address = str(j, "outside_address");
    c.dns_server = str(j, "dns_server");
    c.dns_served = j.contains("dns_served") && j.at("dns_served").get<bool>();
    c.alert_to = str(j, "alert_to");
    c.probe_address = str(j, "probe_address");
    c.probe_secret_file = str(j, "probe_secret_file");
    c.relay_host = str(j, "relay_host");
    c.relay_port = j.contains("relay_port") ? j.at("relay_port").get<int>() : 0;
    c.relay_username = str(j, "relay_username");
    c.interval_seconds = j.contains("interval_seconds") ? j.at("interval_seconds").get<int>() : 900;
    c.services = strings(j, "services");
    c.postfix_config_dir = str(j, "postfix_config_dir");
    c.maillog_file = str(j, "maillog_file");
    c.queue_dir = str(j, "queue_dir");
    c.textfile_dir = str(j, "textfile_dir");
    c.state_dir = str(j, "state_dir");
    c.tls_dir = str(j, "tls_dir");
    c.disk_paths = strings(j, "disk_paths");
    if (j.contains("dns_records"))
      for (auto& r : j.at("dns_records"))
        c.dns_records.push_back(
            {str(r, "domain"), str(r, "name"), str(r, "type"), str(r, "value")});
  } catch (const json::exception& e) {
    throw Error(std::string("reading the monitoring configuration: ") + e.what());
  }
  return c;
}

std::string postfix_main_cf_value(const std::string& main_cf_text, const std::string& key) {
  std::istringstream in(main_cf_text);
  std::string line, value;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || std::isspace(static_cast<unsigned char>(line[0])))
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(0, eq);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    if (name != key) continue;
    value = line.substr(eq + 1);
    auto b = value.find_first_not_of(" \t");
    value = b == std::string::npos ? "" : value.substr(b);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
  }
  return value;
}

std::vector<std::string> expected_services(const Profile& profile) {
  // The names the mail and dns modules give their services.
  std::vector<std::string> out{"postfix"};
  bool rsa = false, ed25519 = false;
  for (auto& d : profile.domains)
    for (auto& a : d.dkim.algorithms) {
      rsa = rsa || a == "rsa-2048";
      ed25519 = ed25519 || a == "ed25519";
    }
  if (rsa) out.push_back("opendkim");
  if (ed25519) out.push_back("opendkim-ed25519");
  if (profile.mode != MailMode::relay) out.push_back("opendmarc");
  if (profile.mode == MailMode::full) out.push_back("dovecot");
  if (profile.dns.serve == "bind") out.push_back("named");
  if (profile.dns.serve == "nsd") out.push_back("nsd");
  out.push_back("node-exporter");
  return out;
}

MonitorConfig build_monitor_config(const Profile& profile, const Layout& layout, const Ports& ports,
                                   const std::string& main_cf_text,
                                   std::vector<ExpectedRecord> dns_records) {
  MonitorConfig c;
  c.target = layout.is_sandbox() ? "sandbox" : "system";
  c.hostname = profile.hostname;
  c.mode = to_string(profile.mode);
  for (auto& d : profile.domains) c.domains.push_back({d.name, {}});
  for (auto& key : dkim_keys_for(profile, layout)) {
    for (auto& d : c.domains)
      if (d.name == key.domain)
        d.dkim.push_back({key.selector, key.algorithm, key.private_key.string()});
  }
  c.cert_hosts.push_back(profile.hostname);
  for (auto& n : profile.tls.extra_names)
    if (std::find(c.cert_hosts.begin(), c.cert_hosts.end(), n) == c.cert_hosts.end())
      c.cert_hosts.push_back(n);
  c.ports = ports;
  c.dns_served = profile.dns.serve == "bind" || profile.dns.serve == "nsd";
  c.dns_server = c.dns_served ? "127.0.0.1:" + std::to_string(ports.dns) : profile.dns.resolver;
  c.alert_to =
      profile.monitoring.alert_to.empty() ? profile.admin_email : profile.monitoring.alert_to;
  if (profile.mode == MailMode::full && !profile.domains.empty()) {
    c.probe_address = probe::probe_account_address(profile.domains.front().name);
    c.probe_secret_file = layout.map(probe::kProbeSecretPath).string();
  }
  if (profile.relay) {
    c.relay_host = profile.relay->host;
    c.relay_port = profile.relay->port;
    c.relay_username = profile.relay->username;
  }
  c.interval_seconds = profile.monitoring.interval_seconds;
  c.services = expected_services(profile);
  c.postfix_config_dir = layout.map("/etc/postfix").string();
  std::string maillog = postfix_main_cf_value(main_cf_text, "maillog_file");
  // In the sandbox main.cf already names sandbox paths; on a real system syslog writes mail.log.
  c.maillog_file = !maillog.empty() && maillog.front() == '/'
                       ? (layout.is_sandbox() ? maillog : layout.map(maillog).string())
                       : layout.map("/var/log/mail.log").string();
  std::string queue = postfix_main_cf_value(main_cf_text, "queue_directory");
  c.queue_dir = !queue.empty() && queue.front() == '/'
                    ? (layout.is_sandbox() ? queue : layout.map(queue).string())
                    : layout.map("/var/spool/postfix").string();
  c.textfile_dir = layout.map(kTextfileDir).string();
  c.state_dir = layout.map(kMonitorStateDir).string();
  c.tls_dir = layout.map("/etc/firstboot/tls").string();
  c.disk_paths = {layout.map("/var/lib/firstboot").string(), c.queue_dir,
                  layout.map("/var/vmail").string()};
  c.dns_records = std::move(dns_records);
  return c;
}

std::optional<MonitorConfig> load_monitor_config(const Layout& layout) {
  std::filesystem::path file = layout.map(kMonitorConfigPath);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  return MonitorConfig::from_json(read_file(file));
}

}  // namespace firstboot
