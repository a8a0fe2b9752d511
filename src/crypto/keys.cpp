#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "engine/error.h"

namespace firstboot {

namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

std::string openssl_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Bio memory_bio(const std::string& text) {
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw Error(openssl_error("allocating a buffer"));
  return bio;
}

Pkey read_private_key(const std::string& pem) {
  Bio bio = memory_bio(pem);
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw Error(openssl_error("reading a private key"));
  return key;
}

std::vector<X509Ptr> read_chain(const std::string& pem) {
  Bio bio = memory_bio(pem);
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    chain.emplace_back(cert);
  ERR_clear_error();  // the end of input reads as an error
  if (chain.empty()) throw Error("no PEM certificate found");
  return chain;
}

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hex(const unsigned char* data, std::size_t len) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) throw Error("certificate has an unreadable validity time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string name_text(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

CertificateInfo info_of(X509* cert) {
  CertificateInfo info;
  info.subject = name_text(X509_get_subject_name(cert));
  info.issuer = name_text(X509_get_issuer_name(cert));
  info.not_before = to_time_point(X509_get0_notBefore(cert));
  info.not_after = to_time_point(X509_get0_notAfter(cert));
  // Not X509_check_issued: a leaf without keyCertSign is still signed by its own key.
  info.self_signed = X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
                     X509_verify(cert, X509_get0_pubkey(cert)) == 1;
  ERR_clear_error();
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(names);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert, EVP_sha256(), md, &md_len);
  info.fingerprint_sha256 = hex(md, md_len);
  return info;
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw Error(openssl_error("building certificate extension " + value));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

std::string generate_private_key_pem(KeyType type) {
  Pkey key;
  switch (type) {
    case KeyType::ec_p256:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case KeyType::rsa_2048:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
      break;
    case KeyType::ed25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (!key) throw Error(openssl_error("generating a key"));
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw Error(openssl_error("encoding a key"));
  return bio_text(bio.get());
}

std::string key_algorithm(const std::string& private_key_pem) {
  Pkey key = read_private_key(private_key_pem);
  if (EVP_PKEY_is_a(key.get(), "ED25519")) return "ed25519";
  if (EVP_PKEY_is_a(key.get(), "RSA")) return "rsa";
  if (EVP_PKEY_is_a(key.get(), "EC")) return "ec";
  return "unknown";
}

std::string dkim_public_key_base64(const std::string& private_key_pem) {
  Pkey key = read_private_key(private_key_pem);
  if (EVP_PKEY_is_a(key.get(), "ED25519")) {
    unsigned char raw[64];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1)
      throw Error(openssl_error("reading an Ed25519 public key"));
    return base64(raw, len);
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) throw Error(openssl_error("encoding a public key"));
  std::string out = base64(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string make_self_signed_certificate(const std::string& private_key_pem,
                                         const std::vector<std::string>& dns_names, int days) {
  if (dns_names.empty()) throw Error("a certificate needs at least one host name");
  Pkey key = read_private_key(private_key_pem);
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) throw Error(openssl_error("random serial"));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate small clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(dns_names.front().c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  add_extension(cert.get(), NID_subject_alt_name, san);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  const EVP_MD* md = EVP_PKEY_is_a(key.get(), "ED25519") ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key.get(), md) <= 0)
    throw Error(openssl_error("signing a certificate"));
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  return bio_text(bio.get());
}

CertificateInfo inspect_certificate(const std::string& pem) {
  auto chain = read_chain(pem);
  return info_of(chain.front().get());
}

std::vector<CertificateInfo> inspect_chain(const std::string& pem) {
  std::vector<CertificateInfo> out;
  for (auto& cert : read_chain(pem)) out.push_back(info_of(cert.get()));
  return out;
}

bool key_matches_certificate(const std::string& private_key_pem, const std::string& cert_pem) {
  Pkey key = read_private_key(private_key_pem);
  auto chain = read_chain(cert_pem);
  bool ok = EVP_PKEY_eq(X509_get0_pubkey(chain.front().get()), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

bool chain_in_order(const std::string& chain_pem, std::string* why) {
  auto chain = read_chain(chain_pem);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* child = chain[i].get();
    X509* parent = chain[i + 1].get();
    if (X509_check_issued(parent, child) != X509_V_OK ||
        X509_verify(child, X509_get0_pubkey(parent)) != 1) {
      ERR_clear_error();
      if (why)
        *why = "certificate " + std::to_string(i + 1) + " (" +
               name_text(X509_get_subject_name(child)) + ") is not issued by certificate " +
               std::to_string(i + 2) + " (" + name_text(X509_get_subject_name(parent)) + ")";
      return false;
    }
  }
  return true;
}

bool certificate_covers(const CertificateInfo& cert, const std::string& host) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  std::string h = lower(host);
  for (auto name : cert.dns_names) {
    name = lower(name);
    if (name == h) return true;
    if (name.size() > 2 && name.compare(0, 2, "*.") == 0) {
      auto dot = h.find('.');
      if (dot != std::string::npos && dot > 0 && h.substr(dot + 1) == name.substr(2)) return true;
    }
  }
  return false;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), md, &len) != 1)
    throw Error(openssl_error("sha256"));
  return hex(md, len);
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) throw Error(openssl_error("random"));
  return hex(buf.data(), buf.size());
}

}  // namespace firstboot
