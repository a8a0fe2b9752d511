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
  std::string domain;   // zone apex, "example.com"
  std::string name;     // owner name relative to the zone, "@" or "mail._domainkey"
  std::string type;     // "TXT", "MX", ...
  int ttl = 3600;
  std::string value;    // presentation value without quoting/splitting ("v=DKIM1; k=rsa; p=...")
  std::string purpose;  // "dkim", "spf", ... (free text for the onboarding checklist)
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
};

// Opens the store the profile names (sqlite under layout.state_dir(), or a postgresql:// URL).
// read_only (plan mode): never creates or writes anything; a missing database reads as empty.
// Throws Error when it cannot be opened.
std::unique_ptr<Store> open_store(const Profile& profile, const Layout& layout,
                                  bool read_only = false);

}  // namespace firstboot
