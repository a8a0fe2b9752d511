// The validated profile: what the user asked for, after schema and semantic checks.
// Modules read only this model, never the raw YAML.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace firstboot {

enum class MailMode { relay, local, full };

struct DkimSettings {
  std::string selector = "mail";
  std::vector<std::string> algorithms = {"rsa-2048"};  // "rsa-2048", "ed25519"
};

struct DmarcSettings {
  std::string policy = "quarantine";  // none | quarantine | reject
  std::string rua;                    // aggregate report address, may be empty
};

struct Domain {
  std::string name;
  DkimSettings dkim;
  DmarcSettings dmarc;
};

struct User {
  std::string address;
  std::string password_hash;  // crypt(3); filled from password_file by the mail module when absent
  std::string password_file;  // read once, then wiped after a successful apply
  std::uint64_t quota_bytes = 0;  // 0: unlimited
};

struct Alias {
  std::string from;
  std::vector<std::string> to;
};

struct Relay {
  std::string host;
  int port = 587;
  std::string username;
  std::string password_file;
  std::string spf_include;  // e.g. "_spf.provider.example", added to the SPF record
  std::map<std::string, std::string> mappings;  // rewritten envelope and header addresses
};

struct TlsSettings {
  std::string source = "self-signed";    // self-signed | provided | acme
  std::string cert_file;                 // provided
  std::string key_file;                  // provided
  std::string acme_directory;            // acme
  std::string acme_email;                // acme
  std::vector<std::string> extra_names;  // further SAN host names
};

struct DnsSettings {
  std::string serve = "none";  // bind | nsd | none
  bool dnssec = false;
  std::string resolver;  // host[:port] used to verify records when serve is none; empty: system
};

struct MonitoringSettings {
  int interval_seconds = 900;
  std::string alert_to;
};

struct Limits {
  std::uint64_t message_size_bytes = 25 * 1024 * 1024;
  int recipients_per_message = 100;
  int messages_per_minute = 60;  // per authenticated sender
};

// firstboot backup (docs/backup.md).
struct BackupSettings {
  std::string dir = "/var/backups/firstboot";  // system path, mapped by the layout
  std::string passphrase_file;                 // absolute; empty: archives are not encrypted
  int keep = 7;                                // newest archives kept
  int max_age_days = 30;                       // older ones removed; 0: no age limit
};

// Ports the daemons listen on in the sandbox (loopback only). On a real system the standard ports.
struct Ports {
  int smtp = 2525;
  int submission = 5587;
  int smtps = 4465;
  int imap = 1144;
  int imaps = 9933;
  int pop3 = 1110;
  int pop3s = 9955;
  int dns = 5353;
  int opendkim = 8891;
  int opendmarc = 8893;
  int metrics = 9100;
  int lmtp = 2424;
};

struct Profile {
  std::string source_file;  // where it was loaded from, for messages
  std::string hostname;     // FQDN of the mail host
  std::string admin_email;
  MailMode mode = MailMode::full;
  std::vector<Domain> domains;
  std::vector<User> users;
  std::vector<Alias> aliases;
  std::optional<Relay> relay;
  TlsSettings tls;
  DnsSettings dns;
  std::string database = "sqlite";     // "sqlite" or a postgresql:// URL
  std::string database_password_file;  // PostgreSQL password, read by the store; never logged
  MonitoringSettings monitoring;
  Limits limits;
  BackupSettings backup;
  Ports sandbox_ports;
  std::string public_ipv4;  // may be empty: detected or reported as unknown
  std::string public_ipv6;
  // SHA-256 (hex) of the canonical JSON form; a change means modules must reconsider their work.
  std::string digest;
  // The canonical JSON text of the profile as validated (for the stored copy, never with secrets).
  std::string canonical_json;
};

const char* to_string(MailMode mode);

}  // namespace firstboot
