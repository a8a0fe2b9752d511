#include "mail_module.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "crypto/dkim_keys.h"
#include "crypto/keys.h"
#include "crypto/password_hash.h"
#include "engine/error.h"
#include "mail_checks.h"
#include "mail_config.h"
#include "profile/profile_loader.h"
#include "secret_file.h"
#include "store/store.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr auto kCheckTimeout = std::chrono::seconds(30);
const char* kAllServices[] = {kOpendkim, kOpendkimEd25519, kOpendmarc, kDovecot, kPostfix};

// Postfix will not read a table or main.cf modified within the last second (it might be half
// written): every Postfix program then sleeps and retries for about two seconds. The writer's
// rename is atomic, so a just-written file is complete: its modification time is set two seconds
// back, which saves those seconds on every check and start after a change.
void backdate(const fs::path& file) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  clock_gettime(CLOCK_REALTIME, &times[1]);
  times[1].tv_sec -= 2;
  utimensat(AT_FDCWD, file.c_str(), times, 0);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

ConfigChange stronger(ConfigChange a, ConfigChange b) {
  auto rank = [](ConfigChange c) {
    return c == ConfigChange::restart ? 2 : c == ConfigChange::reloadable ? 1 : 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

// A password file consumed in this run: wiped after a successful apply unless read-only.
struct ConsumedSecret {
  fs::path file;
  std::string what;   // "bob@example.com's password_file"
  std::string kept;   // where the secret lives on: "its hash is in the user store"
  bool fresh = true;  // read into the store in this run (false: it matched what was stored)
};

class MailModule : public Module {
 public:
  explicit MailModule(std::shared_ptr<CommandRunner> commands) : commands_(std::move(commands)) {}

  ModuleInfo info() const override {
    return {"mail",
            9,
            {"tls-certificates"},
            {"mail-transport"},
            "Postfix, Dovecot, OpenDKIM and OpenDMARC in relay, local or full mode"};
  }

  void check_profile(const Profile& profile, std::vector<ProfileIssue>& issues) const override {
    auto add = [&](const std::string& field, const std::string& message) {
      issues.push_back({profile.source_file, 0, 0, field, message});
    };
    if (profile.domains.empty()) add("domains", "the mail module needs at least one domain");
    if (profile.mode == MailMode::relay && !profile.relay)
      add("relay", "mode relay needs a relay: section");
    if (profile.database != "sqlite" && profile.database.rfind("postgresql://", 0) != 0)
      add("database", "must be sqlite or a postgresql:// URL");
    // The Ed25519 signer listens on the port after OpenDKIM's.
    const Ports& ports = profile.sandbox_ports;
    int ed_port = ports.opendkim + 1;
    for (int other :
         {ports.smtp, ports.submission, ports.smtps, ports.imap, ports.imaps, ports.pop3,
          ports.pop3s, ports.dns, ports.opendmarc, ports.metrics, ports.lmtp})
      if (has_ed25519(profile) && other == ed_port) {
        add("sandbox.ports.opendkim", "the Ed25519 signer listens on opendkim+1 (" +
                                          std::to_string(ed_port) +
                                          "), which another service uses");
        break;
      }
  }

  void apply(ModuleContext& ctx) override {
    const Profile& p = ctx.profile;
    std::vector<ConsumedSecret> consumed;
    Store& store = ctx.store();
    if (store.driver() != "sqlite")
      throw Error("the mail module reads the user store with SQLite lookups; database " +
                  store.driver() + " is not supported yet (use database: sqlite)");
    {
      auto step = ctx.step("user store");
      sync_store(ctx, store, consumed);
    }
    {
      auto step = ctx.step("dkim keys");
      ensure_dkim(ctx, store);
    }
    std::string relay_secret;
    if (p.mode == MailMode::relay) relay_secret = resolve_relay_secret(ctx, consumed);

    std::map<std::string, ConfigChange> changes;
    std::size_t checkpoint = ctx.files.checkpoint();
    {
      auto step = ctx.step("render configs");
      ensure_directories(ctx);
      MailInputs in{p, ctx.layout, ctx.ports(), store.location(), relay_secret};
      for (const MailFile& f : mail_files(in)) {
        std::string content = ctx.templates.render(f.template_name, f.data);
        FileChange c = ctx.files.write(ctx.path(f.system_path), content, f.attrs, f.secret);
        if (c == FileChange::unchanged) continue;
        ctx.log.info("{} {}", to_string(c), f.system_path);
        if (!ctx.dry_run &&
            std::find(f.services.begin(), f.services.end(), kPostfix) != f.services.end())
          backdate(ctx.path(f.system_path));
        for (auto& s : f.services)
          changes[s] =
              stronger(changes[s], f.restart ? ConfigChange::restart : ConfigChange::reloadable);
      }
      // A certificate the ssl module changed in this run: the TLS services reload.
      std::string tls_dir = "/etc/firstboot/tls/" + p.hostname;
      if (ctx.changed_in_this_run(ctx.path(tls_dir + "/fullchain.pem")) ||
          ctx.changed_in_this_run(ctx.path(tls_dir + "/privkey.pem"))) {
        ctx.log.info("certificate for {} changed in this run: TLS services reload", p.hostname);
        for (const char* s : {kPostfix, kDovecot})
          changes[s] = stronger(changes[s], ConfigChange::reloadable);
      }
    }

    std::vector<std::string> wanted = mail_services(p);
    if (!ctx.dry_run) {
      auto step = ctx.step("check configs");
      check_configs(ctx, wanted, changes, checkpoint);
    }
    {
      auto step = ctx.step("services");
      run_services(ctx, wanted, changes);
    }
    if (!ctx.dry_run) wipe_consumed(ctx, consumed);
  }

  std::vector<CheckResult> validate(ModuleContext& ctx) override {
    MailCheckInputs in{ctx.profile, ctx.layout, ctx.ports(), ctx.services, ctx.store()};
    return run_mail_checks(in);
  }

 private:
  // --- the user store ---------------------------------------------------------------------

  std::string resolve_hash(ModuleContext& ctx, Store& store, const User& user,
                           std::vector<ConsumedSecret>& consumed) {
    if (!user.password_hash.empty()) {
      if (!looks_like_crypt_hash(user.password_hash))
        throw Error("user " + user.address + ": password_hash is not a crypt(3) hash");
      return user.password_hash;
    }
    std::optional<std::string> stored = store.password_hash(user.address);
    if (user.password_file.empty()) return stored.value_or("!");  // no login (mode local)
    std::optional<std::string> password = read_secret_file(user.password_file);
    if (!password) {
      if (stored) {
        ctx.log.debug("user {}: password file already consumed, keeping the stored hash",
                      user.address);
        return *stored;
      }
      throw Error("user " + user.address + ": password_file " + user.password_file +
                  " does not exist and no password is stored for this user yet");
    }
    if (password->empty())
      throw Error("user " + user.address + ": password_file " + user.password_file + " is empty");
    consumed.push_back(
        {user.password_file, user.address + "'s password_file", "its hash is in the user store"});
    if (stored && verify_password(*password, *stored)) {
      consumed.back().fresh = false;
      return *stored;
    }
    if (ctx.dry_run) return "(hashed at run time)";
    ctx.log.info("user {}: password read from its password_file and stored as a yescrypt hash",
                 user.address);
    return hash_password(*password);
  }

  void sync_store(ModuleContext& ctx, Store& store, std::vector<ConsumedSecret>& consumed) {
    const Profile& p = ctx.profile;
    std::vector<std::string> domains;
    for (auto& d : p.domains) domains.push_back(lower(d.name));
    if (p.mode == MailMode::relay) {
      // A send-only host keeps no mailboxes; users and aliases of an earlier mode stay untouched.
      if (!ctx.dry_run && store.sync_domains(domains)) ctx.log.info("user store: domains updated");
      return;
    }
    std::vector<UserRow> users;
    for (auto& u : p.users)
      users.push_back({lower(u.address), resolve_hash(ctx, store, u, consumed), u.quota_bytes});
    if (p.mode == MailMode::full) users.push_back(probe_user(ctx, store));
    std::vector<AliasRow> aliases;
    for (auto& a : p.aliases)
      for (auto& to : a.to) aliases.push_back({lower(a.from), lower(to)});
    for (auto& a : required_aliases(p)) {
      ctx.log.debug("{} -> {} (required address)", a.from, a.to.front());
      for (auto& to : a.to) aliases.push_back({lower(a.from), lower(to)});
    }
    if (ctx.dry_run) return;
    if (store.sync_domains(domains)) ctx.log.info("user store: domains updated");
    if (store.sync_users(users)) ctx.log.info("user store: users updated ({})", users.size());
    if (store.sync_aliases(aliases)) ctx.log.info("user store: aliases updated");
  }

  // The monitoring checks' account: a random password made once, kept 0600 root.
  UserRow probe_user(ModuleContext& ctx, Store& store) {
    std::string address = probe_address(ctx.profile);
    fs::path secret = ctx.path(probe::kProbeSecretPath);
    bool created = ctx.files.create_once(
                       secret, [] { return random_token(24); }, FileAttrs{0600, "root", ""}) ==
                   FileChange::created;
    if (created)
      ctx.log.info("probe account {} created (password in {})", address, probe::kProbeSecretPath);
    std::optional<std::string> password = read_secret_file(secret);
    std::optional<std::string> stored = store.password_hash(address);
    std::string hash;
    if (!password)
      hash = "(hashed at run time)";  // plan mode
    else if (stored && !created)
      hash = *stored;  // made together with the secret; the checks log in with it
    else
      hash = ctx.dry_run ? "(hashed at run time)" : hash_password(*password);
    return {address, hash, probe::kProbeQuotaBytes};
  }

  // --- DKIM -------------------------------------------------------------------------------

  void ensure_dkim(ModuleContext& ctx, Store& store) {
    std::map<std::string, std::vector<DnsRecordRow>> records;
    for (const DkimKey& key : dkim_keys_for(ctx.profile, ctx.layout)) {
      if (ensure_dkim_key(ctx.files, key))
        ctx.log.info("DKIM key created: {} selector {} ({})", key.domain, key.selector,
                     key.algorithm);
      std::string value = dkim_txt_value(key);
      if (value.empty()) continue;  // plan mode: the key does not exist yet
      records[key.domain].push_back(
          {key.domain, key.selector + "._domainkey", "TXT", 3600, value, "dkim"});
    }
    if (ctx.dry_run) return;
    for (auto& [domain, rows] : records)
      if (store.put_dns_records(domain, "dkim", rows))
        ctx.log.info("DKIM public keys of {} published for the dns module", domain);
  }

  // --- relay ------------------------------------------------------------------------------

  std::string resolve_relay_secret(ModuleContext& ctx, std::vector<ConsumedSecret>& consumed) {
    const Relay& relay = *ctx.profile.relay;
    fs::path map = ctx.path("/etc/postfix/sasl_passwd");
    if (!relay.password_file.empty()) {
      if (auto password = read_secret_file(relay.password_file)) {
        std::string problem = relay_password_problem(*password);
        if (!problem.empty())
          throw Error("relay.password_file " + relay.password_file + ": " + problem);
        consumed.push_back({relay.password_file, "relay.password_file",
                            "the password is in /etc/postfix/sasl_passwd, 0600 root"});
        return *password;
      }
    }
    // Consumed in an earlier run: the installed map keeps the password.
    if (auto existing = read_secret_file(map)) {
      std::string installed = installed_relay_password(*existing, relay);
      if (!installed.empty()) return installed;
    }
    if (relay.username.empty()) return "";
    throw Error("relay.password_file " + relay.password_file +
                " does not exist and no relay password is installed yet");
  }

  // --- files, checks, services ------------------------------------------------------------

  void ensure_directories(ModuleContext& ctx) {
    const Profile& p = ctx.profile;
    auto dir = [&](const char* sys, FileAttrs attrs) {
      ctx.files.ensure_directory(ctx.path(sys), attrs);
    };
    if (p.mode != MailMode::relay) dir("/var/vmail", FileAttrs{0770, "mail", "mail"});
    if (!ctx.sandbox()) return;  // the packages made these on a real system
    // Postfix's queue, as its postfix-files lists it (post-install would take seconds).
    dir("/var/spool/postfix", FileAttrs{0755, "root", "root"});
    for (const char* q : {"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
                          "incoming", "private", "saved", "trace"})
      dir(("/var/spool/postfix/" + std::string(q)).c_str(), FileAttrs{0700, "postfix", ""});
    dir("/var/spool/postfix/maildrop", FileAttrs{0730, "postfix", "postdrop"});
    dir("/var/spool/postfix/public", FileAttrs{0710, "postfix", "postdrop"});
    dir("/var/spool/postfix/pid", FileAttrs{0755, "root", "root"});
    dir("/var/lib/postfix", FileAttrs{0700, "postfix", ""});
    dir("/var/log/mail", FileAttrs{0755, "root", "root"});
    if (p.mode == MailMode::full) {
      dir("/run/dovecot", FileAttrs{0755, "root", "root"});
      dir("/var/lib/dovecot", FileAttrs{0755, "root", "root"});
    }
  }

  // One daemon checker run: who checks, which file it names in an error, the command.
  struct ConfigCheck {
    std::string what;
    std::string file;
    std::vector<std::string> argv;
  };

  void check_configs(ModuleContext& ctx, const std::vector<std::string>& wanted,
                     const std::map<std::string, ConfigChange>& changes, std::size_t checkpoint) {
    bool offline = ctx.layout.target() == Target::offline;
    std::vector<ConfigCheck> checks;
    for (const std::string& name : wanted) {
      auto it = changes.find(name);
      bool changed = it != changes.end() && it->second != ConfigChange::none;
      bool running = !offline && ctx.services.status(name).running;
      if (!changed && running) continue;
      if (name == kPostfix) {
        // What `postfix check` validates, without its slow permission scan (seconds): postconf
        // parses main.cf and master.cf, postsuper validates the parameter values.
        std::string dir = daemon_path(ctx.layout, "/etc/postfix");
        std::string tree = ctx.path("/etc/postfix").string();
        checks.push_back(
            {"Postfix (postconf -n)", dir + "/main.cf", {"/usr/sbin/postconf", "-c", tree, "-n"}});
        checks.push_back({"Postfix (postconf -M)",
                          dir + "/master.cf",
                          {"/usr/sbin/postconf", "-c", tree, "-M"}});
        if (!offline)
          checks.push_back(
              {"Postfix (postsuper)", dir + "/main.cf", {"/usr/sbin/postsuper", "-c", dir}});
      } else if (offline) {
        continue;  // the others read files that exist only on the booted image
      } else if (name == kDovecot) {
        std::string conf = daemon_path(ctx.layout, "/etc/dovecot/dovecot.conf");
        checks.push_back({"Dovecot (doveconf -n)", conf, {"/usr/bin/doveconf", "-n", "-c", conf}});
      } else if (name == kOpendkim || name == kOpendkimEd25519) {
        std::string conf = daemon_path(
            ctx.layout, name == kOpendkim ? "/etc/opendkim.conf" : "/etc/opendkim-ed25519.conf");
        checks.push_back(
            {"OpenDKIM (opendkim -n)", conf, {"/usr/sbin/opendkim", "-n", "-x", conf}});
      } else if (name == kOpendmarc) {
        std::string conf = daemon_path(ctx.layout, "/etc/opendmarc.conf");
        checks.push_back(
            {"OpenDMARC (opendmarc -n)", conf, {"/usr/sbin/opendmarc", "-n", "-c", conf}});
      }
    }
    // The checkers are independent: run them side by side.
    std::vector<std::future<CommandResult>> results;
    for (auto& check : checks)
      results.push_back(std::async(std::launch::async, [this, &check] {
        auto start = std::chrono::steady_clock::now();
        CommandResult r = commands_->run(check.argv, kCheckTimeout);
        r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                   .count();
        return r;
      }));
    std::vector<CommandResult> done;
    for (auto& f : results) done.push_back(f.get());
    for (std::size_t i = 0; i < checks.size(); ++i) {
      const CommandResult& r = done[i];
      ctx.log.debug("{}: exit {} ({:.0f} ms)", checks[i].what, r.exit_code, r.ms);
      if (r.exit_code == 0) continue;
      ctx.files.rollback_to(checkpoint);
      std::string message = r.timed_out ? "timed out" : last_lines(r.output, 3);
      if (message.empty()) message = "exit status " + std::to_string(r.exit_code);
      throw Error(checks[i].what + " rejected the rendered " + checks[i].file + ": " + message +
                  " (the previous configuration was restored)");
    }
  }

  void run_services(ModuleContext& ctx, const std::vector<std::string>& wanted,
                    std::map<std::string, ConfigChange>& changes) {
    const Profile& p = ctx.profile;
    bool offline = ctx.layout.target() == Target::offline;
    // Every port a stopped service needs must be free before anything starts or stops.
    if (!ctx.dry_run && !offline) {
      std::string host = ctx.sandbox() ? "127.0.0.1" : "0.0.0.0";
      std::vector<std::string> busy;
      for (const std::string& name : wanted) {
        if (ctx.services.status(name).running) continue;
        for (int port : service_ports(name, p, ctx.ports()))
          if (auto who = port_in_use(host, port))
            busy.push_back(*who + " (needed by " + name + ")");
      }
      if (!busy.empty()) {
        std::string all;
        for (auto& b : busy) all += (all.empty() ? "" : "; ") + b;
        throw Error("cannot start the mail services: " + all +
                    ". Stop that process or choose other ports (sandbox.ports)");
      }
    }
    // Services of another mode (e.g. Dovecot after switching full -> relay) stop.
    for (const char* name : kAllServices) {
      if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) continue;
      if (offline || !ctx.services.status(name).running) continue;
      ctx.log.info("service {}: not used in mode {}, stopping", name, to_string(p.mode));
      if (!ctx.dry_run) ctx.services.stop({name});
      ctx.services_changed.push_back(std::string(name) + ":stopped");
    }
    for (const std::string& name : wanted) {
      ServiceSpec spec = mail_service_spec(name, p, ctx.layout, ctx.ports());
      auto it = changes.find(name);
      ctx.ensure_service(spec, it == changes.end() ? ConfigChange::none : it->second);
    }
  }

  void wipe_consumed(ModuleContext& ctx, const std::vector<ConsumedSecret>& consumed) {
    std::set<fs::path> done;
    for (const ConsumedSecret& s : consumed) {
      if (!done.insert(s.file).second) continue;
      std::string why = read_only_reason(s.file);
      if (!why.empty()) {
        // Said once, when the secret was taken in; later runs only note it in the module log.
        ctx.log.log(s.fresh ? spdlog::level::info : spdlog::level::debug, "{} {} left in place: {}",
                    s.what, s.file.string(), why);
        continue;
      }
      wipe_secret_file(s.file);
      ctx.log.info("{} {} overwritten and removed ({})", s.what, s.file.string(), s.kept);
    }
  }

  std::shared_ptr<CommandRunner> commands_;
};

}  // namespace

std::unique_ptr<Module> make_mail_module() {
  return std::make_unique<MailModule>(std::make_shared<SystemCommandRunner>());
}

std::unique_ptr<Module> make_mail_module(std::shared_ptr<CommandRunner> commands) {
  return std::make_unique<MailModule>(std::move(commands));
}

}  // namespace firstboot
