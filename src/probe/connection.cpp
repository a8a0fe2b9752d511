#include "probe/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace firstboot::probe {

namespace {

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  std::string out;
  while (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason ? reason : "error " + std::to_string(code);
    code = ERR_get_error();
  }
  return out;
}

// SSL_write on a closed socket would otherwise raise SIGPIPE and end the process.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

// Waits for the socket to become readable/writable. False on timeout.
bool wait_fd(int fd, short events, const Deadline& deadline) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, deadline.remaining_ms());
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
  return false;
}

}  // namespace

std::string socket_error_text(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connection refused";
    case ETIMEDOUT:
      return "timed out";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ECONNRESET:
      return "connection reset";
    default:
      return std::strerror(err);
  }
}

std::string Endpoint::describe() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

struct Connection::State {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string buffer;
  TlsSession session;

  ~State() {
    if (ssl) {
      SSL_shutdown(ssl);  // best effort, non-blocking socket: never waits
      SSL_free(ssl);
    }
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
};

Connection::Connection(std::unique_ptr<State> state, Endpoint endpoint)
    : s_(std::move(state)), endpoint_(std::move(endpoint)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Connection Connection::open(const Endpoint& endpoint, Deadline deadline) {
  ignore_sigpipe_once();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string port = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0)
    throw ProbeError(ProbeError::Kind::connect,
                     "resolving " + endpoint.host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(list, ::freeaddrinfo);

  std::string last_error = "no address";
  ProbeError::Kind last_kind = ProbeError::Kind::connect;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto state = std::make_unique<State>();
    state->fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (state->fd < 0) {
      last_error = socket_error_text(errno);
      continue;
    }
    if (!endpoint.local_address.empty()) {
      addrinfo lhints{};
      lhints.ai_family = ai->ai_family;
      lhints.ai_socktype = SOCK_STREAM;
      lhints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
      addrinfo* local = nullptr;
      if (::getaddrinfo(endpoint.local_address.c_str(), "0", &lhints, &local) != 0 || !local) {
        last_error = "bad local address " + endpoint.local_address;
        continue;
      }
      int b = ::bind(state->fd, local->ai_addr, local->ai_addrlen);
      int err = errno;
      ::freeaddrinfo(local);
      if (b != 0) {
        last_error = "binding to " + endpoint.local_address + ": " + socket_error_text(err);
        continue;
      }
    }
    int one = 1;
    ::setsockopt(state->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(state->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = socket_error_text(errno);
        continue;
      }
      if (!wait_fd(state->fd, POLLOUT, deadline)) {
        last_error = "timed out";
        last_kind = ProbeError::Kind::timeout;
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(state->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = socket_error_text(err);
        continue;
      }
    }
    return Connection(std::move(state), endpoint);
  }
  throw ProbeError(last_kind, "connecting to " + endpoint.describe() + ": " + last_error);
}

void Connection::start_tls(const TlsOptions& options, Deadline deadline) {
  if (s_->ssl) throw ProbeError(ProbeError::Kind::protocol, "TLS is already active");
  // Bytes the server sent before the handshake would be read as if protected (STARTTLS injection).
  if (!s_->buffer.empty())
    throw ProbeError(ProbeError::Kind::protocol, "the server sent data before the TLS handshake");
  ERR_clear_error();
  s_->ctx = SSL_CTX_new(TLS_client_method());
  if (!s_->ctx)
    throw ProbeError(ProbeError::Kind::tls, "creating a TLS context: " + openssl_reason());
  if (options.legacy) {
    SSL_CTX_set_security_level(s_->ctx, 0);
    SSL_CTX_set_cipher_list(s_->ctx, "ALL:@SECLEVEL=0");
  }
  if (options.min_version) SSL_CTX_set_min_proto_version(s_->ctx, options.min_version);
  if (options.max_version) SSL_CTX_set_max_proto_version(s_->ctx, options.max_version);
  // The probe inspects the chain itself (host name, order, expiry) and reports what it found.
  SSL_CTX_set_verify(s_->ctx, SSL_VERIFY_NONE, nullptr);
  s_->ssl = SSL_new(s_->ctx);
  if (!s_->ssl)
    throw ProbeError(ProbeError::Kind::tls, "creating a TLS session: " + openssl_reason());
  if (!options.server_name.empty()) SSL_set_tlsext_host_name(s_->ssl, options.server_name.c_str());
  SSL_set_fd(s_->ssl, s_->fd);
  for (int round = 0; round < 10000; ++round) {
    int r = SSL_connect(s_->ssl);
    if (r == 1) break;
    int err = SSL_get_error(s_->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!wait_fd(s_->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
        throw ProbeError(ProbeError::Kind::timeout,
                         "TLS handshake with " + endpoint_.describe() + ": timed out");
      continue;
    }
    std::string why = openssl_reason();
    if (why.empty()) why = err == SSL_ERROR_SYSCALL ? "connection closed" : "handshake failed";
    throw ProbeError(ProbeError::Kind::tls,
                     "TLS handshake with " + endpoint_.describe() + ": " + why);
  }
  s_->session.version = SSL_get_version(s_->ssl);
  s_->session.cipher = SSL_get_cipher_name(s_->ssl);
  s_->session.chain_pem.clear();
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(s_->ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(bio, sk_X509_value(chain, i));
      char* data = nullptr;
      long len = BIO_get_mem_data(bio, &data);
      s_->session.chain_pem.emplace_back(data, static_cast<std::size_t>(len));
      BIO_free(bio);
    }
  }
}

bool Connection::is_tls() const { return s_ && s_->ssl != nullptr; }
const TlsSession& Connection::tls_session() const { return s_->session; }

void Connection::write(std::string_view data, Deadline deadline) {
  if (!s_ || s_->fd < 0) throw ProbeError(ProbeError::Kind::closed, "connection closed");
  std::size_t done = 0;
  for (int round = 0; done < data.size() && round < 100000; ++round) {
    if (s_->ssl) {
      ERR_clear_error();
      int r = SSL_write(s_->ssl, data.data() + done, static_cast<int>(data.size() - done));
      if (r > 0) {
        done += static_cast<std::size_t>(r);
        continue;
      }
      int err = SSL_get_error(s_->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(s_->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
          throw ProbeError(ProbeError::Kind::timeout, "writing: timed out");
        continue;
      }
      throw ProbeError(ProbeError::Kind::closed, "writing over TLS: " + openssl_reason());
    }
    ssize_t r = ::send(s_->fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait_fd(s_->fd, POLLOUT, deadline))
        throw ProbeError(ProbeError::Kind::timeout, "writing: timed out");
      continue;
    }
    throw ProbeError(ProbeError::Kind::closed, "writing: " + socket_error_text(errno));
  }
  if (done < data.size()) throw ProbeError(ProbeError::Kind::closed, "writing: gave up");
}

bool Connection::fill(Deadline deadline) {
  char chunk[16384];
  for (int round = 0; round < 100000; ++round) {
    if (s_->ssl) {
      ERR_clear_error();
      int r = SSL_read(s_->ssl, chunk, sizeof chunk);
      if (r > 0) {
        s_->buffer.append(chunk, static_cast<std::size_t>(r));
        return true;
      }
      int err = SSL_get_error(s_->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(s_->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
          throw ProbeError(ProbeError::Kind::timeout,
                           "waiting for " + endpoint_.describe() + ": timed out");
        continue;
      }
      if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) return false;
      throw ProbeError(ProbeError::Kind::tls, "reading over TLS: " + openssl_reason());
    }
    ssize_t r = ::recv(s_->fd, chunk, sizeof chunk, 0);
    if (r > 0) {
      s_->buffer.append(chunk, static_cast<std::size_t>(r));
      return true;
    }
    if (r == 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (!wait_fd(s_->fd, POLLIN, deadline))
        throw ProbeError(ProbeError::Kind::timeout,
                         "waiting for " + endpoint_.describe() + ": timed out");
      continue;
    }
    if (errno == ECONNRESET) return false;
    throw ProbeError(ProbeError::Kind::closed, "reading: " + socket_error_text(errno));
  }
  throw ProbeError(ProbeError::Kind::timeout, "reading: gave up");
}

std::string Connection::read_line(Deadline deadline, std::size_t max_len) {
  if (!s_ || s_->fd < 0) throw ProbeError(ProbeError::Kind::closed, "connection closed");
  std::size_t scanned = 0;
  for (;;) {
    auto pos = s_->buffer.find('\n', scanned);
    if (pos != std::string::npos) {
      std::string line = s_->buffer.substr(0, pos);
      s_->buffer.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    scanned = s_->buffer.size();
    if (scanned > max_len)
      throw ProbeError(ProbeError::Kind::protocol,
                       "a line longer than " + std::to_string(max_len) + " bytes");
    if (!fill(deadline))
      throw ProbeError(ProbeError::Kind::closed, endpoint_.describe() + " closed the connection");
  }
}

std::string Connection::read_exact(std::size_t n, Deadline deadline) {
  if (!s_ || s_->fd < 0) throw ProbeError(ProbeError::Kind::closed, "connection closed");
  while (s_->buffer.size() < n) {
    if (!fill(deadline))
      throw ProbeError(ProbeError::Kind::closed, endpoint_.describe() + " closed the connection");
  }
  std::string out = s_->buffer.substr(0, n);
  s_->buffer.erase(0, n);
  return out;
}

std::string Connection::read_to_end(Deadline deadline, std::size_t max_len) {
  if (!s_ || s_->fd < 0) throw ProbeError(ProbeError::Kind::closed, "connection closed");
  while (fill(deadline)) {
    if (s_->buffer.size() > max_len)
      throw ProbeError(ProbeError::Kind::protocol, "more than " + std::to_string(max_len) +
                                                       " bytes from " + endpoint_.describe());
  }
  std::string out = std::move(s_->buffer);
  s_->buffer.clear();
  return out;
}

void Connection::close() { s_.reset(); }

}  // namespace firstboot::probe
