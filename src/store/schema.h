// The store's schema as numbered migrations, in SQL both SQLite and PostgreSQL accept. A migration
// only adds (tables, columns, views, indexes); none drops data. Appending a step is the only way
// to change the schema.
#pragma once

#include <string>
#include <vector>

namespace firstboot {

class SqlConnection;

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

const std::vector<Migration>& store_migrations();
int current_schema_version();

// The version recorded in the database (0: empty database).
int stored_schema_version(SqlConnection& db);

// Applies the missing steps in one write transaction; writes nothing when the database is current.
// Returns true when a step was applied. Throws Error when the database is newer than this build.
// target: the version to stop at (tests of older databases); 0 means the current version.
bool migrate_schema(SqlConnection& db, int target = 0);

// Now, as the ISO 8601 UTC text stored in created/updated/applied columns.
std::string store_timestamp();

}  // namespace firstboot
