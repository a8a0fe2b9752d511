// A small SMTP client for probing (RFC 5321, 3207 STARTTLS, 4954 AUTH): enough to read the banner,
// EHLO, upgrade to TLS, authenticate, and submit one message. Every call takes a deadline.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "probe/connection.h"

namespace firstboot::probe {

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // text after "250-" / "250 "
  bool positive() const { return code >= 200 && code < 400; }
  // "550 5.7.1 Relay access denied" (first line, with the code).
  std::string summary() const;
};

// Parses one reply from its raw lines ("250-a", "250 b"). Throws ProbeError on malformed input.
SmtpReply parse_smtp_reply(const std::vector<std::string>& raw);

// EHLO keywords (upper case) with their parameters: {"AUTH": "PLAIN LOGIN", "STARTTLS": ""}.
std::map<std::string, std::string> parse_ehlo_extensions(const SmtpReply& reply);

// The queue id in "250 2.0.0 Ok: queued as 4Xyz12AbC"; empty when none.
std::string queued_as(const SmtpReply& reply);

// Dot-stuffs a message and normalizes line endings to CR LF, ending with CR LF "." CR LF.
std::string smtp_data_payload(const std::string& message);

class SmtpClient {
 public:
  // Connects (implicit TLS when tls is given) and reads the greeting.
  static SmtpClient connect(const Endpoint& endpoint, Deadline deadline,
                            const std::optional<TlsOptions>& tls = std::nullopt);

  const SmtpReply& greeting() const { return greeting_; }
  Connection& connection() { return conn_; }

  SmtpReply command(const std::string& line, Deadline deadline);
  SmtpReply ehlo(const std::string& name, Deadline deadline);
  const std::map<std::string, std::string>& extensions() const { return extensions_; }
  bool offers(const std::string& keyword) const;
  std::vector<std::string> auth_mechanisms() const;

  // STARTTLS, then the TLS handshake, then EHLO again. Throws ProbeError when refused.
  void starttls(const TlsOptions& tls, const std::string& ehlo_name, Deadline deadline);

  // AUTH PLAIN / AUTH LOGIN; returns the final reply (235 on success).
  SmtpReply auth_plain(const std::string& user, const std::string& password, Deadline deadline);
  SmtpReply auth_login(const std::string& user, const std::string& password, Deadline deadline);

  // MAIL FROM, RCPT TO each recipient, DATA. Returns the reply to the final dot (or the first
  // negative reply on the way).
  SmtpReply send(const std::string& from, const std::vector<std::string>& to,
                 const std::string& message, Deadline deadline);

  void quit(Deadline deadline);

 private:
  explicit SmtpClient(Connection conn) : conn_(std::move(conn)) {}
  SmtpReply read_reply(Deadline deadline);
  Connection conn_;
  SmtpReply greeting_;
  std::map<std::string, std::string> extensions_;
};

// Refuses text that would break the command line it goes into (CR, LF, NUL).
void require_single_line(const std::string& value, const char* what);

std::string base64_encode(const std::string& data);
// Decodes, ignoring whitespace. Throws ProbeError on bad input.
std::string base64_decode(const std::string& text);

}  // namespace firstboot::probe
