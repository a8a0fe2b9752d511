// A small blocking client for the module's protocol checks (SMTP, IMAP, POP3), with STARTTLS or
// implicit TLS through OpenSSL. Every call is bounded by the connection's deadline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace firstboot {

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // text after "250-" / "250 "
  std::string text() const;        // "250 first line; second line"
};

class ProbeConnection {
 public:
  // Connects to host:port (numeric IPv4/IPv6), optionally from a source address (127.0.0.2
  // plays an outside client in the sandbox). Throws Error on failure.
  ProbeConnection(const std::string& host, int port, std::chrono::milliseconds timeout,
                  const std::string& source = "");
  ~ProbeConnection();
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  // TLS handshake on the connection (after STARTTLS, or at once for implicit TLS). max_version
  // "TLSv1.1" asks for an old protocol on purpose (to check the server refuses it). Throws Error.
  void start_tls(const std::string& max_version = "");
  bool tls() const;
  std::string tls_version() const;  // "TLSv1.3"
  std::string tls_cipher() const;

  std::string read_line();  // without CRLF
  void write_line(const std::string& line);
  // Writes without logging anything (credentials); same as write_line otherwise.
  void write_secret_line(const std::string& line) { write_line(line); }

  SmtpReply read_smtp_reply();
  SmtpReply smtp_command(const std::string& line);
  // EHLO; returns the extension keywords in upper case ("STARTTLS", "AUTH PLAIN LOGIN").
  std::vector<std::string> ehlo(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when the EHLO extensions include the keyword (first word, case-insensitive).
bool has_extension(const std::vector<std::string>& extensions, const std::string& keyword);

// base64 of "\0user\0password" for AUTH PLAIN.
std::string sasl_plain(const std::string& user, const std::string& password);

}  // namespace firstboot
