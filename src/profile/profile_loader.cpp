#include "profile/profile_loader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "crypto/keys.h"
#include "engine/error.h"
#include "engine/module.h"
#include "profile/schema_validation.h"
#include "profile/semantic_checks.h"
#include "profile/validators.h"
#include "profile/yaml_document.h"

namespace firstboot {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxReportedIssues = 100;

std::string get_string(const json& obj, const char* key, const std::string& fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

template <typename T>
T get_number(const json& obj, const char* key, T fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<T>() : fallback;
}

const json& child(const json& obj, const char* key) {
  static const json empty = json::object();
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : empty;
}

std::vector<std::string> string_list(const json& obj, const char* key,
                                     std::vector<std::string> fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return fallback;
  std::vector<std::string> out;
  for (auto& v : *it) out.push_back(v.get<std::string>());
  return out;
}

std::uint64_t size_value(const json& obj, const char* key, std::uint64_t fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (it->is_number_integer()) return it->get<std::uint64_t>();
  return profile_rules::parse_size(it->get<std::string>()).value_or(fallback);
}

// The model from a document that passed every check; paths are already absolute.
Profile build_profile(const json& doc, const std::string& file) {
  Profile p;
  p.source_file = file;
  p.hostname = get_string(doc, "hostname", "");
  p.admin_email = get_string(doc, "admin_email", "");
  std::string mode = get_string(doc, "mode", "full");
  p.mode = mode == "relay" ? MailMode::relay : mode == "local" ? MailMode::local : MailMode::full;

  auto domains = doc.find("domains");
  for (auto& d : domains != doc.end() ? *domains : json::array()) {
    Domain domain;
    domain.name = get_string(d, "name", "");
    const json& dkim = child(d, "dkim");
    domain.dkim.selector = get_string(dkim, "selector", domain.dkim.selector);
    domain.dkim.algorithms = string_list(dkim, "algorithms", domain.dkim.algorithms);
    const json& dmarc = child(d, "dmarc");
    domain.dmarc.policy = get_string(dmarc, "policy", domain.dmarc.policy);
    domain.dmarc.rua = get_string(dmarc, "rua", domain.dmarc.rua);
    p.domains.push_back(std::move(domain));
  }
  if (auto users = doc.find("users"); users != doc.end()) {
    for (auto& u : *users) {
      User user;
      user.address = get_string(u, "address", "");
      user.password_hash = get_string(u, "password_hash", "");
      user.password_file = get_string(u, "password_file", "");
      user.quota_bytes = size_value(u, "quota", 0);
      p.users.push_back(std::move(user));
    }
  }
  if (auto aliases = doc.find("aliases"); aliases != doc.end()) {
    for (auto& a : *aliases)
      p.aliases.push_back(Alias{get_string(a, "from", ""), string_list(a, "to", {})});
  }
  if (auto r = doc.find("relay"); r != doc.end() && r->is_object()) {
    Relay relay;
    relay.host = get_string(*r, "host", "");
    relay.port = get_number<int>(*r, "port", relay.port);
    relay.username = get_string(*r, "username", "");
    relay.password_file = get_string(*r, "password_file", "");
    relay.spf_include = get_string(*r, "spf_include", "");
    for (auto& [from, to] : child(*r, "mappings").items())
      relay.mappings[from] = to.get<std::string>();
    p.relay = std::move(relay);
  }
  const json& tls = child(doc, "tls");
  p.tls.source = get_string(tls, "source", p.tls.source);
  p.tls.cert_file = get_string(tls, "cert", "");
  p.tls.key_file = get_string(tls, "key", "");
  const json& acme = child(tls, "acme");
  p.tls.acme_directory = get_string(acme, "directory", "");
  if (p.tls.source == "acme" && p.tls.acme_directory.empty())
    p.tls.acme_directory = "https://acme-v02.api.letsencrypt.org/directory";
  p.tls.acme_email = get_string(acme, "email", p.admin_email);
  p.tls.extra_names = string_list(tls, "extra_names", {});

  const json& dns = child(doc, "dns");
  p.dns.serve = get_string(dns, "serve", p.dns.serve);
  if (auto it = dns.find("dnssec"); it != dns.end() && it->is_boolean())
    p.dns.dnssec = it->get<bool>();
  p.dns.resolver = get_string(dns, "resolver", "");

  p.database = get_string(doc, "database", p.database);
  p.database_password_file = get_string(doc, "database_password_file", "");

  const json& monitoring = child(doc, "monitoring");
  if (auto it = monitoring.find("interval"); it != monitoring.end()) {
    std::uint64_t seconds =
        it->is_number_integer()
            ? it->get<std::uint64_t>()
            : profile_rules::parse_interval(it->get<std::string>()).value_or(900);
    p.monitoring.interval_seconds = static_cast<int>(seconds);
  }
  p.monitoring.alert_to = get_string(monitoring, "alert_to", p.admin_email);

  const json& limits = child(doc, "limits");
  p.limits.message_size_bytes = size_value(limits, "message_size", p.limits.message_size_bytes);
  p.limits.recipients_per_message =
      get_number<int>(limits, "recipients_per_message", p.limits.recipients_per_message);
  p.limits.messages_per_minute =
      get_number<int>(limits, "messages_per_minute", p.limits.messages_per_minute);

  const json& backup = child(doc, "backup");
  p.backup.dir = get_string(backup, "dir", p.backup.dir);
  p.backup.passphrase_file = get_string(backup, "passphrase_file", "");
  p.backup.keep = get_number<int>(backup, "keep", p.backup.keep);
  p.backup.max_age_days = get_number<int>(backup, "max_age_days", p.backup.max_age_days);

  const json& ports = child(child(doc, "sandbox"), "ports");
  Ports& sp = p.sandbox_ports;
  for (auto [name, slot] :
       std::initializer_list<std::pair<const char*, int*>>{{"smtp", &sp.smtp},
                                                           {"submission", &sp.submission},
                                                           {"smtps", &sp.smtps},
                                                           {"imap", &sp.imap},
                                                           {"imaps", &sp.imaps},
                                                           {"pop3", &sp.pop3},
                                                           {"pop3s", &sp.pop3s},
                                                           {"dns", &sp.dns},
                                                           {"opendkim", &sp.opendkim},
                                                           {"opendmarc", &sp.opendmarc},
                                                           {"metrics", &sp.metrics},
                                                           {"lmtp", &sp.lmtp}})
    *slot = get_number<int>(ports, name, *slot);

  p.public_ipv4 = get_string(doc, "public_ipv4", "");
  p.public_ipv6 = get_string(doc, "public_ipv6", "");
  return p;
}

// Per field, keeps only the issues of the lowest rank (see DocumentIssue::rank).
std::vector<DocumentIssue> keep_most_specific(std::vector<DocumentIssue> issues) {
  std::map<std::string, int> best;
  for (auto& i : issues) {
    auto [it, fresh] = best.emplace(i.field, i.rank);
    if (!fresh) it->second = std::min(it->second, i.rank);
  }
  std::vector<DocumentIssue> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (auto& i : issues) {
    if (i.rank != best[i.field]) continue;
    if (!seen.insert({i.field, i.message}).second) continue;
    out.push_back(std::move(i));
  }
  std::stable_sort(out.begin(), out.end(), [](const DocumentIssue& a, const DocumentIssue& b) {
    return std::tie(a.position.line, a.position.column) <
           std::tie(b.position.line, b.position.column);
  });
  return out;
}

ProfileIssue to_profile_issue(const DocumentIssue& issue, const std::string& file) {
  return ProfileIssue{file, issue.position.line, issue.position.column, issue.field, issue.message};
}

LoadedProfile single_issue(const std::string& file, const std::string& message) {
  LoadedProfile result;
  result.issues.push_back(ProfileIssue{file, 1, 1, "", message});
  return result;
}

std::string too_large(std::uintmax_t size) {
  return "the profile is " + std::to_string(size) + " bytes; the limit is 1 MiB (" +
         std::to_string(kMaxProfileBytes) + " bytes), so it was not parsed";
}

}  // namespace

LoadedProfile load_profile(const fs::path& file, const std::vector<const Module*>& modules) {
  const std::string name = file.string();
  std::error_code ec;
  auto status = fs::status(file, ec);
  if (ec || !fs::exists(status))
    return single_issue(name, "cannot read the profile: " +
                                  (ec ? ec.message() : std::string("No such file or directory")));
  if (!fs::is_regular_file(status)) return single_issue(name, "the profile is not a regular file");
  auto size = fs::file_size(file, ec);
  if (ec) return single_issue(name, "cannot read the profile: " + ec.message());
  if (size > kMaxProfileBytes) return single_issue(name, too_large(size));
  std::ifstream in(file, std::ios::binary);
  if (!in) return single_issue(name, "cannot open the profile for reading");
  std::string text(kMaxProfileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  // The file may have grown since it was measured.
  if (text.size() > kMaxProfileBytes) return single_issue(name, too_large(text.size()));
  return load_profile_text(text, name, modules);
}

LoadedProfile load_profile_text(const std::string& text, const std::string& file,
                                const std::vector<const Module*>& modules) {
  if (text.size() > kMaxProfileBytes) return single_issue(file, too_large(text.size()));
  LoadedProfile result;
  YamlDocument doc = parse_yaml_document(text);
  std::vector<DocumentIssue> issues = doc.issues;
  if (!doc.fatal) {
    auto schema_issues = validate_against_schema(doc.json, doc.sources);
    issues.insert(issues.end(), schema_issues.begin(), schema_issues.end());
    fs::path base_dir = fs::absolute(fs::path(file)).parent_path();
    auto semantic = check_semantics(doc.json, doc.sources, base_dir);
    issues.insert(issues.end(), semantic.begin(), semantic.end());
    if (issues.empty()) {
      json canonical = doc.json;
      for (auto& pointer : profile_path_fields(canonical))
        canonical[pointer] =
            resolve_profile_path(canonical[pointer].get<std::string>(), base_dir).string();
      Profile profile = build_profile(canonical, file);
      profile.canonical_json = canonical.dump(-1, ' ', true);
      profile.digest = sha256_hex(profile.canonical_json);
      for (const Module* module : modules) {
        std::vector<ProfileIssue> module_issues;
        module->check_profile(profile, module_issues);
        for (auto& issue : module_issues) {
          if (issue.file.empty()) issue.file = file;
          if (issue.line <= 0) {
            SourcePosition position = doc.sources.field_position(issue.field);
            issue.line = position.line;
            issue.column = position.column;
          }
          result.issues.push_back(std::move(issue));
        }
      }
      if (result.issues.empty()) result.profile = std::move(profile);
      return result;
    }
  }
  auto shown = keep_most_specific(std::move(issues));
  // A hostile file can produce a problem per node; the first ones tell the story.
  for (std::size_t i = 0; i < shown.size() && i < kMaxReportedIssues; ++i)
    result.issues.push_back(to_profile_issue(shown[i], file));
  if (shown.size() > kMaxReportedIssues)
    result.issues.push_back(ProfileIssue{
        file, 1, 1, "",
        std::to_string(shown.size() - kMaxReportedIssues) + " more problem(s) not shown"});
  return result;
}

}  // namespace firstboot
