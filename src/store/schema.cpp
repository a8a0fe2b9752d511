#include "store/schema.h"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "engine/error.h"
#include "store/sql_connection.h"

namespace firstboot {

namespace {

// Column notes, for the daemons reading these tables directly (queries in docs/store.md):
// - addresses are stored lower case; users.local_part/domain split the address for Dovecot's
//   %n/%d and Postfix's per-domain maps; users.maildir is "example.com/alice/", relative to the
//   mail root, with the trailing slash Postfix's virtual(8) uses to mean Maildir format.
// - mail_users gives Dovecot the password with its scheme prefix and a quota rule (NULL, so left
//   out, when the quota is unlimited); sender_logins gives smtpd_sender_login_maps who may send
//   as an address (the mailbox itself, and the mailboxes an alias delivers to).
const std::vector<Migration> kMigrations = {
    {1,
     "domains, users, aliases, dns_records, certificates",
     {
         R"(CREATE TABLE domains (
  name TEXT NOT NULL PRIMARY KEY,
  verification_token TEXT NOT NULL,
  created TEXT NOT NULL
))",
         R"(CREATE TABLE users (
  address TEXT NOT NULL PRIMARY KEY,
  local_part TEXT NOT NULL,
  domain TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  quota_bytes BIGINT NOT NULL DEFAULT 0,
  maildir TEXT NOT NULL
))",
         "CREATE INDEX users_domain ON users (domain)",
         R"(CREATE TABLE aliases (
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  PRIMARY KEY (source, destination)
))",
         R"(CREATE TABLE dns_records (
  domain TEXT NOT NULL,
  purpose_group TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  ttl INTEGER NOT NULL,
  value TEXT NOT NULL,
  purpose TEXT NOT NULL,
  PRIMARY KEY (domain, purpose_group, name, type, value)
))",
         R"(CREATE TABLE certificates (
  host TEXT NOT NULL PRIMARY KEY,
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  not_after TEXT NOT NULL,
  fullchain_path TEXT NOT NULL,
  key_path TEXT NOT NULL,
  updated TEXT NOT NULL
))",
         R"(CREATE VIEW mail_users AS
SELECT address, local_part, domain, '{CRYPT}' || password_hash AS password, maildir, quota_bytes,
       CASE WHEN quota_bytes > 0 THEN '*:storage=' || quota_bytes || 'B' ELSE NULL END
         AS quota_rule
FROM users)",
         R"(CREATE VIEW sender_logins AS
SELECT address AS sender, address AS login FROM users
UNION
SELECT a.source AS sender, u.address AS login
FROM aliases a JOIN users u ON u.address = a.destination)",
     }},
    {2,
     "virtual_aliases: aliases plus each mailbox mapped to itself",
     {
         // Postfix tries the full address before "@domain": a mailbox mapping to itself keeps a
         // catch-all alias from swallowing mail for mailboxes that exist, and an alias named like
         // a mailbox delivers a copy to that mailbox too.
         R"(CREATE VIEW virtual_aliases AS
SELECT source, destination FROM aliases
UNION
SELECT address AS source, address AS destination FROM users)",
     }},
};

}  // namespace

std::string store_timestamp() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

const std::vector<Migration>& store_migrations() { return kMigrations; }

int current_schema_version() { return kMigrations.back().version; }

int stored_schema_version(SqlConnection& db) {
  if (!db.table_exists("schema_version")) return 0;
  auto rows = db.query("SELECT MAX(version) FROM schema_version");
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return 0;
  return std::stoi(*rows[0][0]);
}

bool migrate_schema(SqlConnection& db, int target) {
  if (target <= 0) target = current_schema_version();
  auto check_not_newer = [&](int stored) {
    if (stored > current_schema_version())
      throw Error(db.describe() + " has schema version " + std::to_string(stored) +
                  ", newer than this firstboot understands (" +
                  std::to_string(current_schema_version()) + "); upgrade firstboot");
  };
  int stored = stored_schema_version(db);
  check_not_newer(stored);
  if (stored >= target) return false;

  WriteTransaction tx(db);
  // Read again under the write lock: another run may have migrated meanwhile.
  stored = stored_schema_version(db);
  check_not_newer(stored);
  if (stored >= target) return false;
  db.execute(R"(CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL PRIMARY KEY,
  description TEXT NOT NULL,
  applied TEXT NOT NULL
))");
  for (const auto& step : kMigrations) {
    if (step.version <= stored || step.version > target) continue;
    for (const auto& sql : step.statements) {
      try {
        db.execute(sql);
      } catch (const Error& e) {
        throw Error("migrating to schema version " + std::to_string(step.version) + ": " +
                    e.what());
      }
    }
    db.execute("INSERT INTO schema_version (version, description, applied) VALUES ($1, $2, $3)",
               {std::int64_t{step.version}, step.description, store_timestamp()});
  }
  tx.commit();
  return true;
}

}  // namespace firstboot
