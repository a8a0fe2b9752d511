#include "mail_config.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>

#include <algorithm>
#include <set>

#include "engine/error.h"
#include "store/lookup_queries.h"

namespace firstboot {

namespace {

using json = nlohmann::json;

// The Debian mail user owns the Maildirs (virtual mailboxes need one uid; Dovecot refuses root).
struct MailOwner {
  std::string uid = "8";
  std::string gid = "8";
};

MailOwner mail_owner() {
  MailOwner owner;
  if (const passwd* pw = getpwnam("mail")) {
    owner.uid = std::to_string(pw->pw_uid);
    owner.gid = std::to_string(pw->pw_gid);
  }
  return owner;
}

std::string listen_service(const Layout& layout, int port) {
  // In the sandbox every listener is on loopback; on a real system on every interface.
  return layout.is_sandbox() ? "127.0.0.1:" + std::to_string(port) : std::to_string(port);
}

std::string milter(int port) { return "inet:127.0.0.1:" + std::to_string(port); }

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "" : address.substr(at + 1);
}

const FileAttrs kConfig{0644, "root", ""};

// An optional value: null (a false section in the templates) when empty.
json opt(const std::string& value) { return value.empty() ? json(nullptr) : json(value); }

}  // namespace

std::string daemon_path(const Layout& layout, std::string_view system_path) {
  if (layout.target() == Target::offline) return std::string(system_path);
  return layout.map(system_path).string();
}

bool has_ed25519(const Profile& profile) {
  for (auto& d : profile.domains)
    for (auto& a : d.dkim.algorithms)
      if (a == "ed25519") return true;
  return false;
}

bool has_rsa(const Profile& profile) {
  for (auto& d : profile.domains)
    for (auto& a : d.dkim.algorithms)
      if (a == "rsa-2048") return true;
  return false;
}

std::vector<std::string> mail_services(const Profile& profile) {
  std::vector<std::string> out;
  if (has_rsa(profile)) out.push_back(kOpendkim);
  if (has_ed25519(profile)) out.push_back(kOpendkimEd25519);
  if (profile.mode != MailMode::relay) out.push_back(kOpendmarc);
  if (profile.mode == MailMode::full) out.push_back(kDovecot);
  out.push_back(kPostfix);
  return out;
}

std::string relay_nexthop(const Relay& relay) {
  std::string host = relay.host.find(':') != std::string::npos ? "ipv6:" + relay.host : relay.host;
  return "[" + host + "]:" + std::to_string(relay.port);
}

std::string relay_password_problem(const std::string& password) {
  if (password.empty()) return "the relay password file is empty";
  for (unsigned char c : password)
    if (c < 0x20 || c == 0x7f) return "the relay password contains a control character";
  if (password.front() == ' ' || password.back() == ' ')
    return "the relay password starts or ends with a blank";
  return "";
}

std::string installed_relay_password(const std::string& sasl_passwd_text, const Relay& relay) {
  std::string prefix = relay_nexthop(relay) + " " + relay.username + ":";
  std::size_t pos = 0;
  while (pos < sasl_passwd_text.size()) {
    std::size_t end = sasl_passwd_text.find('\n', pos);
    if (end == std::string::npos) end = sasl_passwd_text.size();
    std::string line = sasl_passwd_text.substr(pos, end - pos);
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());  // the first, as Postfix
    pos = end + 1;
  }
  return "";
}

std::string probe_address(const Profile& profile) {
  return probe::probe_account_address(profile.domains.empty() ? "" : profile.domains.front().name);
}

std::vector<Alias> required_aliases(const Profile& profile) {
  std::set<std::string> defined;
  for (auto& u : profile.users) defined.insert(u.address);
  for (auto& a : profile.aliases) defined.insert(a.from);
  std::set<std::string> local_users;
  for (auto& u : profile.users) local_users.insert(u.address);
  // The admin address, unless it is in one of our domains without a mailbox (the alias would then
  // point nowhere): then the first mailbox of that domain, else the first mailbox at all.
  std::string target = profile.admin_email;
  std::string admin_domain = domain_of(target);
  bool ours = std::any_of(profile.domains.begin(), profile.domains.end(),
                          [&](const Domain& d) { return d.name == admin_domain; });
  if (ours && !defined.count(target)) {
    std::string fallback;
    for (auto& u : profile.users)
      if (domain_of(u.address) == admin_domain) {
        fallback = u.address;
        break;
      }
    if (fallback.empty() && !profile.users.empty()) fallback = profile.users.front().address;
    target = fallback;
  }
  std::vector<Alias> out;
  if (target.empty()) return out;
  for (auto& d : profile.domains)
    for (const char* local : {"postmaster", "abuse"}) {
      std::string address = std::string(local) + "@" + d.name;
      if (!defined.count(address)) out.push_back({address, {target}});
    }
  return out;
}

std::vector<int> service_ports(const std::string& name, const Profile& profile,
                               const Ports& ports) {
  if (name == kPostfix) {
    if (profile.mode == MailMode::full) return {ports.smtp, ports.submission, ports.smtps};
    return {ports.smtp};
  }
  if (name == kDovecot) return {ports.imap, ports.imaps, ports.pop3, ports.pop3s, ports.lmtp};
  if (name == kOpendkim) return {ports.opendkim};
  if (name == kOpendkimEd25519) return {ports.opendkim + 1};
  if (name == kOpendmarc) return {ports.opendmarc};
  return {};
}

ServiceSpec mail_service_spec(const std::string& name, const Profile& profile, const Layout& layout,
                              const Ports& ports) {
  ServiceSpec spec;
  spec.name = name;
  // Sandbox daemons listen on 127.0.0.1; on a real system Postfix and Dovecot listen everywhere
  // (loopback answers too) and the milters on loopback.
  for (int port : service_ports(name, profile, ports))
    spec.ready_when.push_back(ReadinessProbe::tcp("127.0.0.1", port));
  if (name == kPostfix) {
    spec.systemd_unit = "postfix@-.service";
    spec.argv = {"/usr/lib/postfix/sbin/master", "-c", daemon_path(layout, "/etc/postfix"), "-d"};
    spec.reload_signal = SIGHUP;  // master re-reads main.cf/master.cf; children restart lazily
  } else if (name == kDovecot) {
    spec.systemd_unit = "dovecot.service";
    spec.argv = {"/usr/sbin/dovecot", "-F", "-c", daemon_path(layout, "/etc/dovecot/dovecot.conf")};
    spec.reload_signal = SIGHUP;
  } else if (name == kOpendkim) {
    spec.systemd_unit = "opendkim.service";
    spec.argv = {"/usr/sbin/opendkim", "-f", "-x", daemon_path(layout, "/etc/opendkim.conf")};
  } else if (name == kOpendkimEd25519) {
    spec.systemd_unit = "opendkim-ed25519.service";
    spec.argv = {"/usr/sbin/opendkim", "-f", "-x",
                 daemon_path(layout, "/etc/opendkim-ed25519.conf")};
  } else if (name == kOpendmarc) {
    spec.systemd_unit = "opendmarc.service";
    spec.argv = {"/usr/sbin/opendmarc", "-f", "-c", daemon_path(layout, "/etc/opendmarc.conf")};
  } else {
    throw Error("internal: unknown mail service " + name);
  }
  return spec;
}

std::vector<MailFile> mail_files(const MailInputs& in) {
  const Profile& p = in.profile;
  const Layout& layout = in.layout;
  const Ports& ports = in.ports;
  auto dp = [&](std::string_view sys) { return daemon_path(layout, sys); };
  bool sandbox = layout.is_sandbox();
  bool full = p.mode == MailMode::full;
  bool local = p.mode == MailMode::local;
  bool relay = p.mode == MailMode::relay;
  MailOwner owner = mail_owner();

  std::string tls_dir = "/etc/firstboot/tls/" + p.hostname;
  std::vector<std::string> smtpd_milters, local_milters;
  if (has_rsa(p)) smtpd_milters.push_back(milter(ports.opendkim));
  if (has_ed25519(p)) smtpd_milters.push_back(milter(ports.opendkim + 1));
  local_milters = smtpd_milters;
  if (!relay) smtpd_milters.push_back(milter(ports.opendmarc));

  std::string first_domain = p.domains.empty() ? p.hostname : p.domains.front().name;
  LookupQueries q = lookup_queries("sqlite", dp("/var/vmail"));
  json base = {
      {"mode", to_string(p.mode)},
      {"mode_full", full},
      {"mode_local", local},
      {"mode_relay", relay},
      {"hostname", p.hostname},
      {"mydomain", first_domain},
      // A null client's own mail (cron, bounces) looks like it comes from the first domain.
      {"myorigin", relay ? first_domain : "$myhostname"},
      {"inet_interfaces", sandbox ? "127.0.0.1" : (relay ? "loopback-only" : "all")},
      {"inet_protocols", sandbox ? "ipv4" : "all"},
      {"peername_lookup", !sandbox},
      {"config_dir", dp("/etc/postfix")},
      {"queue_dir", dp("/var/spool/postfix")},
      {"data_dir", dp("/var/lib/postfix")},
      {"maillog_file", opt(sandbox ? dp("/var/log/mail/postfix.log") : "")},
      {"maillog_file_prefixes", opt(sandbox ? dp("/var/log/mail") : "")},
      {"message_size_limit", std::to_string(p.limits.message_size_bytes)},
      {"recipient_limit", std::to_string(p.limits.recipients_per_message)},
      {"message_rate_limit", std::to_string(p.limits.messages_per_minute)},
      {"tls_cert", dp(tls_dir + "/fullchain.pem")},
      {"tls_key", dp(tls_dir + "/privkey.pem")},
      {"smtpd_tls_security_level", "may"},
      {"smtp_tls_security_level", relay ? "encrypt" : "may"},
      {"smtp_service", listen_service(layout, ports.smtp)},
      {"submission_service", listen_service(layout, ports.submission)},
      {"smtps_service", listen_service(layout, ports.smtps)},
      {"smtpd_milters", join(smtpd_milters, ", ")},
      {"non_smtpd_milters", join(local_milters, ", ")},
      {"db_path", in.db_location},
      {"db_driver", "sqlite"},
      {"db_connect", in.db_location},
      {"vmail_dir", dp("/var/vmail")},
      {"vmail_uid", owner.uid},
      {"vmail_gid", owner.gid},
      {"lmtp_address", "127.0.0.1"},
      {"lmtp_port", std::to_string(ports.lmtp)},
      {"sasl_path", dp("/var/spool/postfix/private/auth")},
      {"sasl_socket", dp("/var/spool/postfix/private/auth")},
      {"dovecot_listen", sandbox ? "127.0.0.1" : "*, ::"},
      {"dovecot_base_dir", dp("/run/dovecot")},
      {"dovecot_state_dir", dp("/var/lib/dovecot")},
      {"dovecot_log_path", opt(sandbox ? dp("/var/log/mail/dovecot.log") : "")},
      {"dovecot_sql_conf", dp("/etc/dovecot/dovecot-sql.conf.ext")},
      {"postmaster_address", "postmaster@" + first_domain},
      {"imap_port", std::to_string(ports.imap)},
      {"imaps_port", std::to_string(ports.imaps)},
      {"pop3_port", std::to_string(ports.pop3)},
      {"pop3s_port", std::to_string(ports.pop3s)},
      {"q_domains", q.virtual_mailbox_domains},
      {"q_mailboxes", q.virtual_mailbox_maps},
      {"q_aliases", q.virtual_alias_maps},
      {"q_senders", q.smtpd_sender_login_maps},
      {"q_password", q.password_query},
      {"q_user", q.user_query},
      {"q_iterate", q.iterate_query},
      {"trusted_hosts", dp("/etc/opendkim/trusted.hosts")},
      {"ignore_hosts", dp("/etc/opendmarc/ignore.hosts")},
  };

  std::vector<MailFile> files;
  auto add = [&](std::string sys, std::string tmpl, json data, std::string service, bool restart,
                 FileAttrs attrs = kConfig, bool secret = false) {
    files.push_back({std::move(sys),
                     "mail/" + std::move(tmpl),
                     std::move(data),
                     std::move(attrs),
                     {std::move(service)},
                     restart,
                     secret});
  };

  // Postfix.
  add("/etc/postfix/main.cf", "postfix/main.cf", base, kPostfix, true);
  add("/etc/postfix/master.cf", "postfix/master.cf", base, kPostfix, true);
  if (relay && p.relay) {
    json r = base;
    r["relay_nexthop"] = relay_nexthop(*p.relay);
    r["sasl_password_map"] = dp("/etc/postfix/sasl_passwd");
    r["canonical_map"] = dp("/etc/postfix/canonical");
    files.front().data = r;  // main.cf needs the relay values
    json mappings = json::array();
    for (auto& [from, to] : p.relay->mappings) mappings.push_back({{"from", from}, {"to", to}});
    add("/etc/postfix/canonical", "postfix/canonical", {{"mappings", mappings}}, kPostfix, false);
    add("/etc/postfix/sasl_passwd", "postfix/sasl_passwd",
        {{"nexthop", relay_nexthop(*p.relay)},
         {"username", p.relay->username},
         {"password", in.relay_secret}},
        kPostfix, false, FileAttrs{0600, "root", ""}, true);
  } else {
    for (const char* map : {"sqlite-domains.cf", "sqlite-mailboxes.cf", "sqlite-aliases.cf"})
      add(std::string("/etc/postfix/") + map, std::string("postfix/") + map, base, kPostfix, false);
    if (full)
      add("/etc/postfix/sqlite-senders.cf", "postfix/sqlite-senders.cf", base, kPostfix, false);
  }

  // Dovecot (full mode): IMAP, POP3, LMTP, SASL for Postfix.
  if (full) {
    add("/etc/dovecot/dovecot.conf", "dovecot/dovecot.conf", base, kDovecot, false);
    add("/etc/dovecot/dovecot-sql.conf.ext", "dovecot/dovecot-sql.conf.ext", base, kDovecot, false,
        FileAttrs{0640, "root", "dovecot"});
  }

  // OpenDKIM: one instance per algorithm.
  auto dkim_instance = [&](const std::string& service, const std::string& algorithm,
                           const std::string& conf, const std::string& suffix, int port,
                           bool verify) {
    json keys = json::array();
    for (auto& d : p.domains)
      for (auto& a : d.dkim.algorithms) {
        bool ed = a == "ed25519";
        if (ed != (algorithm == "ed25519-sha256")) continue;
        std::string selector = ed ? d.dkim.selector + "-ed25519" : d.dkim.selector;
        keys.push_back(
            {{"domain", d.name},
             {"selector", selector},
             {"key_file", dp("/etc/opendkim/keys/" + d.name + "/" + selector + ".private")}});
      }
    json data = base;
    data["algorithm"] = algorithm;
    data["dkim_mode"] = verify ? "sv" : "s";
    data["verify"] = verify;
    data["milter_port"] = std::to_string(port);
    data["key_table"] = dp("/etc/opendkim/key" + suffix + ".table");
    data["signing_table"] = dp("/etc/opendkim/signing" + suffix + ".table");
    data["pid_file"] = opt(sandbox ? "" : "/run/opendkim/" + service + ".pid");
    data["keys"] = keys;
    add(conf, "opendkim/opendkim.conf", data, service, true);
    add("/etc/opendkim/key" + suffix + ".table", "opendkim/key.table", data, service, true);
    add("/etc/opendkim/signing" + suffix + ".table", "opendkim/signing.table", data, service, true);
  };
  if (has_rsa(p))
    dkim_instance(kOpendkim, "rsa-sha256", "/etc/opendkim.conf", "", ports.opendkim, true);
  if (has_ed25519(p))
    dkim_instance(kOpendkimEd25519, "ed25519-sha256", "/etc/opendkim-ed25519.conf", "-ed25519",
                  ports.opendkim + 1, !has_rsa(p));
  add("/etc/opendkim/trusted.hosts", "opendkim/trusted.hosts", base, kOpendkim, true);
  files.back().services.clear();
  if (has_rsa(p)) files.back().services.push_back(kOpendkim);
  if (has_ed25519(p)) files.back().services.push_back(kOpendkimEd25519);
  if (!sandbox && has_ed25519(p))
    add("/etc/systemd/system/opendkim-ed25519.service", "opendkim/opendkim-ed25519.service", base,
        kOpendkimEd25519, true);

  // OpenDMARC (receiving modes).
  if (!relay) {
    json data = base;
    data["milter_port"] = std::to_string(ports.opendmarc);
    data["pid_file"] = opt(sandbox ? "" : "/run/opendmarc/opendmarc.pid");
    add("/etc/opendmarc.conf", "opendmarc/opendmarc.conf", data, kOpendmarc, true);
    add("/etc/opendmarc/ignore.hosts", "opendmarc/ignore.hosts", data, kOpendmarc, true);
  }
  return files;
}

}  // namespace firstboot
