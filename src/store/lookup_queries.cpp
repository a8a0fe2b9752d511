#include "store/lookup_queries.h"

#include "engine/error.h"

namespace firstboot {

LookupQueries lookup_queries(const std::string& driver, const std::string& mail_root) {
  if (driver != "sqlite" && driver != "postgresql")
    throw Error("internal: no lookup queries for database driver '" + driver + "'");
  if (mail_root.empty() || mail_root.front() != '/')
    throw Error("mail root '" + mail_root + "' is not an absolute path");
  for (char c : mail_root) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\'' || c == '%' || c == '\\')
      throw Error("mail root '" + mail_root +
                  "' contains a character that cannot go into a lookup query");
  }
  std::string root = mail_root;
  if (root.back() != '/') root += '/';
  // PostgreSQL reserves USER: the column Dovecot wants is quoted there.
  std::string user = driver == "postgresql" ? "\"user\"" : "user";

  LookupQueries q;
  q.virtual_mailbox_domains = "SELECT name FROM domains WHERE name = '%s'";
  q.virtual_mailbox_maps = "SELECT maildir FROM users WHERE address = '%s'";
  q.virtual_alias_maps = "SELECT destination FROM virtual_aliases WHERE source = '%s'";
  q.smtpd_sender_login_maps = "SELECT login FROM sender_logins WHERE sender = '%s'";
  q.password_query =
      "SELECT address AS " + user + ", password FROM mail_users WHERE address = '%u'";
  q.user_query = "SELECT '" + root + "' || maildir AS home, quota_rule FROM mail_users " +
                 "WHERE address = '%u'";
  q.iterate_query = "SELECT address AS " + user + " FROM users";
  return q;
}

}  // namespace firstboot
