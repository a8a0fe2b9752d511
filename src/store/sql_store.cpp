#include "store/sql_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "crypto/keys.h"
#include "engine/error.h"
#include "store/schema.h"

namespace firstboot {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

const std::string& text(const std::optional<std::string>& v) {
  static const std::string empty;
  return v ? *v : empty;
}

std::int64_t number(const std::optional<std::string>& v) { return v ? std::stoll(*v) : 0; }

bool has_control_or_space(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x21 || u == 0x7f;
  });
}

void require_text(const std::string& what, const std::string& value) {
  if (value.empty()) throw Error("store: " + what + " is empty");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) throw Error("store: " + what + " contains a control character");
  }
}

// A lower-case DNS name without the trailing dot; letters, digits, '-', '_' and dots.
std::string normalize_domain(const std::string& what, std::string name) {
  name = lower(std::move(name));
  if (!name.empty() && name.back() == '.') name.pop_back();
  bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' &&
            name.find("..") == std::string::npos;
  for (char c : name)
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_');
  if (!ok) throw Error("store: " + what + " '" + name + "' is not a valid domain name");
  return name;
}

struct Address {
  std::string full;  // lower case
  std::string local;
  std::string domain;
};

// local@domain, lower case. allow_empty_local: "@example.com" (an alias catch-all).
Address parse_address(const std::string& what, const std::string& raw,
                      bool allow_empty_local = false) {
  std::string a = lower(raw);
  auto at = a.rfind('@');
  if (at == std::string::npos) throw Error("store: " + what + " '" + raw + "' has no domain");
  Address out{"", a.substr(0, at),
              normalize_domain(what + " '" + raw + "' domain", a.substr(at + 1))};
  if ((out.local.empty() && !allow_empty_local) || has_control_or_space(out.local))
    throw Error("store: " + what + " '" + raw + "' has an invalid local part");
  out.full = out.local + "@" + out.domain;
  return out;
}

// Write only when `compute` finds work: checked once without a transaction (a no-op leaves the
// file untouched), then again under the write lock before applying.
template <class Compute, class Apply>
bool write_if_needed(SqlConnection& db, Compute compute, Apply apply) {
  if (compute().empty()) return false;
  WriteTransaction tx(db);
  auto plan = compute();
  if (plan.empty()) return false;
  apply(plan);
  tx.commit();
  return true;
}

struct UserRecord {
  Address address;
  std::string password_hash;
  std::int64_t quota_bytes;
  std::string maildir;
};

struct UserPlan {
  std::vector<const UserRecord*> upserts;
  std::vector<std::string> deletes;
  bool empty() const { return upserts.empty() && deletes.empty(); }
};

template <class T>
struct SetPlan {
  std::vector<T> inserts;
  std::vector<T> deletes;
  bool empty() const { return inserts.empty() && deletes.empty(); }
};

using DnsKey = std::tuple<std::string, std::string, std::string>;  // name, type, value
struct DnsValue {
  std::int64_t ttl;
  std::string purpose;
  bool operator==(const DnsValue&) const = default;
};

struct DnsPlan {
  std::vector<std::pair<DnsKey, DnsValue>> upserts;
  std::vector<DnsKey> deletes;
  bool empty() const { return upserts.empty() && deletes.empty(); }
};

}  // namespace

SqlStore::SqlStore(std::unique_ptr<SqlConnection> db, std::string location, bool read_only)
    : db_(std::move(db)), location_(std::move(location)), read_only_(read_only) {}

void SqlStore::migrate() { migrate_schema(*db_); }

int SqlStore::schema_version() { return stored_schema_version(*db_); }

std::string SqlStore::verification_token(const std::string& domain_raw) {
  std::string domain = normalize_domain("domain", domain_raw);
  auto lookup = [&]() -> std::optional<std::string> {
    auto rows = db_->query("SELECT verification_token FROM domains WHERE name = $1", {domain});
    if (rows.empty()) return std::nullopt;
    return text(rows[0][0]);
  };
  if (auto token = lookup()) return *token;
  if (read_only_) return token_placeholder;
  WriteTransaction tx(*db_);
  if (auto token = lookup()) return *token;
  std::string token = random_token(16);
  db_->execute("INSERT INTO domains (name, verification_token, created) VALUES ($1, $2, $3)",
               {domain, token, store_timestamp()});
  tx.commit();
  return token;
}

bool SqlStore::sync_domains(const std::vector<std::string>& names) {
  std::set<std::string> wanted;
  for (const auto& n : names) wanted.insert(normalize_domain("domain", n));
  auto compute = [&] {
    SetPlan<std::string> plan;
    std::set<std::string> current;
    for (auto& row : db_->query("SELECT name FROM domains")) current.insert(text(row[0]));
    std::set_difference(wanted.begin(), wanted.end(), current.begin(), current.end(),
                        std::back_inserter(plan.inserts));
    std::set_difference(current.begin(), current.end(), wanted.begin(), wanted.end(),
                        std::back_inserter(plan.deletes));
    return plan;
  };
  return write_if_needed(*db_, compute, [&](const SetPlan<std::string>& plan) {
    for (const auto& name : plan.deletes)
      db_->execute("DELETE FROM domains WHERE name = $1", {name});
    for (const auto& name : plan.inserts)
      db_->execute("INSERT INTO domains (name, verification_token, created) VALUES ($1, $2, $3)",
                   {name, read_only_ ? std::string(token_placeholder) : random_token(16),
                    store_timestamp()});
  });
}

std::vector<std::string> SqlStore::domains() {
  std::vector<std::string> out;
  for (auto& row : db_->query("SELECT name FROM domains ORDER BY name"))
    out.push_back(text(row[0]));
  return out;
}

bool SqlStore::sync_users(const std::vector<UserRow>& users) {
  std::map<std::string, UserRecord> wanted;
  for (const auto& u : users) {
    Address a = parse_address("user address", u.address);
    if (a.local == "." || a.local == ".." || a.local.find('/') != std::string::npos)
      throw Error("store: user address '" + u.address + "' cannot name a mail directory");
    require_text("password hash of " + a.full, u.password_hash);
    if (has_control_or_space(u.password_hash))
      throw Error("store: password hash of " + a.full + " contains a space or control character");
    if (u.quota_bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw Error("store: quota of " + a.full + " is too large");
    std::string maildir = a.domain + "/" + a.local + "/";
    std::string key = a.full;
    UserRecord rec{std::move(a), u.password_hash, static_cast<std::int64_t>(u.quota_bytes),
                   std::move(maildir)};
    if (!wanted.emplace(key, std::move(rec)).second)
      throw Error("store: user " + key + " is listed twice");
  }
  auto compute = [&] {
    UserPlan plan;
    std::map<std::string, std::tuple<std::string, std::int64_t, std::string>> current;
    for (auto& row : db_->query("SELECT address, password_hash, quota_bytes, maildir FROM users"))
      current.emplace(text(row[0]), std::make_tuple(text(row[1]), number(row[2]), text(row[3])));
    for (const auto& [address, rec] : wanted) {
      auto it = current.find(address);
      if (it == current.end() ||
          it->second != std::make_tuple(rec.password_hash, rec.quota_bytes, rec.maildir))
        plan.upserts.push_back(&rec);
    }
    for (const auto& [address, values] : current)
      if (!wanted.count(address)) plan.deletes.push_back(address);
    return plan;
  };
  return write_if_needed(*db_, compute, [&](const UserPlan& plan) {
    for (const auto& address : plan.deletes)
      db_->execute("DELETE FROM users WHERE address = $1", {address});
    for (const UserRecord* u : plan.upserts)
      db_->execute(
          "INSERT INTO users (address, local_part, domain, password_hash, quota_bytes, maildir) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (address) DO UPDATE SET "
          "local_part = excluded.local_part, domain = excluded.domain, "
          "password_hash = excluded.password_hash, quota_bytes = excluded.quota_bytes, "
          "maildir = excluded.maildir",
          {u->address.full, u->address.local, u->address.domain, u->password_hash, u->quota_bytes,
           u->maildir});
  });
}

std::vector<UserRow> SqlStore::users() {
  std::vector<UserRow> out;
  for (auto& row :
       db_->query("SELECT address, password_hash, quota_bytes FROM users ORDER BY address"))
    out.push_back({text(row[0]), text(row[1]), static_cast<std::uint64_t>(number(row[2]))});
  return out;
}

std::optional<std::string> SqlStore::password_hash(const std::string& address) {
  auto rows = db_->query("SELECT password_hash FROM users WHERE address = $1", {lower(address)});
  if (rows.empty()) return std::nullopt;
  return text(rows[0][0]);
}

bool SqlStore::sync_aliases(const std::vector<AliasRow>& aliases) {
  using Pair = std::pair<std::string, std::string>;
  std::set<Pair> wanted;
  for (const auto& a : aliases) {
    Address source = parse_address("alias source", a.source, true);
    Address destination = parse_address("alias destination of " + source.full, a.destination);
    wanted.emplace(source.full, destination.full);
  }
  auto compute = [&] {
    SetPlan<Pair> plan;
    std::set<Pair> current;
    for (auto& row : db_->query("SELECT source, destination FROM aliases"))
      current.emplace(text(row[0]), text(row[1]));
    std::set_difference(wanted.begin(), wanted.end(), current.begin(), current.end(),
                        std::back_inserter(plan.inserts));
    std::set_difference(current.begin(), current.end(), wanted.begin(), wanted.end(),
                        std::back_inserter(plan.deletes));
    return plan;
  };
  return write_if_needed(*db_, compute, [&](const SetPlan<Pair>& plan) {
    for (const auto& [source, destination] : plan.deletes)
      db_->execute("DELETE FROM aliases WHERE source = $1 AND destination = $2",
                   {source, destination});
    for (const auto& [source, destination] : plan.inserts)
      db_->execute("INSERT INTO aliases (source, destination) VALUES ($1, $2)",
                   {source, destination});
  });
}

std::vector<AliasRow> SqlStore::aliases() {
  std::vector<AliasRow> out;
  for (auto& row :
       db_->query("SELECT source, destination FROM aliases ORDER BY source, destination"))
    out.push_back({text(row[0]), text(row[1])});
  return out;
}

bool SqlStore::put_dns_records(const std::string& domain_raw, const std::string& purpose_group,
                               const std::vector<DnsRecordRow>& rows) {
  std::string domain = normalize_domain("DNS record domain", domain_raw);
  require_text("DNS record group", purpose_group);
  std::map<DnsKey, DnsValue> wanted;
  for (const auto& r : rows) {
    if (!r.domain.empty() && normalize_domain("DNS record domain", r.domain) != domain)
      throw Error("store: DNS record for " + r.domain + " given for domain " + domain);
    require_text("DNS record name", r.name);
    require_text("DNS record type", r.type);
    require_text("DNS record value", r.value);
    if (has_control_or_space(r.name) || has_control_or_space(r.type))
      throw Error("store: DNS record '" + r.name + " " + r.type + "' has a space in its name/type");
    if (r.ttl < 0) throw Error("store: DNS record " + r.name + " has a negative TTL");
    for (char c : r.purpose)
      if (static_cast<unsigned char>(c) < 0x20)
        throw Error("store: DNS record purpose contains a control character");
    DnsKey key{lower(r.name), upper(r.type), r.value};
    DnsValue value{r.ttl, r.purpose};
    auto [it, inserted] = wanted.emplace(key, value);
    if (!inserted && !(it->second == value))
      throw Error("store: DNS record " + r.name + " " + r.type + " is listed twice");
  }
  auto compute = [&] {
    DnsPlan plan;
    std::map<DnsKey, DnsValue> current;
    for (auto& row : db_->query("SELECT name, type, value, ttl, purpose FROM dns_records "
                                "WHERE domain = $1 AND purpose_group = $2",
                                {domain, purpose_group}))
      current.emplace(DnsKey{text(row[0]), text(row[1]), text(row[2])},
                      DnsValue{number(row[3]), text(row[4])});
    for (const auto& [key, value] : wanted) {
      auto it = current.find(key);
      if (it == current.end() || !(it->second == value)) plan.upserts.emplace_back(key, value);
    }
    for (const auto& [key, value] : current)
      if (!wanted.count(key)) plan.deletes.push_back(key);
    return plan;
  };
  return write_if_needed(*db_, compute, [&](const DnsPlan& plan) {
    for (const auto& [name, type, value] : plan.deletes)
      db_->execute(
          "DELETE FROM dns_records WHERE domain = $1 AND purpose_group = $2 AND name = $3 "
          "AND type = $4 AND value = $5",
          {domain, purpose_group, name, type, value});
    for (const auto& [key, v] : plan.upserts) {
      const auto& [name, type, value] = key;
      db_->execute(
          "INSERT INTO dns_records (domain, purpose_group, name, type, ttl, value, purpose) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7) "
          "ON CONFLICT (domain, purpose_group, name, type, value) DO UPDATE SET "
          "ttl = excluded.ttl, purpose = excluded.purpose",
          {domain, purpose_group, name, type, v.ttl, value, v.purpose});
    }
  });
}

std::vector<DnsRecordRow> SqlStore::dns_records(const std::string& domain_raw) {
  std::string domain = normalize_domain("DNS record domain", domain_raw);
  std::vector<DnsRecordRow> out;
  for (auto& row : db_->query(
           "SELECT domain, name, type, ttl, value, purpose FROM dns_records WHERE domain = $1 "
           "ORDER BY purpose_group, name, type, value",
           {domain}))
    out.push_back({text(row[0]), text(row[1]), text(row[2]), static_cast<int>(number(row[3])),
                   text(row[4]), text(row[5])});
  return out;
}

bool SqlStore::put_certificate(const CertificateRow& row) {
  CertificateRow r = row;
  r.host = normalize_domain("certificate host", r.host);
  require_text("certificate source of " + r.host, r.source);
  for (const auto* field : {&r.sha256, &r.not_after, &r.fullchain_path, &r.key_path})
    for (char c : *field)
      if (static_cast<unsigned char>(c) < 0x20)
        throw Error("store: certificate of " + r.host + " has a control character");
  auto same = [&] {
    auto rows = db_->query(
        "SELECT source, sha256, not_after, fullchain_path, key_path FROM certificates "
        "WHERE host = $1",
        {r.host});
    return !rows.empty() && text(rows[0][0]) == r.source && text(rows[0][1]) == r.sha256 &&
           text(rows[0][2]) == r.not_after && text(rows[0][3]) == r.fullchain_path &&
           text(rows[0][4]) == r.key_path;
  };
  struct Plan {
    bool needed;
    bool empty() const { return !needed; }
  };
  return write_if_needed(
      *db_, [&] { return Plan{!same()}; },
      [&](const Plan&) {
        db_->execute(
            "INSERT INTO certificates (host, source, sha256, not_after, fullchain_path, key_path, "
            "updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (host) DO UPDATE SET "
            "source = excluded.source, sha256 = excluded.sha256, "
            "not_after = excluded.not_after, fullchain_path = excluded.fullchain_path, "
            "key_path = excluded.key_path, updated = excluded.updated",
            {r.host, r.source, r.sha256, r.not_after, r.fullchain_path, r.key_path,
             store_timestamp()});
      });
}

std::vector<CertificateRow> SqlStore::certificates() {
  std::vector<CertificateRow> out;
  for (auto& row : db_->query(
           "SELECT host, source, sha256, not_after, fullchain_path, key_path FROM certificates "
           "ORDER BY host"))
    out.push_back(
        {text(row[0]), text(row[1]), text(row[2]), text(row[3]), text(row[4]), text(row[5])});
  return out;
}

}  // namespace firstboot
