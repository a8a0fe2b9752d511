// The Store over any SqlConnection: compare first, then write only the rows that differ, inside one
// write transaction that is begun only when something differs (so an unchanged re-run leaves the
// database file untouched, mtime included).
#pragma once

#include <memory>
#include <string>

#include "store/sql_connection.h"
#include "store/store.h"

namespace firstboot {

class SqlStore : public Store {
 public:
  // read_only: `db` is a scratch copy (plan mode); verification tokens are not invented.
  SqlStore(std::unique_ptr<SqlConnection> db, std::string location, bool read_only);

  void migrate() override;
  int schema_version() override;
  std::string verification_token(const std::string& domain) override;
  bool put_dns_records(const std::string& domain, const std::string& purpose_group,
                       const std::vector<DnsRecordRow>& rows) override;
  std::vector<DnsRecordRow> dns_records(const std::string& domain) override;
  bool sync_domains(const std::vector<std::string>& names) override;
  bool sync_users(const std::vector<UserRow>& users) override;
  bool sync_aliases(const std::vector<AliasRow>& aliases) override;
  std::vector<std::string> domains() override;
  std::vector<UserRow> users() override;
  std::vector<AliasRow> aliases() override;
  std::optional<std::string> password_hash(const std::string& address) override;
  bool put_certificate(const CertificateRow& row) override;
  std::vector<CertificateRow> certificates() override;
  std::string driver() const override { return db_->dialect(); }
  std::string location() const override { return location_; }

  // Shown in plan mode instead of a token that does not exist yet.
  static constexpr const char* token_placeholder = "(created on apply)";

 private:
  std::unique_ptr<SqlConnection> db_;
  std::string location_;
  bool read_only_;
};

}  // namespace firstboot
