// The user store: domains, users, aliases, DNS records and certificates, in SQLite (default, one
// file under the state dir) or PostgreSQL. The engine is the only writer; Postfix and Dovecot read
// it through their own lookup drivers. Every write compares first, so a re-run with the same
// profile leaves the database file untouched.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace firstboot {

class Layout;
struct Profile;

struct DnsRecordRow {
  std::string domain;  // zone apex, "example.com"
  std::string name;    // owner name relative to the zone, "@" or "mail._domainkey"
  std::string type;    // "TXT", "MX", ...
  int ttl = 3600;
  std::string value;    // presentation value without quoting/splitting ("v=DKIM1; k=rsa; p=...")
  std::string purpose;  // "dkim", "spf", ... (free text for the onboarding checklist)
};

struct UserRow {
  std::string address;            // "alice@example.com"
  std::string password_hash;      // crypt(3), "$y$..."
  std::uint64_t quota_bytes = 0;  // 0: unlimited
};

struct AliasRow {
  std::string source;       // "postmaster@example.com"
  std::string destination;  // one row per destination address
};

struct CertificateRow {
  std::string host;            // "mail.example.com"
  std::string source;          // "live" | "staged" | "self-signed"
  std::string sha256;          // fingerprint of the DER certificate, hex
  std::string not_after;       // ISO 8601 UTC
  std::string fullchain_path;  // system path (not mapped)
  std::string key_path;
};

class Store {
 public:
  virtual ~Store() = default;

  // Brings the schema to the current version (versioned migrations; never drops data).
  virtual void migrate() = 0;
  virtual int schema_version() = 0;

  // A random token per domain for the ownership-verification TXT, created once and kept.
  virtual std::string verification_token(const std::string& domain) = 0;

  // Records owned by a module for a domain: replaces that module's rows for the domain (only when
  // they differ). Returns true when anything changed.
  virtual bool put_dns_records(const std::string& domain, const std::string& purpose_group,
                               const std::vector<DnsRecordRow>& rows) = 0;
  virtual std::vector<DnsRecordRow> dns_records(const std::string& domain) = 0;

  // The mail data, replaced as a whole set from the profile; each returns true when anything
  // changed (rows compared first: an unchanged set writes nothing).
  virtual bool sync_domains(const std::vector<std::string>& names) = 0;
  virtual bool sync_users(const std::vector<UserRow>& users) = 0;
  virtual bool sync_aliases(const std::vector<AliasRow>& aliases) = 0;
  virtual std::vector<std::string> domains() = 0;
  virtual std::vector<UserRow> users() = 0;
  virtual std::vector<AliasRow> aliases() = 0;
  // The stored hash for one user (a password_file is read once; later runs keep this hash).
  virtual std::optional<std::string> password_hash(const std::string& address) = 0;

  virtual bool put_certificate(const CertificateRow& row) = 0;
  virtual std::vector<CertificateRow> certificates() = 0;

  // "sqlite" or "postgresql": which lookup driver Postfix and Dovecot use.
  virtual std::string driver() const = 0;
  // SQLite: the database file as the daemons open it, already mapped: the sandbox path in a
  // sandbox (its daemons run now), /var/lib/firstboot/users.sqlite on the real system and in an
  // offline image (its daemons run after boot). Put it in configs as is; do not map it again.
  // PostgreSQL: the conninfo string.
  virtual std::string location() const = 0;
};

// Opens the store the profile names (sqlite under layout.state_dir(), or a postgresql:// URL).
// read_only (plan mode): never creates or writes anything; a missing database reads as empty.
// Throws Error when it cannot be opened.
std::unique_ptr<Store> open_store(const Profile& profile, const Layout& layout,
                                  bool read_only = false);

}  // namespace firstboot
