#include "service/readiness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "engine/error.h"
#include "service/proc.h"

namespace firstboot {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Non-blocking connect, then wait for the result at most `timeout`.
bool connect_bounded(int fd, const sockaddr* addr, socklen_t len, std::chrono::milliseconds timeout,
                     std::string* why) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, addr, len) == 0) return true;
  if (errno != EINPROGRESS && errno != EAGAIN) {
    if (why) *why = errno_text(errno);
    return false;
  }
  pollfd p{fd, POLLOUT, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n <= 0) {
    if (why) *why = n == 0 ? "connection timed out" : errno_text(errno);
    return false;
  }
  int err = 0;
  socklen_t err_len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (err != 0) {
    if (why) *why = errno_text(err);
    return false;
  }
  return true;
}

std::string normalized_host(const std::string& host) {
  if (host.empty() || host == "localhost") return "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

bool is_wildcard(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address == "*";
}

bool conflicts(const std::string& host, const std::string& listener) {
  std::string h = normalized_host(host);
  if (is_wildcard(h) || is_wildcard(listener)) {
    // An IPv4 wildcard conflicts with IPv4 listeners; "::" (dual stack) with everything.
    bool h6 = h.find(':') != std::string::npos, l6 = listener.find(':') != std::string::npos;
    if (listener == "::" || h == "::") return true;
    return h6 == l6;
  }
  if (h == listener) return true;
  // An IPv4-mapped IPv6 listener for the same address.
  return listener == "::ffff:" + h;
}

// When /proc is not readable: does bind() on host:port fail with EADDRINUSE?
bool bind_says_in_use(const std::string& host, int port) {
  std::string h = normalized_host(host);
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof *v6;
  } else {
    return false;
  }
  Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return false;
  return errno == EADDRINUSE;
}

}  // namespace

bool probe_accepts(const ReadinessProbe& probe, std::chrono::milliseconds timeout,
                   std::string* why) {
  if (probe.kind == ReadinessProbe::Kind::unix_socket) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = probe.socket_path.string();
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
      if (why) *why = "socket path is empty or too long";
      return false;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
      if (why) *why = errno_text(errno);
      return false;
    }
    return connect_bounded(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, timeout, why);
  }
  if (probe.port < 1 || probe.port > 65535) {
    if (why) *why = "port out of range";
    return false;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string host = normalized_host(probe.host);
  int rc = getaddrinfo(host.c_str(), std::to_string(probe.port).c_str(), &hints, &res);
  if (rc != 0 || !res) {
    if (why) *why = std::string("cannot resolve host: ") + gai_strerror(rc);
    return false;
  }
  bool ok = false;
  for (addrinfo* ai = res; ai && !ok; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) continue;
    ok = connect_bounded(fd.get(), ai->ai_addr, ai->ai_addrlen, timeout, why);
  }
  freeaddrinfo(res);
  return ok;
}

std::vector<pid_t> port_holders(const std::string& host, int port) {
  std::set<unsigned long> inodes;
  for (auto& l : proc::tcp_listeners(port))
    if (conflicts(host, l.address)) inodes.insert(l.inode);
  return proc::socket_holders(inodes);
}

std::optional<std::string> port_in_use(const std::string& host, int port) {
  std::string where = "port " + std::to_string(port) + " on " + normalized_host(host);
  std::set<unsigned long> inodes;
  std::string listening_on;
  for (auto& l : proc::tcp_listeners(port)) {
    if (!conflicts(host, l.address)) continue;
    inodes.insert(l.inode);
    if (listening_on.empty()) listening_on = l.address;
  }
  if (inodes.empty()) {
    if (bind_says_in_use(host, port))
      return where + " is in use (by a process this user cannot see)";
    return std::nullopt;
  }
  auto holders = proc::socket_holders(inodes);
  if (holders.empty())
    return where + " is in use (a socket listening on " + listening_on +
           "; its owner is not visible to this user)";
  std::string who;
  std::size_t shown = 0;
  for (pid_t pid : holders) {
    if (shown == 5) {
      who += ", ...";
      break;
    }
    auto st = proc::read_stat(pid);
    if (shown++ > 0) who += ", ";
    who += "pid " + std::to_string(pid) + " (" + (st ? st->comm : std::string("?")) + ")";
  }
  return where + " is in use by " + who;
}

}  // namespace firstboot
