#include "probe/dkim.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "probe/connection.h"
#include "probe/smtp.h"

namespace firstboot::probe {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim_fws(const std::string& s) {
  auto is_fws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::size_t b = 0, e = s.size();
  while (b < e && is_fws(s[b])) ++b;
  while (e > b && is_fws(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string strip_all_whitespace(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// Bare LF -> CR LF, so messages read from files or tests compare like messages on the wire.
std::string crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

// Collapses runs of WSP into one space.
std::string collapse_wsp(const std::string& s) {
  std::string out;
  bool in_wsp = false;
  for (char c : s) {
    if (is_wsp(c)) {
      in_wsp = true;
      continue;
    }
    if (in_wsp) out += ' ';
    in_wsp = false;
    out += c;
  }
  if (in_wsp) out += ' ';
  return out;
}

std::string field_value(const HeaderField& field) {
  auto colon = field.raw.find(':');
  return colon == std::string::npos ? "" : field.raw.substr(colon + 1);
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey public_key_from_record(const std::string& algorithm_key_type, const std::string& p,
                            std::string* why) {
  std::string der;
  try {
    der = base64_decode(p);
  } catch (const std::exception&) {
    *why = "the key record's p= is not base64";
    return nullptr;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(der.data());
  Pkey key;
  if (algorithm_key_type == "ed25519") {
    if (der.size() != 32) {
      *why = "an ed25519 key record must hold 32 bytes, not " + std::to_string(der.size());
      return nullptr;
    }
    key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, data, der.size()));
  } else {
    const unsigned char* cursor = data;
    key.reset(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
    if (!key) {
      cursor = data;
      key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, static_cast<long>(der.size())));
    }
    if (key && EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
      *why = "the key record holds a non-RSA key";
      return nullptr;
    }
    if (key && EVP_PKEY_get_bits(key.get()) < 1024) {
      *why = "the RSA key is shorter than 1024 bits";
      return nullptr;
    }
  }
  ERR_clear_error();
  if (!key) *why = "the key record's p= is not a valid " + algorithm_key_type + " public key";
  return key;
}

bool verify_signature(EVP_PKEY* key, bool ed25519, const std::string& signed_data,
                      const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = false;
  if (ed25519) {
    // RFC 8463: Ed25519 signs the SHA-256 hash of the header data, not the data itself.
    unsigned char hash[32];
    std::size_t hash_len = 0;
    if (EVP_Q_digest(nullptr, "SHA256", nullptr, signed_data.data(), signed_data.size(), hash,
                     &hash_len) == 1 &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1)
      ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), hash, hash_len) == 1;
  } else if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1) {
    ok = EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_data.data()), signed_data.size()) == 1;
  }
  ERR_clear_error();
  return ok;
}

std::string sha256_base64(const std::string& data) {
  unsigned char hash[32];
  std::size_t len = 0;
  EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), hash, &len);
  return base64_encode(std::string(reinterpret_cast<char*>(hash), len));
}

DkimVerdict verify_one(const ParsedMessage& msg, std::size_t sig_index, const DkimKeyLookup& lookup,
                       std::chrono::system_clock::time_point now) {
  DkimVerdict v;
  const HeaderField& sig_field = msg.headers[sig_index];
  std::map<std::string, std::string> tags;
  try {
    tags = parse_tag_list(field_value(sig_field));
  } catch (const std::exception& e) {
    v.detail = std::string("malformed DKIM-Signature: ") + e.what();
    return v;
  }
  v.domain = lower(tags["d"]);
  v.selector = tags["s"];
  v.algorithm = lower(tags["a"]);
  for (const char* required : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (tags.count(required) == 0) {
      v.detail = std::string("the signature has no ") + required + "= tag";
      return v;
    }
  }
  if (tags["v"] != "1") {
    v.detail = "unsupported signature version v=" + tags["v"];
    return v;
  }
  bool ed25519 = v.algorithm == "ed25519-sha256";
  if (!ed25519 && v.algorithm != "rsa-sha256") {
    v.detail = "unsupported algorithm " + v.algorithm;
    return v;
  }
  std::string c = lower(tags.count("c") ? tags["c"] : "simple/simple");
  auto slash = c.find('/');
  std::string header_canon = c.substr(0, slash);
  std::string body_canon = slash == std::string::npos ? "simple" : c.substr(slash + 1);
  for (auto& canon : {header_canon, body_canon}) {
    if (canon != "simple" && canon != "relaxed") {
      v.detail = "unknown canonicalization " + c;
      return v;
    }
  }
  if (tags.count("x")) {
    try {
      long long expires = std::stoll(tags["x"]);
      if (std::chrono::system_clock::to_time_t(now) > expires) {
        v.detail = "the signature expired";
        return v;
      }
    } catch (const std::exception&) {
      v.detail = "malformed x= tag";
      return v;
    }
  }
  // h= must cover From (RFC 6376 5.4).
  std::vector<std::string> signed_names;
  {
    std::string h = tags["h"];
    std::size_t start = 0;
    while (start <= h.size()) {
      auto colon = h.find(':', start);
      std::string name = lower(trim_fws(h.substr(start, colon - start)));
      if (!name.empty()) signed_names.push_back(name);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  if (std::find(signed_names.begin(), signed_names.end(), "from") == signed_names.end()) {
    v.detail = "the signature does not cover the From header";
    return v;
  }

  std::string body = canonicalize_body(msg.body, body_canon == "relaxed");
  if (tags.count("l")) {
    std::size_t limit = 0;
    try {
      limit = static_cast<std::size_t>(std::stoull(tags["l"]));
    } catch (const std::exception&) {
      v.detail = "malformed l= tag";
      return v;
    }
    if (limit > body.size()) {
      v.detail = "l= is longer than the body";
      return v;
    }
    body.resize(limit);
  }
  if (sha256_base64(body) != tags["bh"]) {
    v.detail = "body hash mismatch (the body changed after signing)";
    return v;
  }

  // Header fields named in h=, each taking the last not yet used instance (bottom up).
  bool relaxed = header_canon == "relaxed";
  std::string data;
  std::vector<bool> used(msg.headers.size(), false);
  for (auto& name : signed_names) {
    for (std::size_t i = msg.headers.size(); i-- > 0;) {
      if (used[i] || lower(msg.headers[i].name) != name) continue;
      used[i] = true;
      data += canonicalize_header(msg.headers[i], relaxed);
      break;
    }
  }
  data += signature_header_for_hash(sig_field, relaxed);

  std::string qname = v.selector + "._domainkey." + v.domain;
  std::vector<std::string> records;
  try {
    records = lookup(qname);
  } catch (const std::exception& e) {
    v.detail = std::string("key lookup failed: ") + e.what();
    return v;
  }
  if (records.empty()) {
    v.detail = "no key record at " + qname;
    return v;
  }
  std::map<std::string, std::string> key_tags;
  try {
    key_tags = parse_tag_list(records.front());
  } catch (const std::exception& e) {
    v.detail = "malformed key record at " + qname + ": " + e.what();
    return v;
  }
  if (key_tags.count("v") && key_tags["v"] != "DKIM1") {
    v.detail = "the key record at " + qname + " is not v=DKIM1";
    return v;
  }
  std::string k = lower(key_tags.count("k") ? key_tags["k"] : "rsa");
  if ((ed25519 && k != "ed25519") || (!ed25519 && k != "rsa")) {
    v.detail = "the key record at " + qname + " is k=" + k + ", the signature " + v.algorithm;
    return v;
  }
  if (key_tags.count("h") && key_tags["h"].find("sha256") == std::string::npos) {
    v.detail = "the key record at " + qname + " does not allow sha256";
    return v;
  }
  if (!key_tags.count("p") || key_tags["p"].empty()) {
    v.detail = "the key at " + qname + " is revoked (empty p=)";
    return v;
  }
  std::string why;
  Pkey key = public_key_from_record(k, key_tags["p"], &why);
  if (!key) {
    v.detail = why + " (" + qname + ")";
    return v;
  }
  std::string signature;
  try {
    signature = base64_decode(tags["b"]);
  } catch (const std::exception&) {
    v.detail = "the signature's b= is not base64";
    return v;
  }
  if (!verify_signature(key.get(), ed25519, data, signature)) {
    v.detail = "signature does not verify with the key at " + qname;
    return v;
  }
  v.verified = true;
  v.detail = "verified with the key at " + qname;
  return v;
}

}  // namespace

ParsedMessage parse_message(const std::string& message) {
  ParsedMessage msg;
  std::string text = crlf(message);
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find("\r\n", pos);
    if (eol == std::string::npos) eol = text.size();
    if (eol == pos) {  // the empty line: the body follows
      pos = std::min(eol + 2, text.size());
      msg.body = text.substr(pos);
      return msg;
    }
    std::string line = text.substr(pos, eol - pos) + "\r\n";
    if (is_wsp(line[0]) && !msg.headers.empty()) {
      msg.headers.back().raw += line;
    } else {
      auto colon = line.find(':');
      HeaderField field;
      field.name = colon == std::string::npos ? trim_fws(line) : line.substr(0, colon);
      while (!field.name.empty() && is_wsp(field.name.back())) field.name.pop_back();
      field.raw = line;
      msg.headers.push_back(std::move(field));
    }
    pos = eol + 2;
  }
  return msg;
}

std::map<std::string, std::string> parse_tag_list(const std::string& text) {
  std::map<std::string, std::string> tags;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto semi = text.find(';', start);
    std::string spec =
        text.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    std::string trimmed = trim_fws(spec);
    if (!trimmed.empty()) {
      auto eq = trimmed.find('=');
      if (eq == std::string::npos)
        throw ProbeError(ProbeError::Kind::protocol, "tag without '=': " + trimmed.substr(0, 40));
      std::string name = trim_fws(trimmed.substr(0, eq));
      std::string value = trim_fws(trimmed.substr(eq + 1));
      if (name.empty()) throw ProbeError(ProbeError::Kind::protocol, "empty tag name");
      if (name == "b" || name == "bh" || name == "p") value = strip_all_whitespace(value);
      if (!tags.emplace(name, value).second)
        throw ProbeError(ProbeError::Kind::protocol, "duplicate tag " + name);
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  return tags;
}

std::string canonicalize_body(const std::string& body, bool relaxed) {
  std::string out;
  if (relaxed) {
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto eol = body.find("\r\n", pos);
      std::string line = body.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      line = collapse_wsp(line);
      if (!line.empty() && line.back() == ' ') line.pop_back();
      out += line;
      out += "\r\n";
      if (eol == std::string::npos) break;
      pos = eol + 2;
    }
  } else {
    out = body;
    if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0))
      out += "\r\n";
  }
  // Trailing empty lines are ignored by both algorithms.
  while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0)
    out.erase(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (out.empty() && !relaxed) out = "\r\n";
  return out;
}

std::string canonicalize_header(const HeaderField& field, bool relaxed) {
  if (!relaxed) return field.raw;
  std::string value = field_value(field);
  std::string unfolded;
  for (char c : value)
    if (c != '\r' && c != '\n') unfolded += c;
  unfolded = collapse_wsp(unfolded);
  if (!unfolded.empty() && unfolded.front() == ' ') unfolded.erase(0, 1);
  if (!unfolded.empty() && unfolded.back() == ' ') unfolded.pop_back();
  return lower(trim_fws(field.name)) + ":" + unfolded + "\r\n";
}

std::string signature_header_for_hash(const HeaderField& field, bool relaxed) {
  HeaderField copy = field;
  auto colon = copy.raw.find(':');
  std::size_t pos = colon == std::string::npos ? copy.raw.size() : colon + 1;
  // Find the tag named exactly "b" and empty its value (everything up to the next ';').
  while (pos < copy.raw.size()) {
    auto semi = copy.raw.find(';', pos);
    std::size_t end = semi == std::string::npos ? copy.raw.size() : semi;
    std::size_t name_start = pos;
    while (name_start < end && std::isspace(static_cast<unsigned char>(copy.raw[name_start])))
      ++name_start;
    auto eq = copy.raw.find('=', name_start);
    if (eq != std::string::npos && eq < end &&
        trim_fws(copy.raw.substr(name_start, eq - name_start)) == "b") {
      std::size_t value_end = end;
      if (semi == std::string::npos) {
        // Last tag: keep the field's final CR LF.
        while (value_end > eq + 1 &&
               (copy.raw[value_end - 1] == '\n' || copy.raw[value_end - 1] == '\r'))
          --value_end;
      }
      copy.raw.erase(eq + 1, value_end - eq - 1);
      break;
    }
    if (semi == std::string::npos) break;
    pos = semi + 1;
  }
  std::string canon = canonicalize_header(copy, relaxed);
  if (canon.size() >= 2 && canon.compare(canon.size() - 2, 2, "\r\n") == 0)
    canon.erase(canon.size() - 2);
  return canon;
}

std::vector<DkimVerdict> verify_dkim(const std::string& message, const DkimKeyLookup& lookup,
                                     std::chrono::system_clock::time_point now) {
  ParsedMessage msg = parse_message(message);
  std::vector<DkimVerdict> out;
  for (std::size_t i = 0; i < msg.headers.size(); ++i)
    if (lower(msg.headers[i].name) == "dkim-signature")
      out.push_back(verify_one(msg, i, lookup, now));
  return out;
}

}  // namespace firstboot::probe
