#include "probe/certificate_check.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace firstboot::probe {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_one(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  return X509Ptr(cert);
}

// Verifies the leaf with the rest of the chain as untrusted intermediates, at time now.
bool verify_with_store(const std::vector<X509Ptr>& chain, const std::string& ca_file,
                       std::chrono::system_clock::time_point now, std::string* why) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_set_default_paths(store);
  if (!ca_file.empty()) X509_STORE_load_file(store, ca_file.c_str());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = false;
  if (X509_STORE_CTX_init(ctx, store, chain.front().get(), untrusted) == 1) {
    X509_STORE_CTX_set_time(ctx, 0, std::chrono::system_clock::to_time_t(now));
    ok = X509_verify_cert(ctx) == 1;
    if (!ok && why) *why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  ERR_clear_error();
  return ok;
}

}  // namespace

ChainAssessment assess_chain(const std::vector<std::string>& chain_pem, const std::string& host,
                             std::chrono::system_clock::time_point now,
                             const std::string& ca_file) {
  ChainAssessment a;
  if (chain_pem.empty()) {
    a.problem = "the server sent no certificate";
    return a;
  }
  std::vector<X509Ptr> chain;
  std::string joined;
  for (auto& pem : chain_pem) {
    X509Ptr cert = parse_one(pem);
    if (!cert) {
      a.problem = "the server sent an unreadable certificate";
      return a;
    }
    chain.push_back(std::move(cert));
    joined += pem;
  }
  try {
    auto infos = inspect_chain(joined);
    a.leaf = infos.front();
    a.readable = true;
    a.self_signed = a.leaf.self_signed;
    a.days_left = std::chrono::duration<double>(a.leaf.not_after - now).count() / 86400.0;
    a.host_matches = certificate_covers(a.leaf, host);
    std::string order_problem;
    bool ordered = chain_in_order(joined, &order_problem);
    std::string trust_problem;
    a.trusted = verify_with_store(chain, ca_file, now, &trust_problem);
    // Complete: ordered, and ending at a self-signed root or at a CA the store knows.
    a.complete = ordered && (infos.back().self_signed || a.trusted);
    if (!a.host_matches)
      a.problem = "not valid for " + host + " (names: " +
                  (a.leaf.dns_names.empty() ? a.leaf.subject : [&] {
                    std::string names;
                    for (auto& n : a.leaf.dns_names) names += (names.empty() ? "" : ", ") + n;
                    return names;
                  }()) + ")";
    else if (now < a.leaf.not_before)
      a.problem = "not valid yet";
    else if (a.days_left < 0)
      a.problem = "expired";
    else if (!ordered)
      a.problem = "chain out of order: " + order_problem;
    else if (!a.complete)
      a.problem = "chain incomplete: the issuer of " + infos.back().subject + " is missing (" +
                  trust_problem + ")";
  } catch (const std::exception& e) {
    a.readable = false;
    a.problem = e.what();
  }
  return a;
}

}  // namespace firstboot::probe
