#include "mail_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/error.h"

namespace firstboot {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxLine = 8192;
constexpr int kMaxReplyLines = 100;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool fill_address(const std::string& host, int port, sockaddr_storage& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof addr);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

std::string SmtpReply::text() const {
  std::string out = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i == 0 ? " " : "; ") + lines[i];
  return out;
}

struct ProbeConnection::Impl {
  int fd = -1;
  std::string where;
  Clock::time_point deadline;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string buffer;

  ~Impl() {
    if (ssl) {
      SSL_free(ssl);
    }
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }

  int ms_left() const {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  }

  void wait_for(short events) {
    int left = ms_left();
    if (left == 0) throw Error(where + ": timed out");
    pollfd pfd{fd, events, 0};
    int n;
    do {
      n = poll(&pfd, 1, left);
    } while (n < 0 && errno == EINTR);
    if (n == 0) throw Error(where + ": timed out");
    if (n < 0) throw Error(where + ": " + errno_text(errno));
  }

  // Reads some bytes into buffer; throws on EOF.
  void read_more() {
    char buf[4096];
    for (;;) {
      if (ssl) {
        int r = SSL_read(ssl, buf, sizeof buf);
        if (r > 0) {
          buffer.append(buf, static_cast<size_t>(r));
          return;
        }
        int err = SSL_get_error(ssl, r);
        if (err == SSL_ERROR_WANT_READ) {
          wait_for(POLLIN);
          continue;
        }
        if (err == SSL_ERROR_WANT_WRITE) {
          wait_for(POLLOUT);
          continue;
        }
        throw Error(where + ": TLS read failed: " + ssl_error_text());
      }
      wait_for(POLLIN);
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        buffer.append(buf, static_cast<size_t>(r));
        return;
      }
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      throw Error(where + ": connection closed by the server");
    }
  }

  void write_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      if (ssl) {
        int r = SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off));
        if (r > 0) {
          off += static_cast<size_t>(r);
          continue;
        }
        int err = SSL_get_error(ssl, r);
        if (err == SSL_ERROR_WANT_READ) {
          wait_for(POLLIN);
          continue;
        }
        if (err == SSL_ERROR_WANT_WRITE) {
          wait_for(POLLOUT);
          continue;
        }
        throw Error(where + ": TLS write failed: " + ssl_error_text());
      }
      wait_for(POLLOUT);
      ssize_t r = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (r > 0) {
        off += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      throw Error(where + ": write failed: " + errno_text(errno));
    }
  }
};

ProbeConnection::ProbeConnection(const std::string& host, int port,
                                 std::chrono::milliseconds timeout, const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  impl_->where = host + ":" + std::to_string(port);
  impl_->deadline = Clock::now() + timeout;
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!fill_address(host, port, addr, len)) throw Error(impl_->where + ": not a numeric address");
  impl_->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (impl_->fd < 0) throw Error(impl_->where + ": socket: " + errno_text(errno));
  if (!source.empty()) {
    sockaddr_storage src{};
    socklen_t src_len = 0;
    if (!fill_address(source, 0, src, src_len) ||
        bind(impl_->fd, reinterpret_cast<sockaddr*>(&src), src_len) != 0)
      throw Error(impl_->where + ": cannot bind the source address " + source + ": " +
                  errno_text(errno));
  }
  if (::connect(impl_->fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) throw Error(impl_->where + ": " + errno_text(errno));
    impl_->wait_for(POLLOUT);
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(impl_->fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) throw Error(impl_->where + ": " + errno_text(err));
  }
}

ProbeConnection::~ProbeConnection() = default;

void ProbeConnection::start_tls(const std::string& max_version) {
  Impl& d = *impl_;
  d.ctx = SSL_CTX_new(TLS_client_method());
  if (!d.ctx) throw Error(d.where + ": cannot create a TLS context");
  // The checks look at the protocol, not at who signed the certificate (the ssl module checks
  // the certificate itself); a self-signed certificate is normal on first boot.
  SSL_CTX_set_verify(d.ctx, SSL_VERIFY_NONE, nullptr);
  if (max_version == "TLSv1.1") {
    SSL_CTX_set_security_level(d.ctx, 0);
    SSL_CTX_set_cipher_list(d.ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(d.ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(d.ctx, TLS1_1_VERSION);
  } else {
    SSL_CTX_set_min_proto_version(d.ctx, TLS1_2_VERSION);
  }
  d.ssl = SSL_new(d.ctx);
  if (!d.ssl) throw Error(d.where + ": cannot create a TLS session");
  SSL_set_fd(d.ssl, d.fd);
  for (;;) {
    int r = SSL_connect(d.ssl);
    if (r == 1) break;
    int err = SSL_get_error(d.ssl, r);
    if (err == SSL_ERROR_WANT_READ) {
      d.wait_for(POLLIN);
      continue;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
      d.wait_for(POLLOUT);
      continue;
    }
    std::string why = ssl_error_text();
    SSL_free(d.ssl);
    d.ssl = nullptr;
    throw Error(d.where + ": TLS handshake failed: " + why);
  }
}

bool ProbeConnection::tls() const { return impl_->ssl != nullptr; }

std::string ProbeConnection::tls_version() const {
  return impl_->ssl ? SSL_get_version(impl_->ssl) : "";
}

std::string ProbeConnection::tls_cipher() const {
  return impl_->ssl ? SSL_get_cipher_name(impl_->ssl) : "";
}

std::string ProbeConnection::read_line() {
  Impl& d = *impl_;
  for (;;) {
    auto pos = d.buffer.find('\n');
    if (pos != std::string::npos) {
      std::string line = d.buffer.substr(0, pos);
      d.buffer.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (d.buffer.size() > kMaxLine) throw Error(d.where + ": line too long");
    d.read_more();
  }
}

void ProbeConnection::write_line(const std::string& line) { impl_->write_all(line + "\r\n"); }

SmtpReply ProbeConnection::read_smtp_reply() {
  SmtpReply reply;
  for (int i = 0; i < kMaxReplyLines; ++i) {
    std::string line = read_line();
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])))
      throw Error(impl_->where + ": not an SMTP reply: " + line.substr(0, 80));
    reply.code = std::stoi(line.substr(0, 3));
    reply.lines.push_back(line.size() > 4 ? line.substr(4) : "");
    if (line.size() == 3 || line[3] == ' ') return reply;
  }
  throw Error(impl_->where + ": SMTP reply too long");
}

SmtpReply ProbeConnection::smtp_command(const std::string& line) {
  write_line(line);
  return read_smtp_reply();
}

std::vector<std::string> ProbeConnection::ehlo(const std::string& name) {
  SmtpReply reply = smtp_command("EHLO " + name);
  if (reply.code != 250) throw Error(impl_->where + ": EHLO refused: " + reply.text());
  std::vector<std::string> out;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) out.push_back(upper(reply.lines[i]));
  return out;
}

bool has_extension(const std::vector<std::string>& extensions, const std::string& keyword) {
  std::string key = upper(keyword);
  for (auto& e : extensions) {
    std::string first = e.substr(0, e.find(' '));
    if (first == key) return true;
  }
  return false;
}

std::string sasl_plain(const std::string& user, const std::string& password) {
  std::string raw;
  raw.push_back('\0');
  raw += user;
  raw.push_back('\0');
  raw += password;
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace firstboot
