// The small database boundary the SQL store is written against: parameterised statements on one
// connection and write transactions. SQLite implements it today; PostgreSQL slots in beside it.
// Statements use $1, $2, ... placeholders, which both SQLite and PostgreSQL accept, so the SQL text
// is shared by every backend; values are always bound, never spliced into the text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace firstboot {

using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string>;
// One result row, each column as text (NULL as nullopt).
using SqlRow = std::vector<std::optional<std::string>>;

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one statement and returns its rows (none for statements without results).
  virtual std::vector<SqlRow> query(const std::string& sql,
                                    const std::vector<SqlValue>& params = {}) = 0;
  void execute(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    query(sql, params);
  }

  // A transaction that takes the write lock at once (SQLite BEGIN IMMEDIATE), so the rows read
  // inside it are the rows the writes apply to.
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  virtual bool table_exists(const std::string& name) = 0;
  // "sqlite" or "postgresql".
  virtual std::string dialect() const = 0;
  // For messages: "database /var/lib/firstboot/users.sqlite".
  virtual std::string describe() const = 0;
};

// Rolls back unless commit() was called.
class WriteTransaction {
 public:
  explicit WriteTransaction(SqlConnection& db) : db_(db) { db_.begin_write(); }
  ~WriteTransaction() {
    if (!done_) db_.rollback();
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  SqlConnection& db_;
  bool done_ = false;
};

}  // namespace firstboot
