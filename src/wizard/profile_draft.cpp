#include "wizard/profile_draft.h"

#include <yaml-cpp/yaml.h>

namespace firstboot::wizard {

namespace {

// Free text goes out double-quoted, so no value can turn into YAML syntax (yes, null, ": ").
YAML::Emitter& quoted(YAML::Emitter& out, const std::string& value) {
  return out << YAML::DoubleQuoted << value;
}

void key_quoted(YAML::Emitter& out, const char* key, const std::string& value) {
  out << YAML::Key << key << YAML::Value;
  quoted(out, value);
}

}  // namespace

std::string to_yaml(const ProfileDraft& d, const std::vector<std::string>& header) {
  YAML::Emitter out;
  out.SetIndent(2);
  for (const auto& line : header) out << YAML::Comment(line) << YAML::Newline;
  out << YAML::BeginMap;
  key_quoted(out, "hostname", d.hostname);
  key_quoted(out, "admin_email", d.admin_email);
  out << YAML::Key << "mode" << YAML::Value << to_string(d.mode);

  out << YAML::Key << "domains" << YAML::Value << YAML::BeginSeq;
  for (const auto& name : d.domains) {
    out << YAML::BeginMap;
    key_quoted(out, "name", name);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  if (d.mode != MailMode::relay) {
    out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
    out << YAML::BeginMap;
    key_quoted(out, "address", d.admin_email);
    key_quoted(out, "password_hash", d.admin_password_hash);
    out << YAML::EndMap;
    for (const auto& u : d.users) {
      out << YAML::BeginMap;
      key_quoted(out, "address", u.address);
      key_quoted(out, "password_hash", u.password_hash);
      if (!u.quota.empty()) out << YAML::Key << "quota" << YAML::Value << u.quota;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  if (d.mode == MailMode::relay) {
    out << YAML::Key << "relay" << YAML::Value << YAML::BeginMap;
    key_quoted(out, "host", d.relay.host);
    out << YAML::Key << "port" << YAML::Value << d.relay.port;
    if (!d.relay.username.empty()) key_quoted(out, "username", d.relay.username);
    if (!d.relay.password_file.empty()) key_quoted(out, "password_file", d.relay.password_file);
    if (!d.relay.spf_include.empty()) key_quoted(out, "spf_include", d.relay.spf_include);
    if (!d.relay.mappings.empty()) {
      out << YAML::Key << "mappings" << YAML::Value << YAML::BeginMap;
      for (const auto& [from, to] : d.relay.mappings) key_quoted(out, from.c_str(), to);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }

  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "source" << YAML::Value << d.tls.source;
  if (d.tls.source == "provided") {
    key_quoted(out, "cert", d.tls.cert_file);
    key_quoted(out, "key", d.tls.key_file);
  } else if (d.tls.source == "acme") {
    out << YAML::Key << "acme" << YAML::Value << YAML::BeginMap;
    key_quoted(out, "directory", d.tls.acme_directory);
    key_quoted(out, "email", d.tls.acme_email);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;

  out << YAML::Key << "dns" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "serve" << YAML::Value << d.dns_serve;
  out << YAML::EndMap;

  out << YAML::Key << "monitoring" << YAML::Value << YAML::BeginMap;
  key_quoted(out, "alert_to", d.admin_email);
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace firstboot::wizard
