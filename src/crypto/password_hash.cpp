#include "crypto/password_hash.h"

#include <crypt.h>

#include <cstdlib>
#include <cstring>
#include <regex>

#include "engine/error.h"

namespace firstboot {

std::string hash_password(const std::string& password) {
  if (password.empty()) throw Error("an empty password cannot be hashed");
  // nullptr random bytes: libxcrypt reads them from the OS; count 0: the scheme's default cost.
  char* salt = crypt_gensalt_ra("$y$", 0, nullptr, 0);
  if (!salt) throw Error("generating a yescrypt salt failed");
  struct crypt_data data {};
  const char* hashed = crypt_r(password.c_str(), salt, &data);
  std::free(salt);
  if (!hashed || hashed[0] == '*') throw Error("hashing the password failed");
  std::string out = hashed;
  explicit_bzero(&data, sizeof data);
  return out;
}

bool verify_password(const std::string& password, const std::string& hash) {
  struct crypt_data data {};
  const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
  bool ok = out && out[0] != '*' && hash == out;
  explicit_bzero(&data, sizeof data);
  return ok;
}

bool looks_like_crypt_hash(const std::string& text) {
  static const std::regex shape(R"(^\$(y|gy|7|2b|2y|6|5)\$[./A-Za-z0-9$,=]{8,200}$)");
  return std::regex_match(text, shape);
}

}  // namespace firstboot
