#include "probe/imap.h"

#include <cctype>
#include <sstream>

namespace firstboot::probe {

namespace {

constexpr std::size_t kMaxLiteral = 64 * 1024 * 1024;
constexpr std::size_t kMaxUntagged = 100000;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "{123}" or "{123+}" at the end of a line: the literal's size.
std::optional<std::size_t> trailing_literal(const std::string& line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  auto open = line.rfind('{');
  if (open == std::string::npos) return std::nullopt;
  std::string digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.pop_back();
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(digits));
}

}  // namespace

std::optional<std::string> imap_quoted(const std::string& value) {
  std::string out = "\"";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) return std::nullopt;
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::set<std::string> parse_imap_capabilities(const std::string& text) {
  std::set<std::string> caps;
  std::istringstream in(text);
  std::string word;
  bool first = true;
  while (in >> word) {
    if (first && upper(word) == "CAPABILITY") {
      first = false;
      continue;
    }
    first = false;
    if (!word.empty() && word.back() == ']') word.pop_back();
    caps.insert(upper(word));
  }
  return caps;
}

std::vector<std::uint32_t> parse_imap_search(const std::string& text) {
  std::vector<std::uint32_t> out;
  std::istringstream in(text);
  std::string word;
  in >> word;
  if (upper(word) != "SEARCH") return out;
  while (in >> word) {
    if (word.empty() || word.size() > 10) continue;
    bool digits = true;
    for (char c : word) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) out.push_back(static_cast<std::uint32_t>(std::stoul(word)));
  }
  return out;
}

ImapClient ImapClient::connect(const Endpoint& endpoint, Deadline deadline,
                               const std::optional<TlsOptions>& tls) {
  ImapClient client(Connection::open(endpoint, deadline));
  if (tls) client.conn_.start_tls(*tls, deadline);
  ImapLine greeting = client.read_line(deadline);
  if (greeting.text.rfind("* OK", 0) != 0 && greeting.text.rfind("* PREAUTH", 0) != 0)
    throw ProbeError(ProbeError::Kind::protocol,
                     "unexpected IMAP greeting: " + greeting.text.substr(0, 120));
  client.greeting_ = greeting.text.substr(2);
  auto open = greeting.text.find("[CAPABILITY ");
  if (open != std::string::npos) {
    auto close = greeting.text.find(']', open);
    client.caps_ = parse_imap_capabilities(greeting.text.substr(open + 1, close - open - 1));
  }
  return client;
}

bool ImapClient::has_capability(const std::string& cap) const { return caps_.count(upper(cap)); }

std::string ImapClient::next_tag() { return "fb" + std::to_string(++counter_); }

ImapLine ImapClient::read_line(Deadline deadline) {
  ImapLine line;
  line.text = conn_.read_line(deadline);
  for (int parts = 0; parts < 1000; ++parts) {
    auto size = trailing_literal(line.text);
    if (!size) return line;
    if (*size > kMaxLiteral)
      throw ProbeError(ProbeError::Kind::protocol,
                       "an IMAP literal of " + std::to_string(*size) + " bytes");
    line.literals.push_back(conn_.read_exact(*size, deadline));
    line.text += conn_.read_line(deadline);
  }
  throw ProbeError(ProbeError::Kind::protocol, "too many literals in one IMAP response");
}

ImapResponse ImapClient::read_response(const std::string& tag, Deadline deadline) {
  ImapResponse response;
  for (std::size_t i = 0; i < kMaxUntagged; ++i) {
    ImapLine line = read_line(deadline);
    if (line.text.rfind("* ", 0) == 0) {
      line.text.erase(0, 2);
      if (upper(line.text.substr(0, 11)) == "CAPABILITY ")
        caps_ = parse_imap_capabilities(line.text);
      response.untagged.push_back(std::move(line));
      continue;
    }
    if (line.text.rfind(tag + " ", 0) == 0) {
      std::string rest = line.text.substr(tag.size() + 1);
      auto space = rest.find(' ');
      response.status = upper(rest.substr(0, space));
      response.text = space == std::string::npos ? "" : rest.substr(space + 1);
      return response;
    }
    if (line.text.rfind("+", 0) == 0)
      throw ProbeError(ProbeError::Kind::protocol, "unexpected IMAP continuation request");
    throw ProbeError(ProbeError::Kind::protocol,
                     "unexpected IMAP response: " + line.text.substr(0, 120));
  }
  throw ProbeError(ProbeError::Kind::protocol, "too many IMAP responses");
}

ImapResponse ImapClient::command(const std::string& text, Deadline deadline) {
  if (text.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    throw ProbeError(ProbeError::Kind::protocol, "an IMAP command contains a line break");
  std::string tag = next_tag();
  conn_.write(tag + " " + text + "\r\n", deadline);
  return read_response(tag, deadline);
}

ImapResponse ImapClient::command_with_strings(const std::string& verb,
                                              const std::vector<std::string>& args,
                                              Deadline deadline) {
  std::string tag = next_tag();
  std::string pending = tag + " " + verb;
  for (auto& arg : args) {
    if (auto quoted = imap_quoted(arg)) {
      pending += " " + *quoted;
      continue;
    }
    // A synchronizing literal: announce, wait for "+", then send the bytes.
    pending += " {" + std::to_string(arg.size()) + "}\r\n";
    conn_.write(pending, deadline);
    pending.clear();
    ImapLine cont = read_line(deadline);
    if (cont.text.rfind("+", 0) != 0) {
      if (cont.text.rfind(tag + " ", 0) == 0) {
        ImapResponse refused;
        std::string rest = cont.text.substr(tag.size() + 1);
        auto space = rest.find(' ');
        refused.status = upper(rest.substr(0, space));
        refused.text = space == std::string::npos ? "" : rest.substr(space + 1);
        return refused;
      }
      throw ProbeError(ProbeError::Kind::protocol, "literal not accepted: " + cont.text);
    }
    pending = arg;
  }
  conn_.write(pending + "\r\n", deadline);
  return read_response(tag, deadline);
}

void ImapClient::refresh_capabilities(Deadline deadline) {
  ImapResponse r = command("CAPABILITY", deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "CAPABILITY: " + r.summary());
}

void ImapClient::starttls(const TlsOptions& tls, Deadline deadline) {
  ImapResponse r = command("STARTTLS", deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "STARTTLS refused: " + r.summary());
  conn_.start_tls(tls, deadline);
  caps_.clear();
  refresh_capabilities(deadline);
}

ImapResponse ImapClient::login(const std::string& user, const std::string& password,
                               Deadline deadline) {
  return command_with_strings("LOGIN", {user, password}, deadline);
}

std::uint32_t ImapClient::select(const std::string& mailbox, Deadline deadline) {
  ImapResponse r = command_with_strings("SELECT", {mailbox}, deadline);
  if (!r.ok())
    throw ProbeError(ProbeError::Kind::protocol, "SELECT " + mailbox + ": " + r.summary());
  for (auto& line : r.untagged) {
    std::istringstream in(line.text);
    std::string n, word;
    in >> n >> word;
    if (upper(word) == "EXISTS" && !n.empty() && n.size() < 10 &&
        std::isdigit(static_cast<unsigned char>(n[0])))
      return static_cast<std::uint32_t>(std::stoul(n));
  }
  return 0;
}

std::vector<std::uint32_t> ImapClient::uid_search_header(const std::string& field,
                                                         const std::string& value,
                                                         Deadline deadline) {
  auto f = imap_quoted(field);
  auto v = imap_quoted(value);
  if (!f || !v) throw ProbeError(ProbeError::Kind::protocol, "a search key IMAP cannot quote");
  ImapResponse r = command("UID SEARCH HEADER " + *f + " " + *v, deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "UID SEARCH: " + r.summary());
  std::vector<std::uint32_t> out;
  for (auto& line : r.untagged) {
    auto found = parse_imap_search(line.text);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::string ImapClient::uid_fetch_message(std::uint32_t uid, Deadline deadline) {
  ImapResponse r = command("UID FETCH " + std::to_string(uid) + " (BODY.PEEK[])", deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "UID FETCH: " + r.summary());
  for (auto& line : r.untagged) {
    if (upper(line.text).find(" FETCH ") == std::string::npos || line.literals.empty()) continue;
    return line.literals.front();
  }
  throw ProbeError(ProbeError::Kind::protocol,
                   "UID FETCH " + std::to_string(uid) + " returned no message");
}

void ImapClient::uid_delete(const std::vector<std::uint32_t>& uids, Deadline deadline) {
  if (uids.empty()) return;
  std::string set;
  for (auto uid : uids) set += (set.empty() ? "" : ",") + std::to_string(uid);
  ImapResponse r = command("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "UID STORE: " + r.summary());
  r = command("EXPUNGE", deadline);
  if (!r.ok()) throw ProbeError(ProbeError::Kind::protocol, "EXPUNGE: " + r.summary());
}

void ImapClient::logout(Deadline deadline) {
  try {
    command("LOGOUT", deadline);
  } catch (const ProbeError&) {
    // The server closes the connection after BYE; nothing left to learn.
  }
  conn_.close();
}

}  // namespace firstboot::probe
