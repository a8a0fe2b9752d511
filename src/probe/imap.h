// A small IMAP4rev1 client for probing (RFC 3501, STARTTLS, LOGIN): log in, select a mailbox,
// find a message by a header, fetch it, delete it. Every call takes a deadline.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/connection.h"

namespace firstboot::probe {

// One response line; literals ({N} CRLF + N bytes) are cut out into literals, in order, and the
// text keeps the "{N}" marker where each stood.
struct ImapLine {
  std::string text;
  std::vector<std::string> literals;
};

struct ImapResponse {
  std::string status;              // "OK", "NO", "BAD"
  std::string text;                // the rest of the tagged line
  std::vector<ImapLine> untagged;  // without the leading "* "
  bool ok() const { return status == "OK"; }
  std::string summary() const { return status + " " + text; }
};

// An IMAP astring for a command: an atom-safe quoted string. Nullopt when the value needs a
// literal (8-bit or control characters).
std::optional<std::string> imap_quoted(const std::string& value);
// Capabilities from "CAPABILITY a b c" text (upper case).
std::set<std::string> parse_imap_capabilities(const std::string& text);
// The numbers of a "SEARCH 1 2 3" untagged line.
std::vector<std::uint32_t> parse_imap_search(const std::string& text);

class ImapClient {
 public:
  static ImapClient connect(const Endpoint& endpoint, Deadline deadline,
                            const std::optional<TlsOptions>& tls = std::nullopt);
  const std::string& greeting() const { return greeting_; }
  Connection& connection() { return conn_; }

  const std::set<std::string>& capabilities() const { return caps_; }
  bool has_capability(const std::string& cap) const;
  void refresh_capabilities(Deadline deadline);

  // A command built from pieces; each piece is sent as is, except the arguments given to
  // command_with_strings which are quoted or sent as literals.
  ImapResponse command(const std::string& text, Deadline deadline);
  ImapResponse command_with_strings(const std::string& verb, const std::vector<std::string>& args,
                                    Deadline deadline);

  void starttls(const TlsOptions& tls, Deadline deadline);
  ImapResponse login(const std::string& user, const std::string& password, Deadline deadline);
  // Returns the number of messages (EXISTS).
  std::uint32_t select(const std::string& mailbox, Deadline deadline);
  std::vector<std::uint32_t> uid_search_header(const std::string& field, const std::string& value,
                                               Deadline deadline);
  // The whole message (BODY.PEEK[], so \Seen is not set).
  std::string uid_fetch_message(std::uint32_t uid, Deadline deadline);
  void uid_delete(const std::vector<std::uint32_t>& uids, Deadline deadline);
  void logout(Deadline deadline);

 private:
  explicit ImapClient(Connection conn) : conn_(std::move(conn)) {}
  ImapLine read_line(Deadline deadline);
  ImapResponse read_response(const std::string& tag, Deadline deadline);
  std::string next_tag();
  Connection conn_;
  std::string greeting_;
  std::set<std::string> caps_;
  unsigned counter_ = 0;
};

}  // namespace firstboot::probe
