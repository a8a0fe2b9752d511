#include "zone_server.h"

#include <grp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace firstboot::dns {

namespace {

constexpr int kRndcPort = 953;
constexpr const char* kBindConfig = "/etc/bind/named.conf";
constexpr const char* kRndcKey = "/etc/bind/rndc.key";
constexpr const char* kBindZones = "/var/lib/bind/firstboot";
constexpr const char* kBindKeys = "/var/lib/bind/firstboot/keys";
constexpr const char* kNsdConfig = "/etc/nsd/nsd.conf";
constexpr const char* kNsdZones = "/etc/nsd/zones";

bool group_exists(const char* name) { return getgrnam(name) != nullptr; }
bool user_exists(const char* name) { return getpwnam(name) != nullptr; }

std::string random_base64(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw Error("cannot get random bytes for the rndc key");
  std::string out(4 * ((bytes + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), raw.data(),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::string> offline_root_args(const ModuleContext& ctx) {
  if (ctx.layout.target() != Target::offline) return {};
  return {"-t", ctx.layout.base().string()};
}

class BindServer : public ZoneServer {
 public:
  std::string kind() const override { return "bind"; }
  std::string service_name() const override { return "named"; }
  std::string config_path() const override { return kBindConfig; }
  std::string zone_path(const std::string& domain) const override {
    return std::string(kBindZones) + "/" + domain + ".zone";
  }

  void prepare(ModuleContext& ctx) const override {
    // named (user bind on a real system) writes signed zones and keys next to the zones.
    // In the sandbox named runs as the invoking user without CAP_DAC_OVERRIDE (named drops it),
    // so its directories must belong to that user, not to bind.
    std::string group = !ctx.sandbox() && group_exists("bind") ? "bind" : "";
    std::string owner = !ctx.sandbox() && user_exists("bind") ? "bind" : "";
    ctx.files.ensure_directory(ctx.path("/var/lib/bind"), FileAttrs{0775, "root", group});
    ctx.files.ensure_directory(ctx.path(kBindZones), FileAttrs{0775, "root", group});
    ctx.files.ensure_directory(ctx.path(kBindKeys), FileAttrs{0770, owner, group});
    ctx.files.ensure_directory(ctx.path("/etc/bind"),
                               FileAttrs{ctx.sandbox() ? 0755u : 02755u, "root", group});
    if (ctx.sandbox())
      ctx.files.ensure_directory(ctx.path("/run/named"), FileAttrs{0775, "root", group});
    // Debian's package makes this key at install; firstboot makes one only when it is missing.
    ctx.files.create_once(
        ctx.path(kRndcKey),
        [] {
          return "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + random_base64(32) +
                 "\";\n};\n";
        },
        FileAttrs{0640, "root", group}, true);
  }

  std::string render_config(ModuleContext& ctx,
                            const std::vector<DomainRecords>& sets) const override {
    bool sandbox = ctx.sandbox();
    nlohmann::json zones = nlohmann::json::array();
    for (const DomainRecords& s : sets)
      zones.push_back({{"name", s.domain},
                       {"file", config_path_for(ctx, zone_path(s.domain))},
                       {"dnssec", ctx.profile.dns.dnssec},
                       {"key_directory", config_path_for(ctx, kBindKeys)}});
    nlohmann::json data = {{"directory", config_path_for(ctx, "/var/lib/bind")},
                           {"pid_file", config_path_for(ctx, "/run/named/named.pid")},
                           {"session_keyfile", config_path_for(ctx, "/run/named/session.key")},
                           {"port", ctx.ports().dns},
                           {"listen_v4", sandbox ? "127.0.0.1" : "any"},
                           {"listen_v6", sandbox ? "none" : "any"},
                           {"rndc_key_file", config_path_for(ctx, kRndcKey)},
                           {"control_port", control_port(ctx)},
                           {"zones", zones}};
    return ctx.templates.render("dns/named.conf", data);
  }

  std::vector<std::string> check_config_command(const ModuleContext& ctx) const override {
    std::vector<std::string> argv{"named-checkconf"};
    for (auto& a : offline_root_args(ctx)) argv.push_back(a);
    argv.push_back(ctx.layout.target() == Target::offline ? kBindConfig
                                                          : ctx.path(kBindConfig).string());
    return argv;
  }

  std::vector<std::string> check_zone_command(const ModuleContext& ctx,
                                              const std::string& domain) const override {
    // -i local: integrity checks for names inside the zone only (no lookups of other zones).
    return {"named-checkzone",
            "-q",
            "-i",
            "local",
            "-k",
            "fail",
            "-m",
            "fail",
            "-M",
            "fail",
            "-n",
            "fail",
            "-S",
            "fail",
            domain,
            ctx.path(zone_path(domain)).string()};
  }

  ServiceSpec service(const ModuleContext& ctx) const override {
    ServiceSpec spec;
    spec.name = "named";
    spec.systemd_unit = "named.service";
    // -g: foreground, log to stderr (the supervisor keeps it with the service's output).
    spec.argv = {"named", "-g", "-c", ctx.path(kBindConfig).string()};
    spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", ctx.ports().dns)};
    spec.reload_argv = {"rndc",      "-k", ctx.path(kRndcKey).string(),       "-s",
                        "127.0.0.1", "-p", std::to_string(control_port(ctx)), "reload"};
    return spec;
  }

  ConfigChange change_for(bool config_changed, bool zones_changed) const override {
    // rndc reload re-reads named.conf (new zones included) and every changed zone.
    return config_changed || zones_changed ? ConfigChange::reloadable : ConfigChange::none;
  }

 private:
  static int control_port(const ModuleContext& ctx) {
    return ctx.sandbox() ? ctx.ports().dns + 1 : kRndcPort;
  }
};

class NsdServer : public ZoneServer {
 public:
  std::string kind() const override { return "nsd"; }
  std::string service_name() const override { return "nsd"; }
  std::string config_path() const override { return kNsdConfig; }
  std::string zone_path(const std::string& domain) const override {
    return std::string(kNsdZones) + "/" + domain + ".zone";
  }

  void prepare(ModuleContext& ctx) const override {
    std::string group = !ctx.sandbox() && group_exists("nsd") ? "nsd" : "";
    ctx.files.ensure_directory(ctx.path("/etc/nsd"), FileAttrs{0755, "root", ""});
    ctx.files.ensure_directory(ctx.path(kNsdZones), FileAttrs{0755, "root", ""});
    ctx.files.ensure_directory(
        ctx.path("/var/lib/nsd"),
        FileAttrs{0755, group.empty() || !user_exists("nsd") ? "" : "nsd", group});
    if (ctx.sandbox()) ctx.files.ensure_directory(ctx.path("/run/nsd"), FileAttrs{0755, "", ""});
  }

  std::string render_config(ModuleContext& ctx,
                            const std::vector<DomainRecords>& sets) const override {
    bool sandbox = ctx.sandbox();
    nlohmann::json zones = nlohmann::json::array();
    for (const DomainRecords& s : sets)
      zones.push_back({{"name", s.domain}, {"file", config_path_for(ctx, zone_path(s.domain))}});
    nlohmann::json ips = nlohmann::json::array();
    if (sandbox) ips.push_back("127.0.0.1");
    nlohmann::json data = {
        {"ip_addresses", ips},
        {"port", ctx.ports().dns},
        // In the sandbox NSD runs as the invoking user; on a system it drops to nsd.
        {"username", sandbox ? "" : "nsd"},
        {"zones_dir", config_path_for(ctx, kNsdZones)},
        {"pid_file", config_path_for(ctx, "/run/nsd/nsd.pid")},
        {"state_dir", config_path_for(ctx, "/var/lib/nsd")},
        {"log_file", sandbox ? nlohmann::json(config_path_for(ctx, "/var/lib/nsd/nsd.log"))
                             : nlohmann::json(nullptr)},
        {"zones", zones}};
    return ctx.templates.render("dns/nsd.conf", data);
  }

  std::vector<std::string> check_config_command(const ModuleContext& ctx) const override {
    return {"nsd-checkconf", ctx.path(kNsdConfig).string()};
  }

  std::vector<std::string> check_zone_command(const ModuleContext& ctx,
                                              const std::string& domain) const override {
    return {"nsd-checkzone", domain, ctx.path(zone_path(domain)).string()};
  }

  ServiceSpec service(const ModuleContext& ctx) const override {
    ServiceSpec spec;
    spec.name = "nsd";
    spec.systemd_unit = "nsd.service";
    spec.argv = {"nsd", "-d", "-c", ctx.path(kNsdConfig).string()};
    spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", ctx.ports().dns)};
    spec.reload_signal = SIGHUP;  // re-reads zone files whose mtime changed
    return spec;
  }

  ConfigChange change_for(bool config_changed, bool zones_changed) const override {
    // SIGHUP reloads zones but not nsd.conf (a new zone needs a restart, which is quick).
    if (config_changed) return ConfigChange::restart;
    return zones_changed ? ConfigChange::reloadable : ConfigChange::none;
  }
};

}  // namespace

std::string config_path_for(const ModuleContext& ctx, const std::string& system_path) {
  return ctx.sandbox() ? ctx.path(system_path).string() : system_path;
}

std::unique_ptr<ZoneServer> make_zone_server(const std::string& serve) {
  if (serve == "bind") return std::make_unique<BindServer>();
  if (serve == "nsd") return std::make_unique<NsdServer>();
  return nullptr;
}

}  // namespace firstboot::dns
