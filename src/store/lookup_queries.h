// The queries Postfix and Dovecot run against the store, in one place so the mail module's
// configs, the docs (docs/store.md) and the tests use the same text.
#pragma once

#include <string>

namespace firstboot {

struct LookupQueries {
  // Postfix sqlite_table(5)/pgsql_table(5) "query =" values; Postfix substitutes %s with the lookup
  // key (lower case, SQL-escaped).
  std::string virtual_mailbox_domains;
  std::string virtual_mailbox_maps;
  std::string virtual_alias_maps;
  std::string smtpd_sender_login_maps;
  // Dovecot dovecot-sql.conf.ext values; Dovecot substitutes %u with the (lower-cased, with
  // auth_username_format = %Lu) user name, SQL-escaped.
  std::string password_query;
  std::string user_query;
  std::string iterate_query;
};

// driver: Store::driver() ("sqlite" or "postgresql"). mail_root: the absolute directory the
// Maildirs live under, as Dovecot sees it; a user's home is mail_root/domain/local/. Throws Error
// for a mail_root that cannot be put in a query (quote, percent sign, backslash, control
// character) or an unknown driver.
LookupQueries lookup_queries(const std::string& driver, const std::string& mail_root);

}  // namespace firstboot
