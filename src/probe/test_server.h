// Unit-test helpers: a real server started as a child process (bounded in time, killed at the
// end), and a small PKI (CA, leaf, expired leaf) made with OpenSSL.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace firstboot::probe::testing {

// Starts argv, waits (at most 15 s) for a stdout line "PORT <n>" or "ACCEPT <addr>:<n>".
class TestServer {
 public:
  explicit TestServer(const std::vector<std::string>& argv);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
};

std::filesystem::path testdata_dir();  // src/probe/testdata

struct TestPki {
  std::string ca_cert_pem, ca_key_pem;
  std::string leaf_cert_pem, leaf_key_pem;  // signed by the CA, valid now
  std::string expired_cert_pem;             // same key, expired yesterday
  std::string self_signed_cert_pem;         // leaf key, self-signed, valid now
};
// names: the leaf's SAN DNS names.
TestPki make_test_pki(const std::vector<std::string>& names);

// A certificate for key_pem, signed by issuer (or itself when issuer_key_pem is empty), valid from
// now + not_before_days to now + not_after_days.
std::string make_test_certificate(const std::string& key_pem, const std::vector<std::string>& names,
                                  const std::string& subject_cn, const std::string& issuer_cert_pem,
                                  const std::string& issuer_key_pem, int not_before_days,
                                  int not_after_days, bool is_ca);

void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace firstboot::probe::testing
