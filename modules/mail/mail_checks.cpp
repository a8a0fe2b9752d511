#include "mail_checks.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>

#include "crypto/dkim_keys.h"
#include "engine/error.h"
#include "mail_config.h"
#include "mail_probe.h"
#include "secret_file.h"
#include "store/store.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(10);
constexpr const char* kModule = "mail";
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

void expect_greeting(ProbeConnection& conn) {
  SmtpReply greeting = conn.read_smtp_reply();
  if (greeting.code != 220) throw Error("unexpected greeting: " + greeting.text());
}

void starttls(ProbeConnection& conn, const std::string& max_version = "") {
  SmtpReply r = conn.smtp_command("STARTTLS");
  if (r.code != 220) throw Error("STARTTLS refused: " + r.text());
  conn.start_tls(max_version);
}

bool modern_tls(const std::string& version) { return version == "TLSv1.2" || version == "TLSv1.3"; }

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
  std::string probe = probe_address(p);
  std::optional<std::string> password;
  if (full) {
    try {
      password = read_secret_file(in.layout.map(kProbeSecretPath));
    } catch (const std::exception&) {
    }
  }

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
    ProbeConnection conn(kLocal, ports.smtp, kProbeTimeout);
    SmtpReply greeting = conn.read_smtp_reply();
    if (greeting.code != 220) throw Error("unexpected greeting: " + greeting.text());
    if (greeting.lines.front().find(p.hostname) == std::string::npos)
      throw Error("the banner does not name " + p.hostname + ": " + greeting.text());
    conn.ehlo("firstboot.check");
    conn.smtp_command("QUIT");
    c.detail = greeting.text();
  });

  if (!relay) {
    job("mail.smtp.starttls", log_hint, [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.smtp, kProbeTimeout);
      expect_greeting(conn);
      if (!has_extension(conn.ehlo("firstboot.check"), "STARTTLS"))
        throw Error("STARTTLS is not offered on port " + std::to_string(ports.smtp));
      starttls(conn);
      if (!modern_tls(conn.tls_version())) throw Error("negotiated " + conn.tls_version());
      c.detail = "STARTTLS: " + conn.tls_version() + " " + conn.tls_cipher();
    });
    job("mail.smtp.no-legacy-tls", "set TLS 1.2 as the minimum", [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.smtp, kProbeTimeout);
      expect_greeting(conn);
      conn.ehlo("firstboot.check");
      SmtpReply r = conn.smtp_command("STARTTLS");
      if (r.code != 220) throw Error("STARTTLS refused: " + r.text());
      try {
        conn.start_tls("TLSv1.1");
      } catch (const Error&) {
        c.detail = "a TLS 1.1 handshake is refused";
        return;
      }
      throw Error("the server accepted a " + conn.tls_version() + " handshake");
    });
    if (in.layout.is_sandbox()) {
      job("mail.smtp.not-open-relay", "check mynetworks and relay restrictions",
          [&](CheckResult& c) {
            ProbeConnection conn(kLocal, ports.smtp, kProbeTimeout, kOutsideSource);
            expect_greeting(conn);
            conn.ehlo("outside.example.net");
            SmtpReply mail = conn.smtp_command("MAIL FROM:<relay-check@example.net>");
            if (mail.code != 250) throw Error("MAIL FROM refused: " + mail.text());
            SmtpReply rcpt = conn.smtp_command("RCPT TO:<relay-check@relay-check.invalid>");
            conn.smtp_command("QUIT");
            if (rcpt.code / 100 != 5)
              throw Error("an outside client may relay to an outside domain: " + rcpt.text());
            c.detail = "relay from " + std::string(kOutsideSource) + " refused: " + rcpt.text();
          });
    }
  }

  if (full) {
    job("mail.submission.auth-after-tls", log_hint, [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.submission, kProbeTimeout);
      expect_greeting(conn);
      auto before = conn.ehlo("firstboot.check");
      if (has_extension(before, "AUTH")) throw Error("AUTH is offered before STARTTLS");
      if (!has_extension(before, "STARTTLS")) throw Error("STARTTLS is not offered");
      starttls(conn);
      auto after = conn.ehlo("firstboot.check");
      if (!has_extension(after, "AUTH")) throw Error("AUTH is not offered after STARTTLS");
      if (!password)
        throw Error("the probe password " + std::string(kProbeSecretPath) + " is missing");
      SmtpReply auth = conn.smtp_command("AUTH PLAIN " + sasl_plain(probe, *password));
      if (auth.code != 235) throw Error("AUTH as " + probe + " failed: " + auth.text());
      conn.smtp_command("QUIT");
      c.detail = "AUTH only after STARTTLS (" + conn.tls_version() + "); login as " + probe + " ok";
    });
    job("mail.smtps.tls", log_hint, [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.smtps, kProbeTimeout);
      conn.start_tls();
      expect_greeting(conn);
      c.detail = "implicit TLS: " + conn.tls_version();
    });
    job("mail.imap.login", log_hint, [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.imaps, kProbeTimeout);
      conn.start_tls();
      std::string greeting = conn.read_line();
      if (greeting.rfind("* OK", 0) != 0) throw Error("unexpected IMAP greeting: " + greeting);
      if (!password) throw Error("the probe password is missing");
      conn.write_secret_line("a1 LOGIN \"" + probe + "\" \"" + *password + "\"");
      for (int i = 0; i < 20; ++i) {
        std::string line = conn.read_line();
        if (line.rfind("a1 ", 0) != 0) continue;
        if (line.rfind("a1 OK", 0) != 0) throw Error("IMAP login as " + probe + " failed: " + line);
        conn.write_line("a2 LOGOUT");
        c.detail = "IMAPS (" + conn.tls_version() + ") login as " + probe + " ok";
        return;
      }
      throw Error("no answer to the IMAP login");
    });
    job("mail.pop3.tls", log_hint, [&](CheckResult& c) {
      ProbeConnection conn(kLocal, ports.pop3s, kProbeTimeout);
      conn.start_tls();
      std::string greeting = conn.read_line();
      if (greeting.rfind("+OK", 0) != 0) throw Error("unexpected POP3 greeting: " + greeting);
      conn.write_line("QUIT");
      c.detail = "POP3S (" + conn.tls_version() + ") answers";
    });
  }

  if (relay && p.relay) {
    const Relay& r = *p.relay;
    job("mail.relay.smarthost", "check relay.host, relay.username and the relay password",
        [&](CheckResult& c) {
          std::string host = r.host;
          ProbeConnection conn(host, r.port, kProbeTimeout);
          expect_greeting(conn);
          auto ext = conn.ehlo(p.hostname);
          if (!has_extension(ext, "STARTTLS"))
            throw Error("the smarthost " + host + ":" + std::to_string(r.port) +
                        " does not offer STARTTLS");
          starttls(conn);
          ext = conn.ehlo(p.hostname);
          if (r.username.empty()) {
            c.detail = "smarthost reachable with " + conn.tls_version() + " (no AUTH configured)";
            return;
          }
          auto map = read_secret_file(in.layout.map("/etc/postfix/sasl_passwd"));
          std::string prefix = relay_nexthop(r) + " " + r.username + ":";
          std::string password;
          if (map)
            for (std::size_t pos = 0; pos < map->size();) {
              std::size_t end = map->find('\n', pos);
              if (end == std::string::npos) end = map->size();
              std::string line = map->substr(pos, end - pos);
              if (line.rfind(prefix, 0) == 0) password = line.substr(prefix.size());
              pos = end + 1;
            }
          if (password.empty()) throw Error("no relay password installed");
          SmtpReply auth = conn.smtp_command("AUTH PLAIN " + sasl_plain(r.username, password));
          conn.smtp_command("QUIT");
          if (auth.code != 235)
            throw Error("the smarthost refused the relay credentials for " + r.username + ": " +
                        auth.text() + " (mail to it will be deferred)");
          c.detail = "smarthost " + host + ":" + std::to_string(r.port) + " accepts " + r.username +
                     " over " + conn.tls_version();
        });
  }
  std::vector<std::future<CheckResult>> running;
  for (auto& j : jobs) running.push_back(std::async(std::launch::async, j));
  for (auto& r : running) out.push_back(r.get());
  return out;
}

}  // namespace firstboot
