#include "mail_checks.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>

#include "crypto/dkim_keys.h"
#include "engine/error.h"
#include "mail_config.h"
#include "probe/connection.h"
#include "probe/imap.h"
#include "probe/probe_account.h"
#include "probe/smtp.h"
#include "secret_file.h"
#include "store/store.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

using probe::Deadline;
using probe::Endpoint;
using probe::ProbeError;
using probe::TlsOptions;

constexpr auto kProbeTimeout = std::chrono::seconds(10);
constexpr const char* kModule = "mail";
constexpr const char* kEhloName = "firstboot.check";
// The "outside" client in the sandbox: another loopback address, not in mynetworks.
constexpr const char* kOutsideSource = "127.0.0.2";
constexpr const char* kLocal = "127.0.0.1";

// Runs one check body; an Error or exception becomes a failed check with its message.
CheckResult timed_check(const std::string& id, const std::string& hint,
                        const std::function<void(CheckResult&)>& body) {
  CheckResult c = make_check(id, kModule);
  auto start = std::chrono::steady_clock::now();
  try {
    body(c);
  } catch (const std::exception& e) {
    c.status = CheckStatus::fail;
    c.detail = e.what();
  }
  if (c.status != CheckStatus::pass && c.hint.empty()) c.hint = hint;
  c.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return c;
}

Endpoint local(int port, const std::string& source = "") { return Endpoint{kLocal, port, source}; }

// The checks look at the protocol, not at who signed the certificate (the ssl module checks the
// certificate itself; a self-signed one is normal on first boot).
TlsOptions modern_tls(const std::string& server_name) {
  return TlsOptions{server_name, TLS1_2_VERSION, 0, false};
}
// Offers only TLS 1.0 and 1.1 (with the legacy ciphers): a server must refuse this.
TlsOptions legacy_tls(const std::string& server_name) {
  return TlsOptions{server_name, TLS1_VERSION, TLS1_1_VERSION, true};
}

probe::SmtpClient smtp_greeted(const Endpoint& at, Deadline deadline,
                               const std::optional<TlsOptions>& tls = std::nullopt) {
  probe::SmtpClient smtp = probe::SmtpClient::connect(at, deadline, tls);
  if (smtp.greeting().code != 220) throw Error("unexpected greeting: " + smtp.greeting().summary());
  return smtp;
}

void ehlo(probe::SmtpClient& smtp, const std::string& name, Deadline deadline) {
  probe::SmtpReply r = smtp.ehlo(name, deadline);
  if (r.code != 250) throw Error("EHLO refused: " + r.summary());
}

bool modern_version(const std::string& version) {
  return version == "TLSv1.2" || version == "TLSv1.3";
}

}  // namespace

std::vector<CheckResult> run_mail_checks(const MailCheckInputs& in) {
  const Profile& p = in.profile;
  const Ports& ports = in.ports;
  std::vector<CheckResult> out;
  bool full = p.mode == MailMode::full;
  bool relay = p.mode == MailMode::relay;
  std::string log_hint = "read var/log/firstboot/09-mail.log and the daemon logs";

  // Files first: they are checkable on every target.
  out.push_back(
      timed_check("mail.dkim.keys", "run `firstboot run --only mail`", [&](CheckResult& c) {
        std::size_t count = 0;
        for (const DkimKey& key : dkim_keys_for(p, in.layout)) {
          struct stat st {};
          if (::stat(key.private_key.c_str(), &st) != 0)
            throw Error("DKIM key missing: " + key.private_key.string());
          if ((st.st_mode & 077) != 0)
            throw Error(key.private_key.string() + " is readable by others");
          std::string value = dkim_txt_value(key);
          bool published = false;
          for (auto& row : in.store.dns_records(key.domain))
            if (row.name == key.selector + "._domainkey" && row.type == "TXT" && row.value == value)
              published = true;
          if (!published)
            throw Error("the public key of " + key.selector + "._domainkey." + key.domain +
                        " is not in the store's dns_records");
          ++count;
        }
        c.detail = std::to_string(count) + " DKIM key(s), 0600, public keys published";
      }));

  if (in.layout.target() == Target::offline) {
    CheckResult c = make_check("mail.services", kModule);
    c.detail = "offline image: the services start on first boot";
    out.push_back(c);
    return out;
  }

  // The protocol checks are independent: they run side by side, reported in this order.
  std::vector<std::function<CheckResult()>> jobs;
  auto job = [&jobs](std::string id, std::string hint, std::function<void(CheckResult&)> body) {
    jobs.push_back([id = std::move(id), hint = std::move(hint), body = std::move(body)] {
      return timed_check(id, hint, body);
    });
  };
  std::string probe_user = probe_address(p);
  std::optional<std::string> password;
  if (full) {
    try {
      password = read_secret_file(in.layout.map(probe::kProbeSecretPath));
    } catch (const std::exception&) {
    }
  }
  auto probe_password = [&]() -> const std::string& {
    if (!password)
      throw Error("the probe password " + std::string(probe::kProbeSecretPath) + " is missing");
    return *password;
  };
  auto deadline = [] { return Deadline::in(kProbeTimeout); };

  job("mail.services", log_hint, [&](CheckResult& c) {
    std::string down;
    for (const std::string& name : mail_services(p)) {
      ServiceStatus s = in.services.status(name);
      if (!s.running)
        down += (down.empty() ? "" : ", ") + name + (s.detail.empty() ? "" : " (" + s.detail + ")");
    }
    if (!down.empty()) throw Error("not running: " + down);
    c.detail = "running: ";
    for (auto& name : mail_services(p)) c.detail += name + " ";
  });

  job("mail.smtp.banner", log_hint, [&](CheckResult& c) {
    Deadline d = deadline();
    auto smtp = smtp_greeted(local(ports.smtp), d);
    const probe::SmtpReply& greeting = smtp.greeting();
    if (greeting.lines.empty() || greeting.lines.front().find(p.hostname) == std::string::npos)
      throw Error("the banner does not name " + p.hostname + ": " + greeting.summary());
    ehlo(smtp, kEhloName, d);
    smtp.quit(d);
    c.detail = greeting.summary();
  });

  if (!relay) {
    job("mail.smtp.starttls", log_hint, [&](CheckResult& c) {
      Deadline d = deadline();
      auto smtp = smtp_greeted(local(ports.smtp), d);
      ehlo(smtp, kEhloName, d);
      if (!smtp.offers("STARTTLS"))
        throw Error("STARTTLS is not offered on port " + std::to_string(ports.smtp));
      smtp.starttls(modern_tls(p.hostname), kEhloName, d);
      probe::TlsSession tls = smtp.connection().tls_session();
      if (!modern_version(tls.version)) throw Error("negotiated " + tls.version);
      smtp.quit(d);
      c.detail = "STARTTLS: " + tls.version + " " + tls.cipher;
    });
    job("mail.smtp.no-legacy-tls", "set TLS 1.2 as the minimum", [&](CheckResult& c) {
      Deadline d = deadline();
      auto smtp = smtp_greeted(local(ports.smtp), d);
      ehlo(smtp, kEhloName, d);
      probe::SmtpReply r = smtp.command("STARTTLS", d);
      if (r.code != 220) throw Error("STARTTLS refused: " + r.summary());
      try {
        smtp.connection().start_tls(legacy_tls(p.hostname), d);
      } catch (const ProbeError& e) {
        if (e.kind() != ProbeError::Kind::tls && e.kind() != ProbeError::Kind::closed) throw;
        c.detail = "a TLS 1.1 handshake is refused";
        return;
      }
      throw Error("the server accepted a " + smtp.connection().tls_session().version +
                  " handshake");
    });
    if (in.layout.is_sandbox()) {
      job("mail.smtp.not-open-relay", "check mynetworks and relay restrictions",
          [&](CheckResult& c) {
            Deadline d = deadline();
            auto smtp = smtp_greeted(local(ports.smtp, kOutsideSource), d);
            ehlo(smtp, "outside.example.net", d);
            probe::SmtpReply mail = smtp.command("MAIL FROM:<relay-check@example.net>", d);
            if (mail.code != 250) throw Error("MAIL FROM refused: " + mail.summary());
            probe::SmtpReply rcpt = smtp.command("RCPT TO:<relay-check@relay-check.invalid>", d);
            smtp.quit(d);
            if (rcpt.code / 100 != 5)
              throw Error("an outside client may relay to an outside domain: " + rcpt.summary());
            c.detail = "relay from " + std::string(kOutsideSource) + " refused: " + rcpt.summary();
          });
    }
  }

  if (full) {
    job("mail.submission.auth-after-tls", log_hint, [&](CheckResult& c) {
      Deadline d = deadline();
      auto smtp = smtp_greeted(local(ports.submission), d);
      ehlo(smtp, kEhloName, d);
      if (smtp.offers("AUTH")) throw Error("AUTH is offered before STARTTLS");
      if (!smtp.offers("STARTTLS")) throw Error("STARTTLS is not offered");
      smtp.starttls(modern_tls(p.hostname), kEhloName, d);
      if (!smtp.offers("AUTH")) throw Error("AUTH is not offered after STARTTLS");
      std::string version = smtp.connection().tls_session().version;
      probe::SmtpReply auth = smtp.auth_plain(probe_user, probe_password(), d);
      if (auth.code != 235) throw Error("AUTH as " + probe_user + " failed: " + auth.summary());
      smtp.quit(d);
      c.detail = "AUTH only after STARTTLS (" + version + "); login as " + probe_user + " ok";
    });
    job("mail.smtps.tls", log_hint, [&](CheckResult& c) {
      Deadline d = deadline();
      auto smtp = smtp_greeted(local(ports.smtps), d, modern_tls(p.hostname));
      c.detail = "implicit TLS: " + smtp.connection().tls_session().version;
      smtp.quit(d);  // after reading the session: quit closes the connection
    });
    job("mail.imap.login", log_hint, [&](CheckResult& c) {
      Deadline d = deadline();
      auto imap = probe::ImapClient::connect(local(ports.imaps), d, modern_tls(p.hostname));
      probe::ImapResponse r = imap.login(probe_user, probe_password(), d);
      if (!r.ok()) throw Error("IMAP login as " + probe_user + " failed: " + r.summary());
      std::string version = imap.connection().tls_session().version;
      imap.logout(d);
      c.detail = "IMAPS (" + version + ") login as " + probe_user + " ok";
    });
    job("mail.pop3.tls", log_hint, [&](CheckResult& c) {
      Deadline d = deadline();
      auto conn = probe::Connection::open(local(ports.pop3s), d);
      conn.start_tls(modern_tls(p.hostname), d);
      std::string greeting = conn.read_line(d, 4096);
      if (greeting.rfind("+OK", 0) != 0)
        throw Error("unexpected POP3 greeting: " + greeting.substr(0, 120));
      conn.write("QUIT\r\n", d);
      c.detail = "POP3S (" + conn.tls_session().version + ") answers";
    });
  }

  if (relay && p.relay) {
    const Relay& r = *p.relay;
    job("mail.relay.smarthost", "check relay.host, relay.username and the relay password",
        [&](CheckResult& c) {
          Deadline d = deadline();
          Endpoint at{r.host, r.port, ""};
          auto smtp = smtp_greeted(at, d);
          ehlo(smtp, p.hostname, d);
          if (!smtp.offers("STARTTLS"))
            throw Error("the smarthost " + at.describe() + " does not offer STARTTLS");
          smtp.starttls(modern_tls(r.host), p.hostname, d);
          std::string version = smtp.connection().tls_session().version;
          if (r.username.empty()) {
            smtp.quit(d);
            c.detail = "smarthost reachable with " + version + " (no AUTH configured)";
            return;
          }
          auto map = read_secret_file(in.layout.map("/etc/postfix/sasl_passwd"));
          std::string relay_password = map ? installed_relay_password(*map, r) : "";
          if (relay_password.empty()) throw Error("no relay password installed");
          probe::SmtpReply auth = smtp.auth_plain(r.username, relay_password, d);
          smtp.quit(d);
          if (auth.code != 235)
            throw Error("the smarthost refused the relay credentials for " + r.username + ": " +
                        auth.summary() + " (mail to it will be deferred)");
          c.detail = "smarthost " + at.describe() + " accepts " + r.username + " over " + version;
        });
  }
  std::vector<std::future<CheckResult>> running;
  for (auto& j : jobs) running.push_back(std::async(std::launch::async, j));
  for (auto& r : running) out.push_back(r.get());
  return out;
}

}  // namespace firstboot
