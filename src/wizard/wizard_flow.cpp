#include "wizard/wizard_flow.h"

#include <algorithm>
#include <map>

#include "wizard/answer_checks.h"

namespace firstboot::wizard {

namespace {

// A person answering the same question this many times is a stuck key or a script gone wrong.
constexpr int kMaxAttempts = 200;
constexpr int kMaxScreens = 5000;

const char* kLetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory";

enum class Step { hostname, mode, domains, admin, users, relay, tls, dns, summary };

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// A menu line: the profile's word, then what it means.
std::string item(const std::string& key, const std::string& text, std::size_t width = 7) {
  return key + std::string(key.size() < width ? width - key.size() : 1, ' ') + text;
}

const char* mode_short(MailMode mode) {
  switch (mode) {
    case MailMode::relay:
      return "relay (send only, through a smarthost)";
    case MailMode::local:
      return "local (mailboxes on this machine)";
    case MailMode::full:
      return "full (complete mail server)";
  }
  return "";
}

std::string mode_line(MailMode mode) {
  switch (mode) {
    case MailMode::relay:
      return "Send only: mail leaves through your provider's server (smarthost)";
    case MailMode::local:
      return "Receive mail for your domains into Maildirs on this machine";
    case MailMode::full:
      return "Complete mail server: mailboxes, IMAP/POP3, submission, DKIM";
  }
  return "";
}

void clear_secrets(FormScreen& screen) {
  for (auto& f : screen.fields)
    if (f.secret) wipe(f.value);
}

class Flow {
 public:
  Flow(WizardUi& ui, const WizardOptions& options) : ui_(ui), options_(options) {}

  std::optional<WizardResult> run() {
    std::vector<Step> history;
    Step step = Step::hostname;
    for (int screens = 0; screens < kMaxScreens; ++screens) {
      Nav nav = ask(step);
      if (nav == Nav::next && step == Step::summary && result_) return std::move(result_);
      switch (nav) {
        case Nav::next:
          if (redirect_) {
            // The loader refused the assembled profile: go back to the question owning the field.
            step = jump_back(history, *redirect_);
            redirect_.reset();
          } else {
            history.push_back(step);
            step = after(step);
          }
          break;
        case Nav::back:
          if (!history.empty()) {
            step = history.back();
            history.pop_back();
          }
          break;
        case Nav::cancel: {
          Nav really = ui_.confirm_quit("Quit the wizard? Nothing has been written.");
          if (really == Nav::next || really == Nav::abort) return std::nullopt;
          break;
        }
        case Nav::abort:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

 private:
  Step after(Step step) const {
    switch (step) {
      case Step::hostname:
        return Step::mode;
      case Step::mode:
        return Step::domains;
      case Step::domains:
        return Step::admin;
      case Step::admin:
        return draft_.mode == MailMode::relay ? Step::relay : Step::users;
      case Step::users:
        return Step::tls;
      case Step::relay:
        return Step::tls;
      case Step::tls:
        return Step::dns;
      case Step::dns:
      case Step::summary:
        return Step::summary;
    }
    return Step::summary;
  }

  static Step jump_back(std::vector<Step>& history, Step target) {
    auto it = std::find(history.begin(), history.end(), target);
    if (it != history.end()) history.erase(it, history.end());
    return target;
  }

  // "Domains (3 of 8)": the count depends on the mode (users or relay, never both).
  std::string title(const std::string& name, Step step) const {
    static const Step order[] = {Step::hostname, Step::mode, Step::domains, Step::admin,
                                 Step::users,    Step::tls,  Step::dns,     Step::summary};
    int n = 0;
    for (Step s : order) {
      ++n;
      if (s == step || (step == Step::relay && s == Step::users)) break;
    }
    return name + " (" + std::to_string(n) + " of 8)";
  }

  Nav ask(Step step) {
    switch (step) {
      case Step::hostname:
        return ask_hostname();
      case Step::mode:
        return ask_mode();
      case Step::domains:
        return ask_domains();
      case Step::admin:
        return ask_admin();
      case Step::users:
        return ask_users();
      case Step::relay:
        return ask_relay();
      case Step::tls:
        return ask_tls();
      case Step::dns:
        return ask_dns();
      case Step::summary:
        return ask_summary();
    }
    return Nav::abort;
  }

  // An error the loader found for this step, shown the next time it is asked.
  std::string take_pending(Step step) {
    auto it = pending_.find(step);
    if (it == pending_.end()) return "";
    std::string e = it->second;
    pending_.erase(it);
    return e;
  }

  // Shows the form until check() accepts it (returns "") or the person leaves the screen.
  Nav ask_form(FormScreen& screen, const std::function<std::string(FormScreen&)>& check) {
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      Nav nav = ui_.form(screen);
      if (nav != Nav::next) {
        clear_secrets(screen);
        return nav;
      }
      screen.error = check(screen);
      clear_secrets(screen);
      if (screen.error.empty()) return Nav::next;
    }
    return Nav::abort;
  }

  Nav ask_hostname() {
    FormScreen s{"hostname",
                 title("Host name", Step::hostname),
                 "The full name of this mail server, as it will appear in DNS (the MX record "
                 "points to it), for example mail.example.com.",
                 take_pending(Step::hostname),
                 {{"Host name",
                   draft_.hostname.empty() ? options_.default_hostname : draft_.hostname, false}},
                 false};
    return ask_form(s, [&](FormScreen& f) {
      std::string name = normalize_name(f.fields[0].value);
      f.fields[0].value = name;
      std::string error = check_hostname(name);
      if (error.empty()) draft_.hostname = name;
      return error;
    });
  }

  Nav ask_mode() {
    MenuScreen s{"mode",
                 title("Mode", Step::mode),
                 "What should this machine do with mail?",
                 take_pending(Step::mode),
                 {{"relay", item("relay", mode_line(MailMode::relay))},
                  {"local", item("local", mode_line(MailMode::local))},
                  {"full", item("full", mode_line(MailMode::full))}},
                 to_string(draft_.mode),
                 true};
    Nav nav = ui_.menu(s);
    if (nav != Nav::next) return nav;
    draft_.mode = s.selected == "relay"   ? MailMode::relay
                  : s.selected == "local" ? MailMode::local
                                          : MailMode::full;
    return nav;
  }

  Nav ask_domains() {
    std::string value =
        draft_.domains.empty() ? domain_from_hostname(draft_.hostname) : join(draft_.domains, " ");
    FormScreen s{"domains",
                 title("Domains", Step::domains),
                 "The mail domains this server handles (the part after the @), separated by "
                 "spaces. The first one is the main domain.",
                 take_pending(Step::domains),
                 {{"Domains", value, false}},
                 true};
    return ask_form(s, [&](FormScreen& f) {
      std::vector<std::string> domains;
      std::string error = parse_domain_list(f.fields[0].value, domains);
      if (error.empty()) draft_.domains = domains;
      return error;
    });
  }

  bool has_mailboxes() const { return draft_.mode != MailMode::relay; }

  std::vector<std::string> taken_addresses(const std::string& except) const {
    std::vector<std::string> out;
    if (has_mailboxes() && draft_.admin_email != except) out.push_back(draft_.admin_email);
    for (const auto& u : draft_.users)
      if (u.address != except) out.push_back(u.address);
    return out;
  }

  Nav ask_admin() {
    const std::string& main_domain = draft_.domains.front();
    std::string address = draft_.admin_email.empty() ? "admin@" + main_domain : draft_.admin_email;
    FormScreen s{"admin",
                 title("Administrator", Step::admin),
                 "",
                 take_pending(Step::admin),
                 {{"Admin address", address, false}},
                 true};
    if (has_mailboxes()) {
      s.text =
          "The administrator's mailbox; postmaster@ and abuse@ of every domain are delivered "
          "to it. The password is hashed at once (yescrypt) and never stored in clear.";
      if (!draft_.admin_password_hash.empty())
        s.text += " Leave both password fields empty to keep the password already given.";
      s.fields.push_back({"Password", "", true});
      s.fields.push_back({"Password again", "", true});
    } else {
      s.text =
          "Where alerts and mail to postmaster@ go. Relay mode keeps no mailboxes on this "
          "machine, so there is no password to set.";
    }
    return ask_form(s, [&](FormScreen& f) {
      std::string addr = normalize_name(f.fields[0].value);
      f.fields[0].value = addr;
      std::string error;
      if (has_mailboxes()) {
        error = check_mailbox_address(addr, draft_.domains, taken_addresses(draft_.admin_email));
        if (!error.empty()) return error;
        bool keep = !draft_.admin_password_hash.empty() && f.fields[1].value.empty() &&
                    f.fields[2].value.empty();
        if (!keep) {
          error = check_new_password(f.fields[1].value, f.fields[2].value, addr);
          if (!error.empty()) return error;
          draft_.admin_password_hash = options_.hash_password(f.fields[1].value);
        }
      } else {
        if (has_control_chars(addr) || !is_valid_email(addr))
          return "'" + addr + "' is not a valid mail address.";
      }
      draft_.admin_email = addr;
      return std::string();
    });
  }

  Nav ask_users() {
    std::string error = take_pending(Step::users);
    for (int screens = 0; screens < kMaxAttempts; ++screens) {
      std::string list = "  " + draft_.admin_email + " (administrator)\n";
      for (const auto& u : draft_.users)
        list += "  " + u.address + (u.quota.empty() ? "" : " (quota " + u.quota + ")") + "\n";
      MenuScreen s{"users",
                   title("Mailboxes", Step::users),
                   "Mailboxes so far:\n" + list + "Add more now or later in the profile.",
                   error,
                   {{"done", "Continue"}, {"add", "Add a mailbox"}},
                   "done",
                   true};
      for (const auto& u : draft_.users)
        s.items.push_back({"remove:" + u.address, "Remove " + u.address});
      error.clear();
      Nav nav = ui_.menu(s);
      if (nav != Nav::next) return nav;
      if (s.selected == "done") return Nav::next;
      if (s.selected.rfind("remove:", 0) == 0) {
        std::string address = s.selected.substr(7);
        std::erase_if(draft_.users, [&](const DraftUser& u) { return u.address == address; });
      }
      if (s.selected == "add") {
        Nav added = ask_user();
        if (added == Nav::cancel || added == Nav::abort) return added;
      }
    }
    return Nav::abort;
  }

  Nav ask_user() {
    FormScreen s{"user",
                 "New mailbox",
                 "The address, its password (typed twice, hashed at once) and an optional "
                 "quota such as 2G (empty: no limit).",
                 "",
                 {{"Address", "", false},
                  {"Password", "", true},
                  {"Password again", "", true},
                  {"Quota", "", false}},
                 true};
    return ask_form(s, [&](FormScreen& f) {
      std::string addr = normalize_name(f.fields[0].value);
      f.fields[0].value = addr;
      std::string quota = normalize_name(f.fields[3].value);
      for (auto& c : quota) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      f.fields[3].value = quota;
      std::string error = check_mailbox_address(addr, draft_.domains, taken_addresses(""));
      if (error.empty()) error = check_new_password(f.fields[1].value, f.fields[2].value, addr);
      if (error.empty()) error = check_quota(quota);
      if (!error.empty()) return error;
      draft_.users.push_back({addr, options_.hash_password(f.fields[1].value), quota});
      return std::string();
    });
  }

  Nav ask_relay() {
    DraftRelay& r = draft_.relay;
    std::string mappings;
    for (const auto& [from, to] : r.mappings)
      mappings += (mappings.empty() ? "" : " ") + from + "=" + to;
    FormScreen s{"relay",
                 title("Relay (smarthost)", Step::relay),
                 "Your provider's submission server. The password goes to " +
                     options_.relay_password_file +
                     " (0600), never into the profile. Optional: the provider's SPF include, "
                     "and address mappings from=to.",
                 take_pending(Step::relay),
                 {{"Server", r.host, false},
                  {"Port", std::to_string(r.port), false},
                  {"User name", r.username, false},
                  {"Password", "", true},
                  {"Password again", "", true},
                  {"SPF include", r.spf_include, false},
                  {"Mappings", mappings, false}},
                 true};
    if (!relay_secret_.empty())
      s.text += " Leave the password fields empty to keep the one already given.";
    return ask_form(s, [&](FormScreen& f) {
      std::string host = normalize_name(f.fields[0].value);
      f.fields[0].value = host;
      std::string error = check_relay_host(host);
      if (!error.empty()) return "Server: " + error;
      int port = 0;
      error = parse_port(normalize_name(f.fields[1].value), port);
      if (!error.empty()) return "Port: " + error;
      std::string user = f.fields[2].value;
      error = check_username(user);
      if (!error.empty()) return "User name: " + error;
      bool keep = !relay_secret_.empty() && f.fields[3].value.empty() && f.fields[4].value.empty();
      if (!keep) {
        error = check_given_password(f.fields[3].value, f.fields[4].value);
        if (!error.empty()) return "Password: " + error;
      }
      std::string spf = normalize_name(f.fields[5].value);
      if (!spf.empty() && !check_dns_name(spf).empty())
        return "SPF include: " + check_dns_name(spf);
      std::vector<std::pair<std::string, std::string>> maps;
      error = parse_mappings(f.fields[6].value, maps);
      if (!error.empty()) return "Mappings: " + error;
      r.host = host;
      r.port = port;
      r.username = user;
      r.spf_include = spf;
      r.mappings = maps;
      r.password_file = options_.relay_password_file;
      if (!keep) {
        wipe(relay_secret_);
        relay_secret_ = f.fields[3].value;
      }
      return std::string();
    });
  }

  Nav ask_tls() {
    for (int screens = 0; screens < kMaxAttempts; ++screens) {
      MenuScreen s{
          "tls",
          title("TLS certificate", Step::tls),
          "Where the certificate for " + draft_.hostname + " comes from.",
          take_pending(Step::tls),
          {{"self-signed", item("self-signed", "Made now: works offline, clients warn once", 13)},
           {"acme", item("acme", "Let's Encrypt or another ACME CA (self-signed meanwhile)", 13)},
           {"provided", item("provided", "A certificate and key already on this machine", 13)}},
          draft_.tls.source,
          true};
      Nav nav = ui_.menu(s);
      if (nav != Nav::next) return nav;
      if (s.selected == "self-signed") {
        draft_.tls.source = s.selected;
        return nav;
      }
      Nav details = s.selected == "acme" ? ask_acme() : ask_provided();
      if (details != Nav::back) return details;
    }
    return Nav::abort;
  }

  Nav ask_acme() {
    DraftTls& t = draft_.tls;
    FormScreen s{
        "tls-acme",
        "ACME certificate",
        "The ACME directory of the certificate authority and the contact address it "
        "sends expiry notices to. Port 80 must reach this machine for the challenge.",
        "",
        {{"Directory URL", t.acme_directory.empty() ? kLetsEncrypt : t.acme_directory, false},
         {"Contact", t.acme_email.empty() ? draft_.admin_email : t.acme_email, false}},
        true};
    return ask_form(s, [&](FormScreen& f) {
      std::string url = f.fields[0].value;
      std::string email = normalize_name(f.fields[1].value);
      std::string error = check_acme_directory(url);
      if (!error.empty()) return error;
      if (has_control_chars(email) || !is_valid_email(email))
        return "'" + email + "' is not a valid mail address.";
      t.source = "acme";
      t.acme_directory = url;
      t.acme_email = email;
      return std::string();
    });
  }

  Nav ask_provided() {
    DraftTls& t = draft_.tls;
    FormScreen s{"tls-provided",
                 "Your certificate",
                 "PEM files on this machine: the certificate with its chain, and its private "
                 "key. They must be valid for " +
                     draft_.hostname + ".",
                 "",
                 {{"Certificate", t.cert_file, false}, {"Private key", t.key_file, false}},
                 true};
    return ask_form(s, [&](FormScreen& f) {
      std::string error = check_readable_file(f.fields[0].value, "certificate");
      if (error.empty()) error = check_readable_file(f.fields[1].value, "private key");
      if (!error.empty()) return error;
      t.source = "provided";
      t.cert_file = f.fields[0].value;
      t.key_file = f.fields[1].value;
      return std::string();
    });
  }

  Nav ask_dns() {
    MenuScreen s{
        "dns",
        title("DNS", Step::dns),
        "Who answers DNS queries for your domains?",
        take_pending(Step::dns),
        {{"none", item("none", "Your DNS provider: the summary lists the records to create")},
         {"bind", item("bind", "This machine, with BIND 9 (delegate the domains to it)")},
         {"nsd", item("nsd", "This machine, with NSD (authoritative only, smaller)")}},
        draft_.dns_serve,
        true};
    Nav nav = ui_.menu(s);
    if (nav == Nav::next) draft_.dns_serve = s.selected;
    return nav;
  }

  // Which question a loader issue belongs to, by its field path.
  Step owner_of(const std::string& field) const {
    auto starts = [&](const char* prefix) { return field.rfind(prefix, 0) == 0; };
    if (starts("hostname")) return Step::hostname;
    if (starts("mode")) return Step::mode;
    if (starts("domains")) return Step::domains;
    if (starts("relay")) return Step::relay;
    if (starts("tls")) return Step::tls;
    if (starts("dns")) return Step::dns;
    if (starts("users[0]") && has_mailboxes()) return Step::admin;
    if (starts("users")) return Step::users;
    if (starts("admin_email") || starts("monitoring") || starts("aliases")) return Step::admin;
    return Step::hostname;
  }

  // Answers that earlier changes made stale (a domain removed after its users were added).
  bool stale_answers() {
    auto in_domains = [&](const std::string& address) {
      std::string domain = address.substr(address.rfind('@') + 1);
      return std::find(draft_.domains.begin(), draft_.domains.end(), domain) !=
             draft_.domains.end();
    };
    if (has_mailboxes() && !in_domains(draft_.admin_email)) {
      pending_[Step::admin] = draft_.admin_email + " is not in one of the domains any more.";
      redirect_ = Step::admin;
      return true;
    }
    for (const auto& u : draft_.users)
      if (has_mailboxes() && !in_domains(u.address)) {
        pending_[Step::users] =
            u.address + " is not in one of the domains any more: remove it or add its domain.";
        redirect_ = Step::users;
        return true;
      }
    return false;
  }

  // The loader on the assembled YAML. The relay password file is written together with the
  // profile, so it cannot exist yet: when that is the only issue, the rest is checked without
  // the credentials (the loader wants both or neither), which the relay step checked itself.
  LoadedProfile check_draft(const std::string& yaml) {
    LoadedProfile loaded = options_.check_profile(yaml);
    auto missing_secret = [&](const ProfileIssue& issue) {
      return issue.field == "relay.password_file" && issue.message.rfind("file not found", 0) == 0;
    };
    if (draft_.mode != MailMode::relay || loaded.issues.empty() ||
        !std::all_of(loaded.issues.begin(), loaded.issues.end(), missing_secret))
      return loaded;
    ProfileDraft without = draft_;
    without.relay.username.clear();
    without.relay.password_file.clear();
    loaded = options_.check_profile(to_yaml(without, options_.header));
    if (loaded.profile && loaded.profile->relay) {
      loaded.profile->relay->username = draft_.relay.username;
      loaded.profile->relay->password_file = draft_.relay.password_file;
    }
    return loaded;
  }

  Nav ask_summary() {
    if (stale_answers()) return Nav::next;
    std::string yaml = to_yaml(draft_, options_.header);
    LoadedProfile loaded = check_draft(yaml);
    if (!loaded.issues.empty() || !loaded.profile) {
      // Send the person to the first question the loader objected to, with all its messages.
      Step target = loaded.issues.empty() ? Step::hostname : owner_of(loaded.issues[0].field);
      std::string text;
      for (const auto& issue : loaded.issues)
        if (owner_of(issue.field) == target)
          text += (text.empty() ? "" : "\n") +
                  (issue.field.empty() ? issue.message : issue.field + ": " + issue.message);
      if (text.empty()) text = "The profile was refused for an unknown reason.";
      pending_[target] = text;
      redirect_ = target;
      return Nav::next;
    }
    const Profile& p = *loaded.profile;
    std::string text;
    auto row = [&](const std::string& k, const std::string& v) {
      text += k + std::string(k.size() < 12 ? 12 - k.size() : 1, ' ') + v + "\n";
    };
    row("Host name", p.hostname);
    row("Mode", mode_short(p.mode));
    std::vector<std::string> names;
    for (const auto& d : p.domains) names.push_back(d.name);
    row("Domains", join(names, ", "));
    if (has_mailboxes()) {
      row("Admin", draft_.admin_email + " (password hashed)");
      std::vector<std::string> users;
      for (const auto& u : draft_.users) users.push_back(u.address);
      row("Mailboxes", users.empty() ? "none besides the admin" : join(users, ", "));
    } else {
      row("Admin", draft_.admin_email);
      row("Relay", draft_.relay.host + ":" + std::to_string(draft_.relay.port) + " as " +
                       draft_.relay.username);
      row("", "password in " + draft_.relay.password_file + " (0600)");
    }
    row("TLS", draft_.tls.source == "acme"       ? "ACME (" + draft_.tls.acme_directory + ")"
               : draft_.tls.source == "provided" ? "provided: " + draft_.tls.cert_file
                                                 : "self-signed");
    row("DNS", draft_.dns_serve == "none" ? "served by your DNS provider"
                                          : "served here by " + draft_.dns_serve);
    row("Profile", options_.profile_file + " (0600)");
    text += "\nDNS records\n" + options_.dns_records(p);
    if (!options_.accept_explained.empty()) text += "\n" + options_.accept_explained + "\n";
    ReviewScreen s{"summary", title("Summary", Step::summary), text, options_.accept_label};
    Nav nav = ui_.review(s);
    if (nav == Nav::next) {
      result_ = WizardResult{yaml, p, draft_.mode == MailMode::relay ? relay_secret_ : ""};
      wipe(relay_secret_);
    }
    return nav;
  }

  WizardUi& ui_;
  const WizardOptions& options_;
  ProfileDraft draft_;
  std::string relay_secret_;
  std::map<Step, std::string> pending_;
  std::optional<Step> redirect_;
  std::optional<WizardResult> result_;
};

}  // namespace

std::optional<WizardResult> run_wizard(WizardUi& ui, const WizardOptions& options) {
  Flow flow(ui, options);
  return flow.run();
}

}  // namespace firstboot::wizard
