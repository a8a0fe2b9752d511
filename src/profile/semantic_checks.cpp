#include "profile/semantic_checks.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "crypto/password_hash.h"
#include "profile/profile.h"
#include "profile/profile_loader.h"
#include "profile/validators.h"

namespace firstboot {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace profile_rules;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : lower(address.substr(at + 1));
}

std::string quote(const std::string& value) { return "\"" + printable(value) + "\""; }

// The default sandbox ports, named as in the profile.
std::vector<std::pair<std::string, int>> default_ports() {
  Ports p;
  return {{"smtp", p.smtp},         {"submission", p.submission},
          {"smtps", p.smtps},       {"imap", p.imap},
          {"imaps", p.imaps},       {"pop3", p.pop3},
          {"pop3s", p.pop3s},       {"dns", p.dns},
          {"opendkim", p.opendkim}, {"opendmarc", p.opendmarc},
          {"metrics", p.metrics},   {"lmtp", p.lmtp}};
}

class Checker {
 public:
  Checker(const json& doc, const SourceMap& sources, fs::path base_dir)
      : doc_(doc), sources_(sources), base_dir_(std::move(base_dir)) {}

  std::vector<DocumentIssue> run() {
    mode_ = string_at("/mode").value_or("");
    check_top();
    check_domains();
    check_users();
    check_aliases();
    check_relay();
    check_tls();
    check_dns();
    check_database();
    check_monitoring();
    check_limits();
    check_backup();
    check_ports();
    return std::move(issues_);
  }

 private:
  void add(const std::string& pointer, const std::string& message) {
    issues_.push_back(DocumentIssue{pointer, sources_.field(pointer),
                                    sources_.value_position(pointer), message, 1});
  }

  const json* at(const std::string& pointer) const {
    try {
      const json& node = doc_.at(json::json_pointer(pointer));
      return &node;
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  std::optional<std::string> string_at(const std::string& pointer) const {
    const json* node = at(pointer);
    if (node && node->is_string()) return node->get<std::string>();
    return std::nullopt;
  }
  bool present(const std::string& pointer) const { return at(pointer) != nullptr; }
  const json* array_at(const std::string& pointer) const {
    const json* node = at(pointer);
    return node && node->is_array() ? node : nullptr;
  }

  // Value checks: each skips values of the wrong type (the schema reported those).
  void check_with(const std::string& pointer,
                  const std::function<std::string(const std::string&)>& problem) {
    auto value = string_at(pointer);
    if (!value || has_control_chars(*value)) return;  // control characters: already reported
    std::string why = problem(*value);
    if (!why.empty()) add(pointer, quote(*value) + " " + why);
  }
  void check_fqdn(const std::string& pointer) {
    check_with(pointer, [](const std::string& v) { return hostname_problem(v, true); });
  }
  void check_email(const std::string& pointer) { check_with(pointer, email_problem); }

  // A password file is read once and removed after a successful run (the mail module keeps its
  // hash or the installed secret): a later run finds it missing, which is fine. When it exists it
  // must be a regular file; when nothing was stored yet, the mail module says so at apply.
  void check_consumable_file(const std::string& pointer) {
    check_with(pointer, path_problem);
    auto value = string_at(pointer);
    if (!value || !path_problem(*value).empty()) return;
    fs::path resolved = resolve_profile_path(*value, base_dir_);
    std::error_code ec;
    auto status = fs::status(resolved, ec);
    if (!ec && fs::exists(status) && !fs::is_regular_file(status))
      add(pointer, printable(*value, 200) + " is not a regular file");
  }

  // A file that must exist (the database password): checked, never read.
  void check_existing_file(const std::string& pointer) {
    check_with(pointer, path_problem);
    auto value = string_at(pointer);
    if (!value || !path_problem(*value).empty()) return;
    fs::path resolved = resolve_profile_path(*value, base_dir_);
    std::error_code ec;
    auto status = fs::status(resolved, ec);
    if (ec || !fs::exists(status)) {
      // The path as written: the profile's directory is known to whoever reads the message.
      add(pointer, "file not found: " + printable(*value, 200) +
                       (fs::path(*value).is_relative()
                            ? " (a relative path is read from the profile's directory)"
                            : ""));
    } else if (!fs::is_regular_file(status)) {
      add(pointer, printable(*value, 200) + " is not a regular file");
    }
  }

  void check_top() {
    check_fqdn("/hostname");
    check_email("/admin_email");
    check_with("/public_ipv4", ipv4_problem);
    check_with("/public_ipv6", ipv6_problem);
  }

  void check_domains() {
    const json* domains = array_at("/domains");
    if (!domains) return;
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < domains->size(); ++i) {
      std::string base = "/domains/" + std::to_string(i);
      check_fqdn(base + "/name");
      check_with(base + "/dkim/selector", dkim_selector_problem);
      check_email(base + "/dmarc/rua");
      if (auto name = string_at(base + "/name")) {
        auto [it, fresh] = seen.emplace(lower(*name), base + "/name");
        if (!fresh)
          add(base + "/name", "domain " + quote(*name) + " is listed twice (also at " +
                                  sources_.field(it->second) + ")");
        else
          domains_.insert(lower(*name));
      }
    }
  }

  // Is address in one of the listed domains (so this server is responsible for it)?
  bool is_local(const std::string& address) const { return domains_.count(domain_of(address)); }

  void require_local_domain(const std::string& pointer, const char* what) {
    auto value = string_at(pointer);
    if (!value || !email_problem(*value).empty() || domains_.empty()) return;
    if (!is_local(*value))
      add(pointer, std::string(what) + " " + quote(*value) +
                       " is not in any listed domain (domains[].name)");
  }

  void check_users() {
    const json* users = array_at("/users");
    if (mode_ == "relay" && users && !users->empty()) {
      add("/users",
          "mode relay is send-only and has no mailboxes; remove users or use mode "
          "local or full");
      return;
    }
    if ((mode_ == "full" || mode_ == "local") && (!users || users->empty()) && present("/mode"))
      add(users ? "/users" : "/mode", mode_ + " needs at least one user (users:)");
    if (!users) return;
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < users->size(); ++i) {
      std::string base = "/users/" + std::to_string(i);
      if (!(*users)[i].is_object()) continue;
      check_email(base + "/address");
      require_local_domain(base + "/address", "user address");
      if (auto address = string_at(base + "/address")) {
        auto [it, fresh] = seen.emplace(lower(*address), base + "/address");
        if (!fresh)
          add(base + "/address", "user " + quote(*address) + " is listed twice (also at " +
                                     sources_.field(it->second) + ")");
        else
          users_.insert(lower(*address));
      }
      bool has_hash = present(base + "/password_hash");
      bool has_file = present(base + "/password_file");
      if (has_hash && has_file) {
        add(base, "has both password_hash and password_file; give exactly one");
      } else if (!has_hash && !has_file && mode_ == "full") {
        add(base, "needs password_hash or password_file (mode full serves IMAP and submission)");
      }
      check_with(base + "/password_hash", [](const std::string& v) {
        return looks_like_crypt_hash(v) ? std::string()
                                        : "is not a crypt(3) hash of a supported scheme ($y$, "
                                          "$2b$, $6$, ...); make one with firstboot hash-password";
      });
      if (has_file) check_consumable_file(base + "/password_file");
      check_size(base + "/quota", 1024 * 1024, 0, "quota");
    }
  }

  void check_size(const std::string& pointer, std::uint64_t min, std::uint64_t max,
                  const char* what) {
    const json* node = at(pointer);
    if (!node) return;
    std::optional<std::uint64_t> bytes;
    std::string shown;
    if (node->is_number_integer()) {
      if (node->get<std::int64_t>() < 1) return;  // the schema's minimum says so
      bytes = node->get<std::uint64_t>();
      shown = node->dump();
    } else if (node->is_string()) {
      shown = node->get<std::string>();
      if (has_control_chars(shown)) return;
      bytes = parse_size(shown);
      if (!bytes) {
        add(pointer, quote(shown) +
                         " is not a size (expected a number of bytes or a number "
                         "with K, M, G or T, like 500M or 2G)");
        return;
      }
    } else {
      return;
    }
    if (*bytes < min)
      add(pointer, std::string(what) + " " + printable(shown) + " is below the minimum of " +
                       std::to_string(min / 1024) + "K");
    else if (max && *bytes > max)
      add(pointer, std::string(what) + " " + printable(shown) + " is above the maximum of " +
                       std::to_string(max / (1024 * 1024)) + "M");
  }

  void check_aliases() {
    const json* aliases = array_at("/aliases");
    if (!aliases) return;
    if (mode_ == "relay" && !aliases->empty()) {
      add("/aliases",
          "mode relay is send-only and receives no mail; remove aliases or use mode "
          "local or full");
      return;
    }
    // First pass: every alias source, so targets may name aliases defined later.
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < aliases->size(); ++i) {
      std::string base = "/aliases/" + std::to_string(i);
      check_email(base + "/from");
      require_local_domain(base + "/from", "alias");
      auto from = string_at(base + "/from");
      if (!from || !email_problem(*from).empty()) continue;
      std::string key = lower(*from);
      if (users_.count(key)) {
        add(base + "/from", quote(*from) +
                                " is also a user; an address is a user or an alias, "
                                "not both");
        continue;
      }
      auto [it, fresh] = seen.emplace(key, base + "/from");
      if (!fresh) {
        add(base + "/from", "alias " + quote(*from) + " is defined twice (also at " +
                                sources_.field(it->second) + ")");
        continue;
      }
      alias_targets_[key];
      alias_pointer_[key] = base + "/from";
    }
    for (std::size_t i = 0; i < aliases->size(); ++i) {
      std::string base = "/aliases/" + std::to_string(i);
      auto from = string_at(base + "/from");
      const json* to = array_at(base + "/to");
      if (!to) continue;
      for (std::size_t k = 0; k < to->size(); ++k) {
        std::string pointer = base + "/to/" + std::to_string(k);
        check_email(pointer);
        auto target = string_at(pointer);
        if (!target || !email_problem(*target).empty()) continue;
        std::string key = lower(*target);
        if (is_local(*target) && !users_.count(key) && !alias_targets_.count(key)) {
          add(pointer, quote(*target) +
                           " is neither a user nor an alias here, so mail to it "
                           "would bounce");
          continue;
        }
        if (from && alias_pointer_.count(lower(*from)) &&
            alias_pointer_[lower(*from)] == base + "/from")
          alias_targets_[lower(*from)].push_back(key);
      }
    }
    check_alias_loops();
  }

  // An alias whose every path leads back to aliases (a loop) never delivers.
  void check_alias_loops() {
    // Which aliases reach a mailbox or an outside address? Walk backwards from those that do.
    // An alias whose targets were all reported already counts as reaching, so as not to blame
    // the aliases pointing at it a second time.
    std::map<std::string, std::vector<std::string>> pointed_at_by;
    std::set<std::string> reaches;
    std::vector<std::string> queue;
    for (auto& [alias, targets] : alias_targets_) {
      bool direct = targets.empty();
      for (auto& t : targets) {
        if (alias_targets_.count(t))
          pointed_at_by[t].push_back(alias);
        else
          direct = true;
      }
      if (direct && reaches.insert(alias).second) queue.push_back(alias);
    }
    for (std::size_t i = 0; i < queue.size(); ++i) {
      for (auto& source : pointed_at_by[queue[i]])
        if (reaches.insert(source).second) queue.push_back(source);
    }
    for (auto& [alias, targets] : alias_targets_) {
      if (!reaches.count(alias))
        add(alias_pointer_[alias], "alias " + quote(alias) +
                                       " only leads to aliases that lead back to it (a loop); "
                                       "mail to it would never be delivered");
    }
  }

  void check_relay() {
    bool has_relay = present("/relay");
    if (mode_ == "relay" && !has_relay && present("/mode")) {
      add("/mode", "relay needs a relay: section (host, port, username, password_file)");
      return;
    }
    if (!has_relay) return;
    if (mode_ != "relay" && !mode_.empty()) {
      add("/relay", "is only used with mode relay (this profile has mode " + mode_ + ")");
      return;
    }
    check_with("/relay/host", host_problem);
    bool has_user = present("/relay/username");
    bool has_file = present("/relay/password_file");
    if (has_user != has_file)
      add("/relay",
          "username and password_file go together: give both for an authenticated "
          "smarthost, or neither");
    check_with("/relay/username", [](const std::string& v) {
      return v.find('@') != std::string::npos ? email_problem(v) : std::string();
    });
    if (has_file) check_consumable_file("/relay/password_file");
    check_with("/relay/spf_include", dns_name_problem);
    const json* mappings = at("/relay/mappings");
    if (mappings && mappings->is_object()) {
      for (auto& [from, to] : mappings->items()) {
        std::string pointer = pointer_child("/relay/mappings", from);
        if (!has_control_chars(from)) {
          std::string why = email_problem(from);
          if (!why.empty())
            issues_.push_back(DocumentIssue{pointer, sources_.field(pointer),
                                            sources_.key_position(pointer),
                                            "mapping source " + quote(from) + " " + why, 1});
        }
        (void)to;
        check_email(pointer);
      }
    }
  }

  void check_tls() {
    std::string source = string_at("/tls/source").value_or("self-signed");
    bool has_cert = present("/tls/cert");
    bool has_key = present("/tls/key");
    if (source == "provided") {
      if (!has_cert) add("/tls", "source provided needs cert: (the certificate chain file)");
      if (!has_key) add("/tls", "source provided needs key: (the private key file)");
    } else {
      if (has_cert) add("/tls/cert", "is only used with source: provided");
      if (has_key) add("/tls/key", "is only used with source: provided");
    }
    if (present("/tls/acme") && source != "acme")
      add("/tls/acme", "is only used with source: acme");
    check_with("/tls/cert", path_problem);
    check_with("/tls/key", path_problem);
    check_with("/tls/acme/directory", url_problem);
    check_email("/tls/acme/email");
    if (const json* names = array_at("/tls/extra_names")) {
      for (std::size_t i = 0; i < names->size(); ++i)
        check_fqdn("/tls/extra_names/" + std::to_string(i));
    }
  }

  void check_dns() { check_with("/dns/resolver", resolver_problem); }

  void check_database() {
    auto database = string_at("/database");
    bool postgres = database && *database != "sqlite";
    check_with("/database", [](const std::string& v) {
      return v == "sqlite" ? std::string() : database_url_problem(v);
    });
    if (present("/database_password_file")) {
      if (!postgres)
        add("/database_password_file", "is only used with a postgresql:// database");
      else
        check_existing_file("/database_password_file");
    }
  }

  void check_monitoring() {
    check_email("/monitoring/alert_to");
    const json* node = at("/monitoring/interval");
    if (!node) return;
    std::optional<std::uint64_t> seconds;
    std::string shown;
    if (node->is_number_integer()) {
      if (node->get<std::int64_t>() < 1) return;
      seconds = node->get<std::uint64_t>();
      shown = node->dump();
    } else if (node->is_string()) {
      shown = node->get<std::string>();
      if (has_control_chars(shown)) return;
      seconds = parse_interval(shown);
      if (!seconds) {
        add("/monitoring/interval",
            quote(shown) +
                " is not an interval (expected seconds or a number with s, m, h or d, "
                "like 15m or 1h)");
        return;
      }
    } else {
      return;
    }
    if (*seconds < kMinInterval || *seconds > kMaxInterval)
      add("/monitoring/interval", "interval " + printable(shown) +
                                      " is outside 10s to 7d (checks every few minutes are usual)");
  }

  void check_limits() {
    check_size("/limits/message_size", kMinMessageSize, kMaxMessageSize, "message size");
  }

  // The archive directory is a system path (mapped into a sandbox or image tree), so it must be
  // absolute; inside a tree the backup itself saves it would back up its own archives.
  void check_backup() {
    check_with("/backup/dir", [](const std::string& v) {
      std::string why = path_problem(v);
      if (!why.empty()) return why;
      fs::path dir = fs::path(v).lexically_normal();
      if (!dir.is_absolute())
        return std::string("is not an absolute path (a system path is needed)");
      if (dir == "/") return std::string("is the root directory");
      for (const char* saved : {"/var/vmail", "/etc/firstboot", "/etc/opendkim",
                                "/var/lib/firstboot", "/etc/postfix", "/etc/dovecot"}) {
        fs::path tree(saved);
        auto rel = dir.lexically_relative(tree);
        bool inside = !rel.empty() && *rel.begin() != "..";
        auto up = tree.lexically_relative(dir);
        bool above = !up.empty() && *up.begin() != "..";
        if (inside || above)
          return "overlaps " + std::string(saved) +
                 ", which every backup saves; use a directory of its own (default "
                 "/var/backups/firstboot)";
      }
      return std::string();
    });
    if (present("/backup/passphrase_file")) check_existing_file("/backup/passphrase_file");
  }

  void check_ports() {
    // Every daemon needs its own port: the profile's values over the defaults.
    std::vector<std::pair<std::string, int>> ports = default_ports();
    std::map<std::string, bool> given;
    for (auto& [name, port] : ports) {
      const json* node = at("/sandbox/ports/" + name);
      if (node && node->is_number_integer()) {
        auto value = node->get<std::int64_t>();
        if (value < 1 || value > 65535) return;  // the schema reported it; no collisions to find
        port = static_cast<int>(value);
        given[name] = true;
      }
    }
    std::map<int, std::string> owner;
    for (auto& [name, port] : ports) {
      auto [it, fresh] = owner.emplace(port, name);
      if (fresh) continue;
      // Report at the port the profile set (the other one may be a default).
      std::string here = given[name] ? name : it->second;
      std::string other = here == name ? it->second : name;
      std::string pointer = given[here] ? "/sandbox/ports/" + here : "/sandbox/ports";
      add(pointer, "port " + std::to_string(port) + " is also used by " + other +
                       (given[other] ? "" : " (its default)") +
                       "; each service needs its own port");
    }
  }

  const json& doc_;
  const SourceMap& sources_;
  fs::path base_dir_;
  std::string mode_;
  std::set<std::string> domains_;
  std::set<std::string> users_;
  std::map<std::string, std::vector<std::string>> alias_targets_;
  std::map<std::string, std::string> alias_pointer_;
  std::vector<DocumentIssue> issues_;
};

}  // namespace

fs::path resolve_profile_path(const std::string& path, const fs::path& base_dir) {
  fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal();
  return (base_dir / p).lexically_normal();
}

std::vector<json::json_pointer> profile_path_fields(const json& doc) {
  std::vector<json::json_pointer> out;
  for (const char* p : {"/relay/password_file", "/tls/cert", "/tls/key", "/database_password_file",
                        "/backup/passphrase_file"}) {
    json::json_pointer pointer(p);
    if (doc.contains(pointer)) out.push_back(pointer);
  }
  if (doc.contains("users") && doc["users"].is_array()) {
    for (std::size_t i = 0; i < doc["users"].size(); ++i) {
      json::json_pointer pointer("/users/" + std::to_string(i) + "/password_file");
      if (doc.contains(pointer)) out.push_back(pointer);
    }
  }
  return out;
}

std::vector<DocumentIssue> check_semantics(const json& doc, const SourceMap& sources,
                                           const fs::path& base_dir) {
  return Checker(doc, sources, base_dir).run();
}

}  // namespace firstboot
