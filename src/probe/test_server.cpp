#include "probe/test_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "crypto/keys.h"

namespace firstboot::probe::testing {

TestServer::TestServer(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::setpgid(0, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::regex port_line(R"((?:PORT |ACCEPT .*:)(\d+))");
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[512];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
    std::smatch m;
    if (std::regex_search(seen, m, port_line)) {
      port_ = std::stoi(m[1]);
      return;
    }
  }
  // The destructor does not run for a throwing constructor: stop the child here.
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  ::close(out_fd_);
  throw std::runtime_error("test server " + argv[0] + " did not report a port: " + seen);
}

TestServer::~TestServer() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      ::usleep(20000);
    }
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::filesystem::path testdata_dir() { return std::filesystem::path(FIRSTBOOT_PROBE_TESTDATA); }

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("writing " + path.string());
}

namespace {

EVP_PKEY* read_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

X509* read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

std::string make_test_certificate(const std::string& key_pem, const std::vector<std::string>& names,
                                  const std::string& subject_cn, const std::string& issuer_cert_pem,
                                  const std::string& issuer_key_pem, int not_before_days,
                                  int not_after_days, bool is_ca) {
  EVP_PKEY* key = read_key(key_pem);
  EVP_PKEY* issuer_key = issuer_key_pem.empty() ? key : read_key(issuer_key_pem);
  X509* issuer = issuer_cert_pem.empty() ? nullptr : read_cert(issuer_cert_pem);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(not_before_days) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(not_after_days) * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509* ext_issuer = issuer ? issuer : cert;
  if (is_ca) {
    add_ext(cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, ext_issuer, NID_basic_constraints, "CA:FALSE");
    add_ext(cert, ext_issuer, NID_ext_key_usage, "serverAuth");
  }
  add_ext(cert, ext_issuer, NID_subject_key_identifier, "hash");
  if (!names.empty()) {
    std::string san;
    for (auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    add_ext(cert, ext_issuer, NID_subject_alt_name, san);
  }
  X509_sign(cert, issuer_key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  X509_free(cert);
  if (issuer) X509_free(issuer);
  if (issuer_key != key) EVP_PKEY_free(issuer_key);
  EVP_PKEY_free(key);
  return pem;
}

TestPki make_test_pki(const std::vector<std::string>& names) {
  TestPki pki;
  pki.ca_key_pem = generate_private_key_pem(KeyType::ec_p256);
  pki.ca_cert_pem =
      make_test_certificate(pki.ca_key_pem, {}, "Probe Test CA", "", "", -1, 365, true);
  pki.leaf_key_pem = generate_private_key_pem(KeyType::ec_p256);
  pki.leaf_cert_pem = make_test_certificate(pki.leaf_key_pem, names, names.front(), pki.ca_cert_pem,
                                            pki.ca_key_pem, -1, 90, false);
  pki.expired_cert_pem = make_test_certificate(pki.leaf_key_pem, names, names.front(),
                                               pki.ca_cert_pem, pki.ca_key_pem, -30, -1, false);
  pki.self_signed_cert_pem =
      make_test_certificate(pki.leaf_key_pem, names, names.front(), "", "", -1, 90, false);
  return pki;
}

}  // namespace firstboot::probe::testing
