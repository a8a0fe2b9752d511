#include "mail_config.h"

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/module.h"
#include "engine/template_renderer.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

Profile base_profile(MailMode mode) {
  Profile p;
  p.hostname = "mail.example.com";
  p.admin_email = "admin@example.com";
  p.mode = mode;
  Domain d;
  d.name = "example.com";
  d.dkim.algorithms = {"rsa-2048", "ed25519"};
  p.domains = {d};
  if (mode != MailMode::relay) {
    p.users = {{"alice@example.com", "$y$j9T$abc$def", "", 0},
               {"bob@example.com", "", "/x/bob.secret", 1024}};
    p.aliases = {{"postmaster@example.com", {"alice@example.com"}}};
  } else {
    Relay r;
    r.host = "smtp.provider.example";
    r.port = 587;
    r.username = "relay@example.com";
    r.password_file = "/x/relay.secret";
    r.mappings = {{"contact-sales@mailer.example.com", "contact-sales@example.com"}};
    p.relay = r;
  }
  return p;
}

struct Rendered {
  std::map<std::string, std::string> files;
  std::vector<MailFile> specs;
};

Rendered render_all(const Profile& p, const Layout& layout) {
  Ports ports = layout.is_sandbox() ? p.sandbox_ports : standard_ports();
  MailInputs in{p, layout, ports, "/sb/var/lib/firstboot/users.sqlite", "s3cret pass"};
  TemplateRenderer renderer(data_dir() / "templates");
  Rendered out;
  out.specs = mail_files(in);
  for (auto& f : out.specs) out.files[f.system_path] = renderer.render(f.template_name, f.data);
  return out;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MailConfig, FullModeInSandbox) {
  Layout layout = Layout::sandbox("/sb");
  Rendered r = render_all(base_profile(MailMode::full), layout);
  const std::string& main = r.files.at("/etc/postfix/main.cf");
  EXPECT_TRUE(contains(main, "mynetworks = 127.0.0.1/32\n"));
  EXPECT_TRUE(contains(main, "inet_interfaces = 127.0.0.1\n"));
  EXPECT_TRUE(contains(main, "smtpd_tls_auth_only = yes\n"));
  EXPECT_TRUE(contains(main, "smtpd_tls_protocols = >=TLSv1.2\n"));
  EXPECT_TRUE(contains(main, "virtual_transport = lmtp:inet:127.0.0.1:2424\n"));
  EXPECT_TRUE(contains(main, "smtpd_sasl_auth_enable = no\n"));
  EXPECT_TRUE(contains(main, "maillog_file = /sb/var/log/mail/postfix.log\n"));
  EXPECT_TRUE(contains(main, "queue_directory = /sb/var/spool/postfix\n"));
  EXPECT_TRUE(contains(main, "reject_unauth_destination"));
  EXPECT_TRUE(contains(main,
                       "smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8892, "
                       "inet:127.0.0.1:8893\n"));
  EXPECT_FALSE(contains(main, "relayhost"));
  EXPECT_FALSE(contains(main, "{{"));
  const std::string& master = r.files.at("/etc/postfix/master.cf");
  EXPECT_TRUE(contains(master, "127.0.0.1:2525 inet"));
  EXPECT_TRUE(contains(master, "127.0.0.1:5587 inet"));
  EXPECT_TRUE(contains(master, "127.0.0.1:4465 inet"));
  EXPECT_TRUE(contains(master, "-o smtpd_tls_wrappermode=yes"));
  // Submission relays only for authenticated clients, never for mynetworks.
  EXPECT_TRUE(contains(master, "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject"));
  const std::string& dovecot = r.files.at("/etc/dovecot/dovecot.conf");
  EXPECT_TRUE(contains(dovecot, "ssl_min_protocol = TLSv1.2"));
  EXPECT_TRUE(contains(dovecot, "disable_plaintext_auth = yes"));
  EXPECT_TRUE(contains(dovecot, "port = 9955"));
  EXPECT_TRUE(contains(dovecot, "unix_listener /sb/var/spool/postfix/private/auth"));
  EXPECT_TRUE(contains(dovecot, "log_path = /sb/var/log/mail/dovecot.log"));
  EXPECT_TRUE(contains(r.files.at("/etc/dovecot/dovecot-sql.conf.ext"),
                       "connect = /sb/var/lib/firstboot/users.sqlite"));
  const std::string& rsa = r.files.at("/etc/opendkim.conf");
  EXPECT_TRUE(contains(rsa, "SignatureAlgorithm rsa-sha256"));
  EXPECT_TRUE(contains(rsa, "Mode sv"));
  EXPECT_FALSE(contains(rsa, "PidFile"));
  const std::string& ed = r.files.at("/etc/opendkim-ed25519.conf");
  EXPECT_TRUE(contains(ed, "SignatureAlgorithm ed25519-sha256"));
  EXPECT_TRUE(contains(ed, "Socket inet:8892@127.0.0.1"));
  EXPECT_TRUE(contains(ed, "Mode s\n"));
  EXPECT_TRUE(contains(r.files.at("/etc/opendkim/key-ed25519.table"),
                       "mail-ed25519._domainkey.example.com example.com:mail-ed25519:/sb/etc/"
                       "opendkim/keys/example.com/mail-ed25519.private"));
  EXPECT_TRUE(contains(r.files.at("/etc/opendkim/signing.table"),
                       "*@example.com mail._domainkey.example.com"));
  EXPECT_TRUE(r.files.count("/etc/opendmarc.conf"));
  EXPECT_FALSE(r.files.count("/etc/postfix/sasl_passwd"));
  EXPECT_FALSE(r.files.count("/etc/systemd/system/opendkim-ed25519.service"));
}

TEST(MailConfig, RealSystemListensEverywhereWithStandardPorts) {
  Layout layout = Layout::system();
  Rendered r = render_all(base_profile(MailMode::full), layout);
  const std::string& main = r.files.at("/etc/postfix/main.cf");
  EXPECT_TRUE(contains(main, "inet_interfaces = all\n"));
  EXPECT_FALSE(contains(main, "maillog_file"));
  EXPECT_FALSE(contains(main, "smtpd_peername_lookup"));
  EXPECT_TRUE(contains(r.files.at("/etc/postfix/master.cf"), "\n25 inet"));
  EXPECT_TRUE(contains(r.files.at("/etc/opendkim.conf"), "PidFile /run/opendkim/opendkim.pid"));
  EXPECT_TRUE(r.files.count("/etc/systemd/system/opendkim-ed25519.service"));
  EXPECT_FALSE(contains(r.files.at("/etc/dovecot/dovecot.conf"), "log_path"));
}

TEST(MailConfig, RelayModeIsANullClient) {
  Layout layout = Layout::sandbox("/sb");
  Rendered r = render_all(base_profile(MailMode::relay), layout);
  const std::string& main = r.files.at("/etc/postfix/main.cf");
  EXPECT_TRUE(contains(main, "relayhost = [smtp.provider.example]:587\n"));
  EXPECT_TRUE(contains(main, "smtp_tls_security_level = encrypt\n"));
  EXPECT_TRUE(contains(main, "mydestination =\n"));
  EXPECT_TRUE(contains(main, "smtpd_relay_restrictions = permit_mynetworks, reject\n"));
  EXPECT_TRUE(contains(main, "canonical_maps = texthash:/sb/etc/postfix/canonical\n"));
  EXPECT_TRUE(contains(main, "smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8892\n"));
  EXPECT_FALSE(contains(main, "virtual_mailbox_domains"));
  EXPECT_TRUE(contains(r.files.at("/etc/postfix/canonical"),
                       "contact-sales@mailer.example.com contact-sales@example.com\n"));
  EXPECT_TRUE(contains(r.files.at("/etc/postfix/sasl_passwd"),
                       "[smtp.provider.example]:587 relay@example.com:s3cret pass\n"));
  for (auto& f : r.specs)
    if (f.system_path == "/etc/postfix/sasl_passwd") {
      EXPECT_EQ(f.attrs.mode, 0600u);
      EXPECT_TRUE(f.secret);
    }
  EXPECT_FALSE(r.files.count("/etc/dovecot/dovecot.conf"));
  EXPECT_FALSE(r.files.count("/etc/opendmarc.conf"));
  EXPECT_FALSE(contains(r.files.at("/etc/postfix/master.cf"), "submission"));
}

TEST(MailConfig, LocalModeDeliversWithVirtual) {
  Layout layout = Layout::sandbox("/sb");
  Profile p = base_profile(MailMode::local);
  p.domains[0].dkim.algorithms = {"rsa-2048"};
  Rendered r = render_all(p, layout);
  const std::string& main = r.files.at("/etc/postfix/main.cf");
  EXPECT_TRUE(contains(main, "virtual_transport = virtual\n"));
  EXPECT_TRUE(contains(main, "virtual_mailbox_base = /sb/var/vmail\n"));
  EXPECT_FALSE(contains(main, "smtpd_sasl"));
  EXPECT_TRUE(contains(main, "smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8893\n"));
  EXPECT_FALSE(r.files.count("/etc/opendkim-ed25519.conf"));
  EXPECT_EQ(mail_services(p), (std::vector<std::string>{kOpendkim, kOpendmarc, kPostfix}));
}

TEST(MailConfig, ServicesPerMode) {
  EXPECT_EQ(
      mail_services(base_profile(MailMode::full)),
      (std::vector<std::string>{kOpendkim, kOpendkimEd25519, kOpendmarc, kDovecot, kPostfix}));
  EXPECT_EQ(mail_services(base_profile(MailMode::relay)),
            (std::vector<std::string>{kOpendkim, kOpendkimEd25519, kPostfix}));
  Profile p = base_profile(MailMode::full);
  EXPECT_EQ(service_ports(kPostfix, p, p.sandbox_ports), (std::vector<int>{2525, 5587, 4465}));
  EXPECT_EQ(service_ports(kOpendkimEd25519, p, p.sandbox_ports), (std::vector<int>{8892}));
  ServiceSpec spec = mail_service_spec(kPostfix, p, Layout::sandbox("/sb"), p.sandbox_ports);
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/usr/lib/postfix/sbin/master", "-c",
                                                 "/sb/etc/postfix", "-d"}));
  EXPECT_EQ(spec.ready_when.size(), 3u);
}

TEST(MailConfig, RelayNexthopAndPassword) {
  Relay r;
  r.host = "smtp.example.net";
  r.port = 587;
  EXPECT_EQ(relay_nexthop(r), "[smtp.example.net]:587");
  r.host = "2001:db8::1";
  EXPECT_EQ(relay_nexthop(r), "[ipv6:2001:db8::1]:587");
  EXPECT_EQ(relay_password_problem("fine:pass word"), "");
  EXPECT_NE(relay_password_problem(""), "");
  EXPECT_NE(relay_password_problem("a\nb"), "");
  EXPECT_NE(relay_password_problem(" lead"), "");
}

TEST(MailConfig, InstalledRelayPasswordMatchesNexthopAndUser) {
  Relay r;
  r.host = "smtp.example.net";
  r.port = 587;
  r.username = "relay@example.com";
  std::string map =
      "# rendered by firstboot\n"
      "[smtp.example.net]:25 relay@example.com:other-port\n"
      "[smtp.example.net]:587 someone@example.com:other-user\n"
      "[smtp.example.net]:587 relay@example.com:pass:with colon\n"
      "[smtp.example.net]:587 relay@example.com:second\n";
  EXPECT_EQ(installed_relay_password(map, r), "pass:with colon");
  r.username = "nobody@example.com";
  EXPECT_EQ(installed_relay_password(map, r), "");
  EXPECT_EQ(installed_relay_password("", r), "");
}

TEST(MailConfig, RequiredAliasesOnlyWhenMissing) {
  Profile p = base_profile(MailMode::full);
  // postmaster@ is defined; abuse@ is added. admin@example.com has no mailbox: first user.
  auto aliases = required_aliases(p);
  ASSERT_EQ(aliases.size(), 1u);
  EXPECT_EQ(aliases[0].from, "abuse@example.com");
  EXPECT_EQ(aliases[0].to, std::vector<std::string>{"alice@example.com"});
  p.admin_email = "admin@elsewhere.example";
  p.aliases.clear();
  aliases = required_aliases(p);
  ASSERT_EQ(aliases.size(), 2u);
  EXPECT_EQ(aliases[0].to, std::vector<std::string>{"admin@elsewhere.example"});
  EXPECT_EQ(probe_address(p), "firstboot-probe@example.com");
}

TEST(MailConfig, ControlCharacterNeverReachesAConfig) {
  Profile p = base_profile(MailMode::full);
  p.hostname = "mail.example.com\nmynetworks = 0.0.0.0/0";
  EXPECT_THROW(render_all(p, Layout::sandbox("/sb")), Error);
}

}  // namespace
}  // namespace firstboot
