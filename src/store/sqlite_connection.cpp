#include "store/sqlite_connection.h"

#include <sqlite3.h>

#include <charconv>
#include <system_error>

#include "engine/error.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

// Opens `target` with `flags` or throws with SQLite's reason.
sqlite3* open_raw(const std::string& target, int flags, const std::string& name) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw Error("opening database " + name + ": " + why);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, SqliteConnection::busy_timeout_ms);
  return db;
}

// "$3" -> 3; 0 when the name is not of that form.
std::size_t placeholder_index(const char* name) {
  if (!name || name[0] != '$' || name[1] == '\0') return 0;
  std::string_view digits(name + 1);
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return n;
}

}  // namespace

SqliteConnection::SqliteConnection(sqlite3* db, std::string name)
    : db_(db), name_(std::move(name)) {}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

std::unique_ptr<SqliteConnection> SqliteConnection::open_file(const fs::path& file) {
  sqlite3* db = open_raw(file.string(), SQLITE_OPEN_READWRITE, file.string());
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db, file.string()));
  // A rollback journal (not WAL): readers without write access to the file or its directory
  // (Postfix, Dovecot) can still read. Only switched when needed, so an open never writes.
  auto mode = conn->query("PRAGMA journal_mode");
  if (mode.empty() || !mode[0][0] || *mode[0][0] != "delete")
    conn->query("PRAGMA journal_mode=DELETE");
  // Deleted rows (old password hashes) are overwritten, not left in free pages.
  conn->query("PRAGMA secure_delete=ON");
  return conn;
}

std::unique_ptr<SqliteConnection> SqliteConnection::open_memory_copy(const fs::path& file) {
  sqlite3* mem = open_raw(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          file.string() + " (plan copy)");
  std::unique_ptr<SqliteConnection> conn(
      new SqliteConnection(mem, file.string() + " (read-only plan copy)"));
  std::error_code ec;
  if (!fs::exists(file, ec)) return conn;
  sqlite3* src = open_raw(file.string(), SQLITE_OPEN_READONLY, file.string());
  sqlite3_backup* backup = sqlite3_backup_init(mem, "main", src, "main");
  if (!backup) {
    std::string why = sqlite3_errmsg(mem);
    sqlite3_close(src);
    throw Error("reading database " + file.string() + ": " + why);
  }
  // Bounded: a busy source is retried for at most busy_timeout_ms in 10 ms steps.
  int rc = SQLITE_OK;
  for (int waited = 0; waited <= busy_timeout_ms; waited += 10) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(10);
  }
  sqlite3_backup_finish(backup);
  std::string why = rc == SQLITE_DONE ? "" : sqlite3_errmsg(src);
  sqlite3_close(src);
  if (rc != SQLITE_DONE)
    throw Error("reading database " + file.string() + ": " +
                (why.empty() || why == "not an error" ? sqlite3_errstr(rc) : why));
  return conn;
}

void SqliteConnection::fail(const std::string& what) const {
  throw Error(describe() + ": " + what + ": " + sqlite3_errmsg(db_));
}

sqlite3_stmt* SqliteConnection::prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size() + 1), &stmt, &tail) !=
      SQLITE_OK)
    fail("preparing \"" + sql + "\"");
  if (tail && *tail != '\0' &&
      std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt);
    throw Error("internal: more than one SQL statement in \"" + sql + "\"");
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

std::vector<SqlRow> SqliteConnection::query(const std::string& sql,
                                            const std::vector<SqlValue>& params) {
  sqlite3_stmt* stmt = prepare(sql);
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};

  int count = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= count; ++i) {
    std::size_t n = placeholder_index(sqlite3_bind_parameter_name(stmt, i));
    if (n == 0 || n > params.size())
      throw Error("internal: SQL parameter " + std::to_string(i) + " has no value in \"" + sql +
                  "\"");
    const SqlValue& v = params[n - 1];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(v)) {
      rc = sqlite3_bind_null(stmt, i);
    } else if (auto* num = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i, *num);
    } else {
      const auto& text = std::get<std::string>(v);
      rc = sqlite3_bind_text64(stmt, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) fail("binding a value");
  }

  std::vector<SqlRow> rows;
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail("running \"" + sql + "\"");
    int columns = sqlite3_column_count(stmt);
    SqlRow row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
        continue;
      }
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      int size = sqlite3_column_bytes(stmt, c);
      row.emplace_back(std::string(text ? text : "", static_cast<std::size_t>(size)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void SqliteConnection::begin_write() { query("BEGIN IMMEDIATE"); }

void SqliteConnection::commit() { query("COMMIT"); }

void SqliteConnection::rollback() noexcept {
  if (sqlite3_get_autocommit(db_)) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool SqliteConnection::table_exists(const std::string& name) {
  return !query("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = $1", {name})
              .empty();
}

}  // namespace firstboot
