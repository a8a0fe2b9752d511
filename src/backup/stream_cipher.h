// Encryption of backup archives: a passphrase stretched with scrypt (random salt) into an
// AES-256-GCM key, and the archive cut into chunks that are each sealed with their own tag, so a
// reader checks every chunk before using it, and a truncated, reordered or altered stream fails.
// The format is described in docs/backup.md ("Encrypted archives").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/error.h"

namespace firstboot::backup {

inline constexpr char kEncryptedMagic[8] = {'F', 'B', 'B', 'K', 'E', 'N', 'C', '1'};
inline constexpr std::size_t kHeaderSize = 48;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::uint32_t kChunkSize = 64 * 1024;

struct ScryptParams {
  int log2_n = 15;  // N = 32768: 32 MiB, about 0.1 s
  int r = 8;
  int p = 1;
};

// The passphrase from a file: its first line without the line end; 1 to 1024 bytes. Throws Error
// naming the file (never its content).
std::string read_passphrase_file(const std::string& path);

// Whether the first bytes of a file are an encrypted archive's header.
bool looks_encrypted(const void* data, std::size_t size);

// Thrown when the key check of the header fails: a wrong passphrase (or a damaged header).
class WrongPassphrase : public Error {
 public:
  using Error::Error;
};

using ByteSink = std::function<void(const unsigned char* data, std::size_t size)>;
// Fills up to size bytes; returns how many (0: end of input).
using ByteSource = std::function<std::size_t(unsigned char* data, std::size_t size)>;

class EncryptingSink {
 public:
  EncryptingSink(ByteSink out, const std::string& passphrase, ScryptParams params = {});
  ~EncryptingSink();
  EncryptingSink(const EncryptingSink&) = delete;
  EncryptingSink& operator=(const EncryptingSink&) = delete;

  void write(const unsigned char* data, std::size_t size);
  // Seals the last chunk (possibly empty). Nothing may be written after.
  void finish();

 private:
  void seal(bool last);

  ByteSink out_;
  std::array<unsigned char, 32> key_{};
  std::array<unsigned char, kHeaderSize> header_{};
  std::vector<unsigned char> buffer_;
  std::uint64_t counter_ = 0;
  bool finished_ = false;
};

class DecryptingSource {
 public:
  // Reads and checks the header: throws WrongPassphrase when the key check fails, Error when the
  // header is missing or malformed.
  DecryptingSource(ByteSource in, const std::string& passphrase);
  ~DecryptingSource();
  DecryptingSource(const DecryptingSource&) = delete;
  DecryptingSource& operator=(const DecryptingSource&) = delete;

  // Up to size bytes of authenticated plaintext; 0 at the (authenticated) end. Throws Error when a
  // chunk fails its tag or the stream ends early.
  std::size_t read(unsigned char* data, std::size_t size);

 private:
  void fill();
  void open_next_chunk();

  ByteSource in_;
  std::array<unsigned char, 32> key_{};
  std::array<unsigned char, kHeaderSize> header_{};
  std::uint32_t chunk_size_ = kChunkSize;
  std::vector<unsigned char> raw_;    // ciphertext not yet opened
  std::vector<unsigned char> plain_;  // opened, not yet returned
  std::size_t plain_pos_ = 0;
  std::uint64_t counter_ = 0;
  bool input_ended_ = false;
  bool done_ = false;
};

}  // namespace firstboot::backup
