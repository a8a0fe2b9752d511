// Key and certificate work with OpenSSL 3 EVP: generation (EC P-256, RSA-2048, Ed25519),
// self-signed certificates, and inspection of certificates and keys for the ssl module's checks.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace firstboot {

enum class KeyType { ec_p256, rsa_2048, ed25519 };

// A new private key as PKCS#8 PEM.
std::string generate_private_key_pem(KeyType type);

// The public key of a PEM private key, as base64 DER SubjectPublicKeyInfo (RSA, for DKIM "p=") or
// the raw 32-byte key in base64 (Ed25519, RFC 8463).
std::string dkim_public_key_base64(const std::string& private_key_pem);
// "rsa" or "ed25519".
std::string key_algorithm(const std::string& private_key_pem);

// A self-signed certificate (PEM) for the key, CN = first name, SAN = all names.
std::string make_self_signed_certificate(const std::string& private_key_pem,
                                         const std::vector<std::string>& dns_names, int days);

struct CertificateInfo {
  std::string subject;
  std::string issuer;
  std::vector<std::string> dns_names;  // SAN DNS entries
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  bool self_signed = false;
  std::string fingerprint_sha256;  // hex
};

// Parses the first certificate of a PEM chain. Throws Error on garbage.
CertificateInfo inspect_certificate(const std::string& pem);
// All certificates of a PEM chain, leaf first.
std::vector<CertificateInfo> inspect_chain(const std::string& pem);
// True when the private key belongs to the chain's first certificate.
bool key_matches_certificate(const std::string& private_key_pem, const std::string& cert_pem);
// Each certificate in the chain is issued by the next one (signature checked).
bool chain_in_order(const std::string& chain_pem, std::string* why);
// RFC 6125 host name match, with a single leftmost wildcard label.
bool certificate_covers(const CertificateInfo& cert, const std::string& host);

std::string sha256_hex(const std::string& data);
std::string random_token(std::size_t bytes);  // lowercase hex

}  // namespace firstboot
