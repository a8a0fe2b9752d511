// A TCP client connection with deadlines on every operation and an optional TLS layer (OpenSSL),
// started at once (implicit TLS) or later (STARTTLS). The base of the SMTP and IMAP probes.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/error.h"
#include "probe/deadline.h"

namespace firstboot::probe {

// Why a probe could not do its work: the message is one line for a check's detail.
class ProbeError : public Error {
 public:
  enum class Kind { connect, timeout, tls, protocol, closed };
  ProbeError(Kind kind, const std::string& what) : Error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct Endpoint {
  std::string host = "127.0.0.1";  // numeric address or a name (names resolve without a deadline)
  int port = 0;
  std::string local_address;  // bind the client to this address first (e.g. "127.0.0.2")
  std::string describe() const;
};

struct TlsOptions {
  std::string server_name;  // SNI; empty: none
  int min_version = 0;      // TLS1_2_VERSION etc.; 0: the library default
  int max_version = 0;      // 0: the highest supported
  // Lets the client offer protocols and ciphers the system policy forbids (TLS 1.0/1.1, SHA-1),
  // to prove that the server refuses them.
  bool legacy = false;
};

struct TlsSession {
  std::string version;                 // "TLSv1.3"
  std::string cipher;                  // "TLS_AES_256_GCM_SHA384"
  std::vector<std::string> chain_pem;  // as the server sent it, leaf first
};

class Connection {
 public:
  static Connection open(const Endpoint& endpoint, Deadline deadline);
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // TLS handshake on the open connection. Throws ProbeError(tls) with OpenSSL's reason.
  void start_tls(const TlsOptions& options, Deadline deadline);
  bool is_tls() const;
  const TlsSession& tls_session() const;

  void write(std::string_view data, Deadline deadline);
  // One line without its CR LF; lines longer than max_len are a protocol error.
  std::string read_line(Deadline deadline, std::size_t max_len = 64 * 1024);
  // Exactly n bytes.
  std::string read_exact(std::size_t n, Deadline deadline);
  // Everything until the peer closes, at most max_len bytes (more is a protocol error).
  std::string read_to_end(Deadline deadline, std::size_t max_len);
  const Endpoint& endpoint() const { return endpoint_; }
  void close();

 private:
  struct State;
  explicit Connection(std::unique_ptr<State> state, Endpoint endpoint);
  bool fill(Deadline deadline);  // reads more into the buffer; false on EOF
  std::unique_ptr<State> s_;
  Endpoint endpoint_;
};

// "connection refused", "timed out" ... from an errno value, for one-line details.
std::string socket_error_text(int err);

}  // namespace firstboot::probe
