// SqlConnection over the sqlite3 C API: one database file (rollback journal, bounded busy wait), or
// an in-memory copy for plan mode.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "store/sql_connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace firstboot {

class SqliteConnection : public SqlConnection {
 public:
  // Opens an existing file for reading and writing (the caller created it with its permissions).
  static std::unique_ptr<SqliteConnection> open_file(const std::filesystem::path& file);
  // An empty in-memory database, or an in-memory copy of `file` when it exists (plan mode: the
  // file is opened read-only, copied, closed, and never written).
  static std::unique_ptr<SqliteConnection> open_memory_copy(const std::filesystem::path& file);

  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  std::vector<SqlRow> query(const std::string& sql,
                            const std::vector<SqlValue>& params = {}) override;
  void begin_write() override;
  void commit() override;
  void rollback() noexcept override;
  bool table_exists(const std::string& name) override;
  std::string dialect() const override { return "sqlite"; }
  std::string describe() const override { return "database " + name_; }

  // Milliseconds a statement waits for another connection's lock before failing.
  static constexpr int busy_timeout_ms = 5000;

 private:
  SqliteConnection(sqlite3* db, std::string name);
  [[noreturn]] void fail(const std::string& what) const;
  sqlite3_stmt* prepare(const std::string& sql);

  sqlite3* db_;
  std::string name_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace firstboot
