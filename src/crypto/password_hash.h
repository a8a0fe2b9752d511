// crypt(3) password hashes through libxcrypt: yescrypt for new hashes; any scheme Dovecot's
// {CRYPT} understands ($y$, $2b$, $6$, $5$, $7$, $gy$) for checking.
#pragma once

#include <string>

namespace firstboot {

// A new yescrypt hash ("$y$...") of the password, with a fresh salt.
std::string hash_password(const std::string& password);

// True when password matches the crypt(3) hash.
bool verify_password(const std::string& password, const std::string& hash);

// True when the text has the shape of a crypt(3) hash of a supported scheme.
bool looks_like_crypt_hash(const std::string& text);

}  // namespace firstboot
