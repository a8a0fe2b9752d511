#include "backup/stream_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>

namespace firstboot::backup {

namespace {

constexpr std::size_t kMaxPassphrase = 1024;
constexpr int kMinLog2N = 10, kMaxLog2N = 22;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

void put_be32(unsigned char* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}
std::uint32_t get_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

std::array<unsigned char, 32> derive_key(const std::string& passphrase, const unsigned char* salt,
                                         const ScryptParams& params) {
  std::array<unsigned char, 32> key{};
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                        EVP_KDF_free);
  if (!kdf) throw Error("encryption: OpenSSL has no scrypt");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                EVP_KDF_CTX_free);
  std::uint64_t n = std::uint64_t{1} << params.log2_n;
  std::uint32_t r = static_cast<std::uint32_t>(params.r), p = static_cast<std::uint32_t>(params.p);
  std::uint64_t maxmem = 1ULL << 32;
  OSSL_PARAM list[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(passphrase.data()), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<unsigned char*>(salt), 16),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_KDF_derive(ctx.get(), key.data(), key.size(), list) != 1)
    throw Error("encryption: deriving the key (scrypt) failed");
  return key;
}

// AES-256-GCM seal or open of one piece; returns false when a tag does not verify.
bool gcm(bool encrypt, const std::array<unsigned char, 32>& key, const unsigned char nonce[12],
         const unsigned char* aad, std::size_t aad_size, const unsigned char* in, std::size_t size,
         unsigned char* out, unsigned char tag[kTagSize]) {
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw Error("encryption: out of memory");
  int len = 0;
  auto init = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex;
  if (init(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
      init(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1)
    throw Error("encryption: AES-256-GCM setup failed");
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  if (update(ctx.get(), nullptr, &len, aad, static_cast<int>(aad_size)) != 1)
    throw Error("encryption: AES-256-GCM failed");
  if (size > 0 && update(ctx.get(), out, &len, in, static_cast<int>(size)) != 1)
    throw Error("encryption: AES-256-GCM failed");
  if (encrypt) {
    if (EVP_EncryptFinal_ex(ctx.get(), out + size, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1)
      throw Error("encryption: AES-256-GCM failed");
    return true;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1)
    throw Error("encryption: AES-256-GCM failed");
  return EVP_DecryptFinal_ex(ctx.get(), out + size, &len) == 1;
}

// Chunk i's nonce: 11 bytes of the big-endian counter, then 1 for the last chunk, else 0. The key
// check uses twelve 0xff bytes, which no chunk has.
void chunk_nonce(std::uint64_t counter, bool last, unsigned char nonce[12]) {
  std::memset(nonce, 0, 12);
  for (int i = 10; i >= 3; --i, counter >>= 8) nonce[i] = static_cast<unsigned char>(counter);
  nonce[11] = last ? 1 : 0;
}

}  // namespace

std::string read_passphrase_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the backup passphrase file " + path);
  std::string text(kMaxPassphrase + 2, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto end = text.find_first_of("\r\n");
  bool complete = end != std::string::npos || text.size() <= kMaxPassphrase;
  std::string passphrase = text.substr(0, std::min(end, text.size()));
  OPENSSL_cleanse(text.data(), text.size());
  if (!complete || passphrase.size() > kMaxPassphrase) {
    OPENSSL_cleanse(passphrase.data(), passphrase.size());
    throw Error("the backup passphrase in " + path + " is longer than 1024 bytes");
  }
  if (passphrase.empty()) throw Error("the backup passphrase file " + path + " is empty");
  return passphrase;
}

bool looks_encrypted(const void* data, std::size_t size) {
  return size >= sizeof kEncryptedMagic &&
         std::memcmp(data, kEncryptedMagic, sizeof kEncryptedMagic) == 0;
}

EncryptingSink::EncryptingSink(ByteSink out, const std::string& passphrase, ScryptParams params)
    : out_(std::move(out)) {
  if (params.log2_n < kMinLog2N || params.log2_n > kMaxLog2N || params.r < 1 || params.r > 32 ||
      params.p < 1 || params.p > 16)
    throw Error("encryption: scrypt parameters out of range");
  unsigned char* h = header_.data();
  std::memcpy(h, kEncryptedMagic, 8);
  h[8] = 1;  // KDF: scrypt
  h[9] = static_cast<unsigned char>(params.log2_n);
  h[10] = static_cast<unsigned char>(params.r);
  h[11] = static_cast<unsigned char>(params.p);
  put_be32(h + 12, kChunkSize);
  if (RAND_bytes(h + 16, 16) != 1) throw Error("encryption: no random salt");
  key_ = derive_key(passphrase, h + 16, params);
  unsigned char check_nonce[12];
  std::memset(check_nonce, 0xff, sizeof check_nonce);
  gcm(true, key_, check_nonce, h, 32, nullptr, 0, nullptr, h + 32);
  out_(header_.data(), header_.size());
  buffer_.reserve(kChunkSize);
}

EncryptingSink::~EncryptingSink() { OPENSSL_cleanse(key_.data(), key_.size()); }

void EncryptingSink::write(const unsigned char* data, std::size_t size) {
  if (finished_) throw Error("internal: write after the end of an encrypted archive");
  while (size > 0) {
    // A full chunk is sealed only once more data follows: the last chunk must carry the flag.
    if (buffer_.size() == kChunkSize) seal(false);
    std::size_t take = std::min<std::size_t>(size, kChunkSize - buffer_.size());
    buffer_.insert(buffer_.end(), data, data + take);
    data += take;
    size -= take;
  }
}

void EncryptingSink::finish() {
  if (finished_) return;
  seal(true);
  finished_ = true;
}

void EncryptingSink::seal(bool last) {
  unsigned char nonce[12];
  chunk_nonce(counter_++, last, nonce);
  std::vector<unsigned char> sealed(buffer_.size() + kTagSize);
  gcm(true, key_, nonce, header_.data(), header_.size(), buffer_.data(), buffer_.size(),
      sealed.data(), sealed.data() + buffer_.size());
  out_(sealed.data(), sealed.size());
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
  buffer_.clear();
}

DecryptingSource::DecryptingSource(ByteSource in, const std::string& passphrase)
    : in_(std::move(in)) {
  std::size_t got = 0;
  // Bounded: each call returns at least one byte or ends the loop.
  while (got < kHeaderSize) {
    std::size_t n = in_(header_.data() + got, kHeaderSize - got);
    if (n == 0) break;
    got += n;
  }
  const unsigned char* h = header_.data();
  if (got < kHeaderSize || !looks_encrypted(h, got))
    throw Error("not an encrypted firstboot archive, or its header is cut short");
  ScryptParams params{h[9], h[10], h[11]};
  chunk_size_ = get_be32(h + 12);
  if (h[8] != 1 || params.log2_n < kMinLog2N || params.log2_n > kMaxLog2N || params.r < 1 ||
      params.r > 32 || params.p < 1 || params.p > 16 || chunk_size_ < 1024 ||
      chunk_size_ > 16 * 1024 * 1024)
    throw Error("the encryption header is damaged or from an unknown version");
  key_ = derive_key(passphrase, h + 16, params);
  unsigned char check_nonce[12], tag[kTagSize];
  std::memset(check_nonce, 0xff, sizeof check_nonce);
  std::memcpy(tag, h + 32, kTagSize);
  if (!gcm(false, key_, check_nonce, h, 32, nullptr, 0, nullptr, tag))
    throw WrongPassphrase("wrong passphrase (or the archive's header is damaged)");
}

DecryptingSource::~DecryptingSource() {
  OPENSSL_cleanse(key_.data(), key_.size());
  OPENSSL_cleanse(plain_.data(), plain_.size());
}

void DecryptingSource::fill() {
  // One byte beyond a sealed chunk tells whether it is the last one.
  std::size_t want = chunk_size_ + kTagSize + 1;
  std::size_t guard = 0;
  while (!input_ended_ && raw_.size() < want && guard++ < want) {
    std::size_t old = raw_.size();
    raw_.resize(want);
    std::size_t n = in_(raw_.data() + old, want - old);
    raw_.resize(old + n);
    if (n == 0) input_ended_ = true;
  }
}

void DecryptingSource::open_next_chunk() {
  fill();
  std::size_t sealed = chunk_size_ + kTagSize;
  bool last = raw_.size() <= sealed;
  std::size_t take = last ? raw_.size() : sealed;
  std::uint64_t offset = kHeaderSize + counter_ * sealed;
  if (take < kTagSize)
    throw Error("the archive is truncated (it ends at byte " + std::to_string(offset + take) +
                " inside its encrypted data)");
  unsigned char nonce[12];
  chunk_nonce(counter_, last, nonce);
  std::size_t size = take - kTagSize;
  plain_.assign(size, 0);
  unsigned char tag[kTagSize];
  std::memcpy(tag, raw_.data() + size, kTagSize);
  if (!gcm(false, key_, nonce, header_.data(), header_.size(), raw_.data(), size, plain_.data(),
           tag)) {
    OPENSSL_cleanse(plain_.data(), plain_.size());
    plain_.clear();
    throw Error(last ? "the archive is truncated or damaged at its end (the last encrypted chunk, "
                       "from byte " +
                           std::to_string(offset) + ", fails authentication)"
                     : "the archive is damaged: encrypted chunk " + std::to_string(counter_) +
                           " (bytes " + std::to_string(offset) + "-" +
                           std::to_string(offset + sealed - 1) + ") fails authentication");
  }
  raw_.erase(raw_.begin(), raw_.begin() + static_cast<std::ptrdiff_t>(take));
  plain_pos_ = 0;
  ++counter_;
  if (last) done_ = true;
}

std::size_t DecryptingSource::read(unsigned char* data, std::size_t size) {
  // Bounded: each pass opens one chunk; an empty middle chunk cannot occur (only the last may be
  // short), so at most two passes per call.
  for (int pass = 0; pass < 3; ++pass) {
    if (plain_pos_ < plain_.size()) {
      std::size_t n = std::min(size, plain_.size() - plain_pos_);
      std::memcpy(data, plain_.data() + plain_pos_, n);
      plain_pos_ += n;
      return n;
    }
    if (done_) return 0;
    open_next_chunk();
  }
  return 0;
}

}  // namespace firstboot::backup
