// Mail probes: SMTP, submission, SMTPS, IMAP, IMAPS, POP3 with their TLS certificates, the
// open-relay probe from a second loopback address, postmaster@/abuse@, and the round trip
// (submit -> DKIM-signed -> delivered -> read over IMAP -> signature verified).
#include <openssl/ssl.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <thread>

#include "checks.h"
#include "crypto/keys.h"
#include "mail_log.h"
#include "probe/certificate_check.h"
#include "probe/dkim.h"
#include "probe/imap.h"
#include "probe/smtp.h"

namespace firstboot {

namespace {

using namespace std::chrono_literals;
using probe::Deadline;
using probe::Endpoint;
using probe::ProbeError;
using probe::TlsOptions;

const char* kPostfixHint = "Postfix does not answer: see the postfix service check and its log";
const char* kDovecotHint = "Dovecot does not answer: see the dovecot service check and its log";

TlsOptions modern_tls(const MonitorConfig& c) { return TlsOptions{c.hostname, 0, 0, false}; }
// Offers only TLS 1.0 and 1.1: a server that accepts this is too lax.
TlsOptions legacy_tls(const MonitorConfig& c) {
  return TlsOptions{c.hostname, TLS1_VERSION, TLS1_1_VERSION, true};
}

// The certificate checks of one TLS endpoint.
void certificate_checks(const CheckEnvironment& env, const std::string& service,
                        const probe::TlsSession& session, CheckSink& sink) {
  const std::string cert_id = "ssl." + service + ".certificate";
  const std::string expiry_id = "ssl." + service + ".expiry";
  auto a = probe::assess_chain(session.chain_pem, env.config.hostname, env.now, env.ca_file);
  if (!a.readable) {
    sink.fail(cert_id, a.problem);
    sink.skip(expiry_id, cert_id + " failed");
    return;
  }
  if (!a.problem.empty())
    sink.fail(cert_id, a.problem);
  else
    sink.pass(cert_id, std::string(a.self_signed ? "self-signed" : "issued by " + a.leaf.issuer) +
                           ", valid for " + env.config.hostname +
                           (a.trusted       ? ", trusted"
                            : a.self_signed ? ""
                                            : ", chain complete"));
  std::string days;
  {
    std::time_t t = std::chrono::system_clock::to_time_t(a.leaf.not_after);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    days = fmt::format("{} days left (until {})", static_cast<long long>(std::floor(a.days_left)),
                       buf);
    if (a.days_left < 0) days = std::string("expired on ") + buf;
  }
  switch (expiry_status(a.days_left)) {
    case CheckStatus::pass:
      sink.pass(expiry_id, days);
      break;
    case CheckStatus::warn:
      sink.warn(expiry_id, days, "renew the certificate within days (tls.source in the profile)");
      break;
    default:
      sink.fail(expiry_id, days, "renew or replace the certificate now, then `firstboot run`");
  }
}

// A second connection offering only TLS 1.0/1.1 must be refused.
std::string legacy_tls_refused(const MonitorConfig& c, int port, bool starttls_smtp,
                               bool starttls_imap, Deadline deadline) {
  try {
    if (starttls_smtp) {
      auto smtp = probe::SmtpClient::connect({c.listen_address, port, ""}, deadline);
      smtp.ehlo("firstboot-probe.invalid", deadline);
      smtp.starttls(legacy_tls(c), "firstboot-probe.invalid", deadline);
    } else if (starttls_imap) {
      auto imap = probe::ImapClient::connect({c.listen_address, port, ""}, deadline);
      imap.starttls(legacy_tls(c), deadline);
    } else {
      auto conn = probe::Connection::open({c.listen_address, port, ""}, deadline);
      conn.start_tls(legacy_tls(c), deadline);
    }
  } catch (const ProbeError& e) {
    if (e.kind() == ProbeError::Kind::tls || e.kind() == ProbeError::Kind::closed) return "";
    return std::string("could not test: ") + e.what();
  }
  return "a TLS 1.1 handshake succeeded";
}

void tls_version_check(const MonitorConfig& c, const std::string& id, const std::string& version,
                       int port, bool smtp, bool imap, Deadline deadline, CheckSink& sink) {
  if (!modern_tls_version(version)) {
    sink.fail(id, "negotiated " + version);
    return;
  }
  std::string legacy = legacy_tls_refused(c, port, smtp, imap, deadline);
  if (legacy.empty())
    sink.pass(id, version + " negotiated; TLS 1.0 and 1.1 refused");
  else
    sink.fail(id, version + " negotiated, but " + legacy,
              "allow only TLS 1.2 and 1.3 (smtpd_tls_protocols / ssl_min_protocol)");
}

// SMTP on the MX port or submission: banner, EHLO, AUTH only after TLS, STARTTLS, TLS version,
// certificate; on submission also a real AUTH as the probe account.
ProbeSpec smtp_probe(const std::shared_ptr<const CheckEnvironment>& env, const std::string& svc,
                     int port, bool submission) {
  const MonitorConfig& c = env->config;
  bool relay_mode = c.mode == "relay";
  std::string p = "mail." + svc + ".";
  ProbeSpec spec;
  spec.name = svc + " " + c.listen_address + ":" + std::to_string(port);
  spec.timeout = env->timeout;
  spec.checks = {
      {p + "banner", "mail", CheckSeverity::required, kPostfixHint},
      {p + "ehlo", "mail", CheckSeverity::required, "Postfix refuses EHLO: read its log"},
      {p + "no-auth-before-tls", "mail", CheckSeverity::required,
       "set smtpd_tls_auth_only = yes: passwords must never cross the wire in clear"},
      {p + "starttls", "mail", CheckSeverity::required,
       "STARTTLS must be offered: check smtpd_tls_cert_file/key_file and the ssl module"},
      {p + "tls-version", "mail", CheckSeverity::required,
       "allow only TLS 1.2 and 1.3 (smtpd_tls_protocols = >=TLSv1.2)"},
      {"ssl." + svc + ".certificate", "ssl", CheckSeverity::required,
       "install a certificate valid for the host name with its full chain (ssl module)"},
      {"ssl." + svc + ".expiry", "ssl", CheckSeverity::required,
       "renew the certificate (tls.source in the profile), then `firstboot run`"}};
  if (submission) {
    spec.checks.push_back({p + "auth-after-tls", "mail", CheckSeverity::required,
                           "AUTH must be offered after STARTTLS: check smtpd_sasl_auth_enable "
                           "and Dovecot's auth socket for Postfix"});
  }
  spec.run = [env, svc, port, submission, relay_mode, p](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    probe::SmtpClient smtp = [&] {
      try {
        return probe::SmtpClient::connect({c.listen_address, port, ""}, deadline);
      } catch (const ProbeError& e) {
        sink.fail(p + "banner", e.what());
        throw;
      }
    }();
    if (smtp.greeting().code != 220) {
      sink.fail(p + "banner", "greeting: " + smtp.greeting().summary());
      return;
    }
    sink.pass(p + "banner", smtp.greeting().summary());
    auto ehlo = smtp.ehlo("firstboot-probe.invalid", deadline);
    if (ehlo.code != 250) {
      sink.fail(p + "ehlo", ehlo.summary());
      return;
    }
    sink.pass(p + "ehlo",
              fmt::format("250 {}, {} extensions", ehlo.lines.front(), smtp.extensions().size()));
    if (smtp.auth_mechanisms().empty())
      sink.pass(p + "no-auth-before-tls", "AUTH is not offered before STARTTLS");
    else
      sink.fail(p + "no-auth-before-tls",
                "AUTH offered before TLS: " + smtp.extensions().at("AUTH"));
    if (relay_mode && !submission && !smtp.offers("STARTTLS")) {
      // The null client's loopback listener takes local mail only; TLS is not required there.
      sink.skip_rest("relay mode: the loopback SMTP port takes local mail only");
      smtp.quit(deadline);
      return;
    }
    if (!smtp.offers("STARTTLS")) {
      sink.fail(p + "starttls", "STARTTLS is not offered");
      return;
    }
    try {
      smtp.starttls(modern_tls(c), "firstboot-probe.invalid", deadline);
    } catch (const ProbeError& e) {
      sink.fail(p + "starttls", e.what());
      return;
    }
    const probe::TlsSession session = smtp.connection().tls_session();  // outlives quit()
    sink.pass(p + "starttls", "STARTTLS: " + session.version + ", " + session.cipher);
    certificate_checks(*env, svc, session, sink);
    if (submission) {
      // A real login is part of the round trip (each login costs a password hash).
      auto mechs = smtp.auth_mechanisms();
      if (mechs.empty())
        sink.fail(p + "auth-after-tls", "AUTH is not offered after STARTTLS");
      else
        sink.pass(p + "auth-after-tls",
                  fmt::format("AUTH {} offered after STARTTLS", fmt::join(mechs, " ")));
    }
    smtp.quit(deadline);
    tls_version_check(c, p + "tls-version", session.version, port, true, false, deadline, sink);
  };
  return spec;
}

ProbeSpec implicit_tls_probe(const std::shared_ptr<const CheckEnvironment>& env,
                             const std::string& svc, int port, bool imap) {
  const MonitorConfig& c = env->config;
  std::string p = "mail." + svc + ".";
  ProbeSpec spec;
  spec.name = svc + " " + c.listen_address + ":" + std::to_string(port);
  spec.timeout = env->timeout;
  spec.checks = {{p + "tls", "mail", CheckSeverity::required, imap ? kDovecotHint : kPostfixHint},
                 {p + "tls-version", "mail", CheckSeverity::required, "allow only TLS 1.2 and 1.3"},
                 {"ssl." + svc + ".certificate", "ssl", CheckSeverity::required,
                  "install a certificate valid for the host name with its full chain"},
                 {"ssl." + svc + ".expiry", "ssl", CheckSeverity::required,
                  "renew the certificate (tls.source in the profile), then `firstboot run`"}};
  spec.run = [env, svc, port, imap, p](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    std::string greeting;
    probe::TlsSession session;
    try {
      if (imap) {
        auto client =
            probe::ImapClient::connect({c.listen_address, port, ""}, deadline, modern_tls(c));
        greeting = "* " + client.greeting();
        session = client.connection().tls_session();
        client.logout(deadline);
      } else {
        auto client =
            probe::SmtpClient::connect({c.listen_address, port, ""}, deadline, modern_tls(c));
        greeting = client.greeting().summary();
        session = client.connection().tls_session();
        if (client.greeting().code != 220) {
          sink.fail(p + "tls", "greeting over TLS: " + greeting);
          return;
        }
        client.quit(deadline);
      }
    } catch (const ProbeError& e) {
      sink.fail(p + "tls", e.what());
      return;
    }
    sink.pass(p + "tls", session.version + ", " + session.cipher + "; " + greeting.substr(0, 80));
    certificate_checks(*env, svc, session, sink);
    tls_version_check(c, p + "tls-version", session.version, port, false, false, deadline, sink);
  };
  return spec;
}

ProbeSpec imap_probe(const std::shared_ptr<const CheckEnvironment>& env) {
  const MonitorConfig& c = env->config;
  ProbeSpec spec;
  spec.name = "imap " + c.listen_address + ":" + std::to_string(c.ports.imap);
  spec.timeout = env->timeout;
  spec.checks = {
      {"mail.imap.banner", "mail", CheckSeverity::required, kDovecotHint},
      {"mail.imap.no-login-before-tls", "mail", CheckSeverity::required,
       "set disable_plaintext_auth = yes (Dovecot announces LOGINDISABLED)"},
      {"mail.imap.starttls", "mail", CheckSeverity::required,
       "STARTTLS must work: check ssl_cert/ssl_key in Dovecot's config"},
      {"mail.imap.tls-version", "mail", CheckSeverity::required, "set ssl_min_protocol = TLSv1.2"}};
  spec.run = [env](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    auto imap = [&] {
      try {
        // From the "outside" address: Dovecot treats a client on its own address as secure and
        // would allow plaintext LOGIN to it, which says nothing about real clients.
        return probe::ImapClient::connect({c.listen_address, c.ports.imap, c.outside_address},
                                          deadline);
      } catch (const ProbeError& e) {
        sink.fail("mail.imap.banner", e.what());
        throw;
      }
    }();
    sink.pass("mail.imap.banner", "* " + imap.greeting().substr(0, 100));
    if (imap.capabilities().empty()) imap.refresh_capabilities(deadline);
    if (imap.has_capability("LOGINDISABLED"))
      sink.pass("mail.imap.no-login-before-tls", "LOGINDISABLED before STARTTLS");
    else
      sink.fail("mail.imap.no-login-before-tls", "LOGIN is allowed before TLS");
    if (!imap.has_capability("STARTTLS")) {
      sink.fail("mail.imap.starttls", "STARTTLS is not offered");
      return;
    }
    try {
      imap.starttls(modern_tls(c), deadline);
    } catch (const ProbeError& e) {
      sink.fail("mail.imap.starttls", e.what());
      return;
    }
    const auto session = imap.connection().tls_session();
    sink.pass("mail.imap.starttls", "STARTTLS: " + session.version + ", " + session.cipher);
    imap.logout(deadline);
    tls_version_check(c, "mail.imap.tls-version", session.version, c.ports.imap, false, true,
                      deadline, sink);
  };
  return spec;
}

ProbeSpec pop3_probe(const std::shared_ptr<const CheckEnvironment>& env) {
  const MonitorConfig& c = env->config;
  ProbeSpec spec;
  spec.name = "pop3 " + c.listen_address + ":" + std::to_string(c.ports.pop3);
  spec.timeout = env->timeout;
  spec.checks = {{"mail.pop3.banner", "mail", CheckSeverity::required, kDovecotHint}};
  spec.run = [env](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    try {
      auto conn = probe::Connection::open({c.listen_address, c.ports.pop3, ""}, deadline);
      std::string greeting = conn.read_line(deadline, 1024);
      if (greeting.rfind("+OK", 0) == 0) {
        sink.pass("mail.pop3.banner", greeting.substr(0, 100));
        conn.write("QUIT\r\n", deadline);
      } else {
        sink.fail("mail.pop3.banner", "greeting: " + greeting.substr(0, 100));
      }
    } catch (const ProbeError& e) {
      sink.fail("mail.pop3.banner", e.what());
    }
  };
  return spec;
}

// Refused: a 4xx/5xx reply, or a closed connection. Accepted: 2xx.
bool refused(const probe::SmtpReply& r) { return r.code >= 400; }

// From the "outside" loopback address: relaying to a foreign domain is refused on the MX port
// and (without AUTH) on submission; postmaster@ and abuse@ of every domain are accepted.
ProbeSpec relay_probe(const std::shared_ptr<const CheckEnvironment>& env) {
  const MonitorConfig& c = env->config;
  bool full = c.mode == "full";
  bool accepts_inbound = c.mode != "relay";
  ProbeSpec spec;
  spec.name = "open relay from " + c.outside_address;
  spec.timeout = env->timeout;
  spec.checks.push_back({"mail.relay.refused", "mail", CheckSeverity::required,
                         "an open relay: keep mynetworks = 127.0.0.1/32 and "
                         "smtpd_relay_restrictions = permit_sasl_authenticated, "
                         "reject_unauth_destination"});
  if (full)
    spec.checks.push_back({"mail.submission.relay-refused", "mail", CheckSeverity::required,
                           "submission must require AUTH (smtpd_client_restrictions = "
                           "permit_sasl_authenticated, reject)"});
  if (accepts_inbound)
    for (auto& d : c.domains)
      for (const char* local : {"postmaster", "abuse"})
        spec.checks.push_back({std::string("mail.") + local + "." + d.name, "mail",
                               CheckSeverity::required,
                               std::string("add an alias for ") + local + "@" + d.name +
                                   " (the mail module adds one to admin_email by default)"});
  spec.run = [env, full, accepts_inbound](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    const std::string foreign = "firstboot-relay-test@relay-test.invalid";
    Endpoint outside{c.listen_address, c.ports.smtp, c.outside_address};
    try {
      auto smtp = probe::SmtpClient::connect(outside, deadline);
      if (smtp.greeting().code != 220) {
        sink.pass("mail.relay.refused",
                  "greeting to " + c.outside_address + ": " + smtp.greeting().summary());
        sink.skip_rest("the server refuses clients at " + c.outside_address);
        return;
      }
      smtp.ehlo("outside.invalid", deadline);
      auto mail = smtp.command("MAIL FROM:<>", deadline);
      if (refused(mail)) {
        sink.pass("mail.relay.refused", "MAIL FROM refused: " + mail.summary());
        sink.skip_rest("the server refuses mail from " + c.outside_address);
        return;
      }
      auto rcpt = smtp.command("RCPT TO:<" + foreign + ">", deadline);
      if (refused(rcpt))
        sink.pass("mail.relay.refused", "relay from " + c.outside_address + " to " + foreign +
                                            " refused: " + rcpt.summary());
      else
        sink.fail("mail.relay.refused", "OPEN RELAY: " + c.outside_address + " may send to " +
                                            foreign + " (" + rcpt.summary() + ")");
      if (accepts_inbound) {
        for (auto& d : c.domains)
          for (const std::string local : {"postmaster", "abuse"}) {
            auto r = smtp.command("RCPT TO:<" + local + "@" + d.name + ">", deadline);
            std::string id = "mail." + local + "." + d.name;
            if (r.code == 250)
              sink.pass(id, local + "@" + d.name + " accepted");
            else
              sink.fail(id, local + "@" + d.name + ": " + r.summary());
          }
      }
      smtp.command("RSET", deadline);  // nothing is ever sent
      smtp.quit(deadline);
    } catch (const ProbeError& e) {
      if (e.kind() == ProbeError::Kind::connect && !sink.reported("mail.relay.refused")) {
        sink.pass("mail.relay.refused",
                  "no connection from " + c.outside_address + ": " + e.what());
        if (accepts_inbound)
          sink.skip_rest("the SMTP port does not accept connections from " + c.outside_address);
      } else {
        throw;
      }
    }
    if (!full) return;
    try {
      auto sub = probe::SmtpClient::connect(
          {c.listen_address, c.ports.submission, c.outside_address}, deadline);
      sub.ehlo("outside.invalid", deadline);
      if (sub.offers("STARTTLS")) sub.starttls(modern_tls(c), "outside.invalid", deadline);
      auto mail = sub.command("MAIL FROM:<firstboot-relay-test@relay-test.invalid>", deadline);
      probe::SmtpReply rcpt = mail;
      if (!refused(mail)) rcpt = sub.command("RCPT TO:<" + foreign + ">", deadline);
      if (refused(rcpt))
        sink.pass("mail.submission.relay-refused",
                  "unauthenticated relay on submission refused: " + rcpt.summary());
      else
        sink.fail("mail.submission.relay-refused",
                  "OPEN RELAY on submission without AUTH: " + rcpt.summary());
      sub.command("RSET", deadline);
      sub.quit(deadline);
    } catch (const ProbeError& e) {
      if (e.kind() == ProbeError::Kind::connect || e.kind() == ProbeError::Kind::closed)
        sink.pass("mail.submission.relay-refused",
                  std::string("no unauthenticated session: ") + e.what());
      else
        throw;
    }
  };
  return spec;
}

std::string message_id_for(const MonitorConfig& c) {
  return "firstboot-probe." + random_token(12) + "@" + c.hostname;
}

std::string probe_message(const MonitorConfig& c, const std::string& from, const std::string& to,
                          const std::string& message_id, const std::string& date) {
  return "From: firstboot probe <" + from + ">\r\nTo: <" + to + ">\r\nSubject: firstboot probe " +
         message_id + "\r\nDate: " + date + "\r\nMessage-ID: <" + message_id +
         ">\r\nX-Firstboot-Probe: " + c.hostname +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
         "This message checks that mail flows on " +
         c.hostname + ". It is deleted as soon as it arrives.\r\n";
}

std::string date_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Waits (bounded) for the log line that says what happened to a queued message.
std::optional<DeliveryLine> wait_for_delivery(const MonitorConfig& c, const std::string& queue_id,
                                              Deadline deadline) {
  for (int i = 0; i < 2000 && !deadline.expired(); ++i) {
    if (auto d = find_delivery(c.maillog_file, queue_id)) return d;
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

// Full mode: submit as the probe account, read it back over IMAP, verify DKIM against DNS.
ProbeSpec roundtrip_probe(const std::shared_ptr<const CheckEnvironment>& env) {
  const MonitorConfig& c = env->config;
  ProbeSpec spec;
  spec.name = "round trip";
  spec.timeout = env->roundtrip_timeout;
  spec.checks.push_back({"mail.roundtrip", "mail", CheckSeverity::required,
                         "a message did not go from submission to the mailbox: read the mail log "
                         "(" +
                             c.maillog_file + ")"});
  spec.checks.push_back({"mail.imap.login", "mail", CheckSeverity::required,
                         "the probe account must log in over IMAP: `firstboot run` recreates it"});
  spec.checks.push_back({"mail.submission.auth", "mail", CheckSeverity::required,
                         "AUTH as the probe account must work on submission: check Dovecot's "
                         "auth socket for Postfix; `firstboot run` recreates the account"});
  const MonitoredDomain* domain = c.domains.empty() ? nullptr : &c.domains.front();
  spec.checks.push_back({"mail.dkim.signed", "mail", CheckSeverity::required,
                         "OpenDKIM did not sign: check the milter settings in main.cf and that "
                         "OpenDKIM runs"});
  if (domain)
    for (auto& s : domain->dkim)
      spec.checks.push_back({"mail.dkim." + s.selector, "mail", CheckSeverity::required,
                             "the signature must verify with the key published at " + s.selector +
                                 "._domainkey." + domain->name +
                                 ": compare the DNS record with `firstboot dns-records`"});
  spec.run = [env](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    if (c.probe_address.empty()) {
      sink.skip_rest("this mode has no probe account");
      return;
    }
    if (env->probe_password.empty()) {
      sink.fail("mail.roundtrip",
                "cannot read the probe account's password: " + env->probe_password_error,
                "run `firstboot run`: the mail module creates the probe account");
      return;
    }
    auto start = std::chrono::steady_clock::now();
    // Log in first: with IMAP down there is no point queueing a message nobody can read.
    probe::ImapClient imap = [&] {
      try {
        auto client = probe::ImapClient::connect({c.listen_address, c.ports.imap, ""}, deadline);
        client.starttls(modern_tls(c), deadline);
        auto r = client.login(c.probe_address, env->probe_password, deadline);
        if (!r.ok()) {
          sink.fail("mail.imap.login", "LOGIN as " + c.probe_address + ": " + r.summary());
          throw ProbeError(ProbeError::Kind::protocol, "the probe account cannot log in");
        }
        sink.pass("mail.imap.login", "LOGIN as " + c.probe_address + " over TLS");
        client.select("INBOX", deadline);
        return client;
      } catch (const ProbeError& e) {
        sink.fail("mail.roundtrip", std::string("cannot read the probe mailbox: ") + e.what());
        throw;
      }
    }();
    // Probe messages older than 5 minutes were left by runs that timed out: remove them.
    try {
      auto old = imap.command("UID SEARCH OLDER 300 HEADER X-Firstboot-Probe \"\"", deadline);
      std::vector<std::uint32_t> stale;
      for (auto& line : old.untagged) {
        auto found = probe::parse_imap_search(line.text);
        stale.insert(stale.end(), found.begin(), found.end());
      }
      if (old.ok() && !stale.empty()) imap.uid_delete(stale, deadline);
    } catch (const ProbeError&) {
      // Housekeeping only.
    }

    std::string message_id = message_id_for(c);
    std::string queue_id;
    try {
      auto smtp = probe::SmtpClient::connect({c.listen_address, c.ports.submission, ""}, deadline);
      smtp.ehlo("firstboot-probe.invalid", deadline);
      smtp.starttls(modern_tls(c), "firstboot-probe.invalid", deadline);
      auto auth = smtp.auth_plain(c.probe_address, env->probe_password, deadline);
      if (auth.code != 235) {
        sink.fail("mail.submission.auth",
                  "AUTH PLAIN as " + c.probe_address + ": " + auth.summary());
        throw ProbeError(ProbeError::Kind::protocol, "AUTH refused");
      }
      sink.pass("mail.submission.auth", "AUTH PLAIN as " + c.probe_address + " after STARTTLS");
      auto sent = smtp.send(
          c.probe_address, {c.probe_address},
          probe_message(c, c.probe_address, c.probe_address, message_id, date_now()), deadline);
      if (sent.code != 250)
        throw ProbeError(ProbeError::Kind::protocol, "submission refused: " + sent.summary());
      queue_id = probe::queued_as(sent);
      smtp.quit(deadline);
    } catch (const ProbeError& e) {
      sink.fail("mail.roundtrip", std::string("submitting: ") + e.what());
      imap.logout(deadline);
      return;
    }
    std::vector<std::uint32_t> uids;
    for (int i = 0; i < 1000 && uids.empty(); ++i) {
      if (deadline.expired()) break;
      try {
        uids =
            imap.uid_search_header("Message-ID", "<" + message_id + ">", deadline.within(1000ms));
      } catch (const ProbeError& e) {
        if (e.kind() != ProbeError::Kind::timeout) throw;
      }
      if (uids.empty()) std::this_thread::sleep_for(40ms);
    }
    if (uids.empty()) {
      std::string why;
      if (auto d = find_delivery(c.maillog_file, queue_id))
        why = "; the mail log says status=" + d->status + " (" + d->reason.substr(0, 160) + ")";
      sink.fail("mail.roundtrip",
                "submitted (queue id " + queue_id + ") but not in the mailbox within " +
                    std::to_string(static_cast<int>(
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                            .count())) +
                    " s" + why);
      imap.logout(deadline.within(500ms));
      return;
    }
    std::string message = imap.uid_fetch_message(uids.front(), deadline);
    try {
      imap.uid_delete(uids, deadline);
    } catch (const ProbeError&) {
      // The next run removes it.
    }
    imap.logout(deadline);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    sink.pass("mail.roundtrip", fmt::format("submitted as {}, delivered and read back over IMAP "
                                            "in {:.0f} ms (queue id {})",
                                            c.probe_address, ms, queue_id));

    const MonitoredDomain& domain = c.domains.front();
    probe::DnsServer ns = probe::parse_dns_server(c.dns_server);
    auto lookup = [&](const std::string& name) {
      auto answer = probe::dns_query(ns, name, "TXT", deadline.within(2000ms));
      if (!answer.ok()) throw ProbeError(ProbeError::Kind::protocol, name + ": " + answer.rcode);
      return answer.records;
    };
    auto verdicts = probe::verify_dkim(message, lookup, env->now);
    std::vector<std::string> ours;
    for (auto& v : verdicts)
      if (v.domain == domain.name) ours.push_back(v.algorithm + " s=" + v.selector);
    if (ours.empty())
      sink.fail("mail.dkim.signed", verdicts.empty() ? "the message carries no DKIM signature"
                                                     : "no DKIM signature with d=" + domain.name);
    else
      sink.pass("mail.dkim.signed", fmt::format("signed by {}", fmt::join(ours, ", ")));
    for (auto& s : domain.dkim) {
      std::string id = "mail.dkim." + s.selector;
      auto it = std::find_if(verdicts.begin(), verdicts.end(), [&](const probe::DkimVerdict& v) {
        return v.domain == domain.name && v.selector == s.selector;
      });
      if (it == verdicts.end())
        sink.fail(id, "no signature with s=" + s.selector + " (" + s.algorithm + ")");
      else if (it->verified)
        sink.pass(id, it->algorithm + " " + it->detail);
      else
        sink.fail(id, it->algorithm + ": " + it->detail);
    }
  };
  return spec;
}

// Local and relay modes: a message handed to the loopback SMTP port and the log line that says
// where it went.
ProbeSpec logged_delivery_probe(const std::shared_ptr<const CheckEnvironment>& env) {
  const MonitorConfig& c = env->config;
  bool relay = c.mode == "relay";
  std::string id = relay ? "mail.relay.smarthost" : "mail.roundtrip";
  ProbeSpec spec;
  spec.name = relay ? "smarthost delivery" : "local delivery";
  spec.timeout = env->roundtrip_timeout;
  spec.checks = {{id, "mail", CheckSeverity::required,
                  relay ? "the smarthost did not take the message: check relay.host, relay.port, "
                          "the relay username and password file"
                        : "local delivery failed: read the mail log (" + c.maillog_file + ")"}};
  spec.run = [env, relay, id](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    if (c.domains.empty()) {
      sink.skip(id, "the profile has no domain");
      return;
    }
    std::string to = relay ? c.alert_to : "postmaster@" + c.domains.front().name;
    std::string from = "firstboot-probe@" + c.domains.front().name;
    std::string message_id = message_id_for(c);
    auto smtp = probe::SmtpClient::connect({c.listen_address, c.ports.smtp, ""}, deadline);
    smtp.ehlo(c.hostname, deadline);
    auto sent = smtp.send(from, {to}, probe_message(c, from, to, message_id, date_now()), deadline);
    smtp.quit(deadline);
    if (sent.code != 250) {
      sink.fail(id, "the local MTA refused the message: " + sent.summary());
      return;
    }
    std::string queue_id = probe::queued_as(sent);
    auto d = wait_for_delivery(c, queue_id, deadline);
    if (!d) {
      sink.fail(id, "queued as " + queue_id + ", no delivery logged in " + c.maillog_file + " yet");
    } else if (d->status == "sent") {
      sink.pass(
          id, "delivered to " + d->recipient + " via " + d->relay + " (queue id " + queue_id + ")");
    } else {
      sink.fail(id, "status=" + d->status + " via " + d->relay + ": " + d->reason.substr(0, 200));
    }
  };
  return spec;
}

}  // namespace

void add_mail_probes(const std::shared_ptr<const CheckEnvironment>& env,
                     std::vector<ProbeSpec>& probes) {
  const MonitorConfig& c = env->config;
  probes.push_back(smtp_probe(env, "smtp", c.ports.smtp, false));
  probes.push_back(relay_probe(env));
  if (c.mode == "full") {
    probes.push_back(smtp_probe(env, "submission", c.ports.submission, true));
    probes.push_back(implicit_tls_probe(env, "smtps", c.ports.smtps, false));
    probes.push_back(imap_probe(env));
    probes.push_back(implicit_tls_probe(env, "imaps", c.ports.imaps, true));
    probes.push_back(pop3_probe(env));
    probes.push_back(roundtrip_probe(env));
  } else {
    probes.push_back(logged_delivery_probe(env));
  }
}

}  // namespace firstboot
