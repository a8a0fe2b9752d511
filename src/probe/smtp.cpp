#include "probe/smtp.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace firstboot::probe {

namespace {

constexpr std::size_t kMaxReplyLines = 200;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void require_single_line(const std::string& value, const char* what) {
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    throw ProbeError(ProbeError::Kind::protocol, std::string(what) + " contains a line break");
}

std::string base64_encode(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string clean;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) throw ProbeError(ProbeError::Kind::protocol, "bad base64 length");
  std::string out(clean.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) throw ProbeError(ProbeError::Kind::protocol, "bad base64");
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!clean.empty() && clean.back() == '=') --len;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string SmtpReply::summary() const {
  return std::to_string(code) + (lines.empty() ? "" : " " + lines.front());
}

SmtpReply parse_smtp_reply(const std::vector<std::string>& raw) {
  SmtpReply reply;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string& line = raw[i];
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
        !std::isdigit(static_cast<unsigned char>(line[1])) ||
        !std::isdigit(static_cast<unsigned char>(line[2])))
      throw ProbeError(ProbeError::Kind::protocol, "not an SMTP reply: " + line.substr(0, 80));
    int code = std::stoi(line.substr(0, 3));
    if (i == 0) reply.code = code;
    if (code != reply.code)
      throw ProbeError(ProbeError::Kind::protocol, "mixed reply codes: " + line.substr(0, 80));
    bool last = line.size() == 3 || line[3] == ' ';
    if (!last && line[3] != '-')
      throw ProbeError(ProbeError::Kind::protocol, "not an SMTP reply: " + line.substr(0, 80));
    if (last != (i + 1 == raw.size()))
      throw ProbeError(ProbeError::Kind::protocol, "reply continues after its last line");
    reply.lines.push_back(line.size() > 4 ? line.substr(4) : "");
  }
  if (raw.empty()) throw ProbeError(ProbeError::Kind::protocol, "empty reply");
  return reply;
}

std::map<std::string, std::string> parse_ehlo_extensions(const SmtpReply& reply) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {  // line 0 is the greeting
    const std::string& line = reply.lines[i];
    auto space = line.find(' ');
    std::string keyword = upper(line.substr(0, space));
    std::string params = space == std::string::npos ? "" : line.substr(space + 1);
    if (keyword.empty()) continue;
    // "AUTH=PLAIN LOGIN" is the pre-RFC form some servers still send.
    if (keyword.rfind("AUTH=", 0) == 0) {
      out.emplace("AUTH", line.substr(5));
      continue;
    }
    out[keyword] = params;
  }
  return out;
}

std::string queued_as(const SmtpReply& reply) {
  for (auto& line : reply.lines) {
    auto pos = line.find("queued as ");
    if (pos == std::string::npos) continue;
    std::string id;
    for (char c : line.substr(pos + 10)) {
      if (!std::isalnum(static_cast<unsigned char>(c))) break;
      id += c;
    }
    return id;
  }
  return "";
}

std::string smtp_data_payload(const std::string& message) {
  std::string out;
  out.reserve(message.size() + 64);
  std::size_t start = 0;
  while (start < message.size()) {
    auto nl = message.find('\n', start);
    std::string line =
        message.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.front() == '.') out += '.';
    out += line;
    out += "\r\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  out += ".\r\n";
  return out;
}

SmtpClient SmtpClient::connect(const Endpoint& endpoint, Deadline deadline,
                               const std::optional<TlsOptions>& tls) {
  SmtpClient client(Connection::open(endpoint, deadline));
  if (tls) client.conn_.start_tls(*tls, deadline);
  client.greeting_ = client.read_reply(deadline);
  return client;
}

SmtpReply SmtpClient::read_reply(Deadline deadline) {
  std::vector<std::string> raw;
  for (std::size_t i = 0; i < kMaxReplyLines; ++i) {
    raw.push_back(conn_.read_line(deadline, 4096));
    const std::string& line = raw.back();
    if (line.size() < 4 || line[3] != '-') return parse_smtp_reply(raw);
  }
  throw ProbeError(ProbeError::Kind::protocol, "a reply of more than 200 lines");
}

SmtpReply SmtpClient::command(const std::string& line, Deadline deadline) {
  require_single_line(line, "an SMTP command");
  conn_.write(line + "\r\n", deadline);
  return read_reply(deadline);
}

SmtpReply SmtpClient::ehlo(const std::string& name, Deadline deadline) {
  SmtpReply reply = command("EHLO " + name, deadline);
  extensions_ =
      reply.code == 250 ? parse_ehlo_extensions(reply) : std::map<std::string, std::string>{};
  return reply;
}

bool SmtpClient::offers(const std::string& keyword) const {
  return extensions_.count(upper(keyword)) != 0;
}

std::vector<std::string> SmtpClient::auth_mechanisms() const {
  std::vector<std::string> out;
  auto it = extensions_.find("AUTH");
  if (it == extensions_.end()) return out;
  std::istringstream in(it->second);
  std::string mech;
  while (in >> mech) out.push_back(upper(mech));
  return out;
}

void SmtpClient::starttls(const TlsOptions& tls, const std::string& ehlo_name, Deadline deadline) {
  SmtpReply reply = command("STARTTLS", deadline);
  if (reply.code != 220)
    throw ProbeError(ProbeError::Kind::protocol, "STARTTLS refused: " + reply.summary());
  conn_.start_tls(tls, deadline);
  SmtpReply again = ehlo(ehlo_name, deadline);
  if (again.code != 250)
    throw ProbeError(ProbeError::Kind::protocol, "EHLO after STARTTLS: " + again.summary());
}

SmtpReply SmtpClient::auth_plain(const std::string& user, const std::string& password,
                                 Deadline deadline) {
  std::string token = base64_encode(std::string("\0", 1) + user + std::string("\0", 1) + password);
  return command("AUTH PLAIN " + token, deadline);
}

SmtpReply SmtpClient::auth_login(const std::string& user, const std::string& password,
                                 Deadline deadline) {
  SmtpReply reply = command("AUTH LOGIN", deadline);
  if (reply.code != 334) return reply;
  reply = command(base64_encode(user), deadline);
  if (reply.code != 334) return reply;
  return command(base64_encode(password), deadline);
}

SmtpReply SmtpClient::send(const std::string& from, const std::vector<std::string>& to,
                           const std::string& message, Deadline deadline) {
  SmtpReply reply = command("MAIL FROM:<" + from + ">", deadline);
  if (!reply.positive()) return reply;
  for (auto& rcpt : to) {
    reply = command("RCPT TO:<" + rcpt + ">", deadline);
    if (!reply.positive()) return reply;
  }
  reply = command("DATA", deadline);
  if (reply.code != 354) return reply;
  conn_.write(smtp_data_payload(message), deadline);
  return read_reply(deadline);
}

void SmtpClient::quit(Deadline deadline) {
  try {
    command("QUIT", deadline);
  } catch (const ProbeError&) {
    // The server may close first; nothing left to learn.
  }
  conn_.close();
}

}  // namespace firstboot::probe
