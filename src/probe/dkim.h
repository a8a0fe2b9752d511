// DKIM verification (RFC 6376) of a received message: rsa-sha256 and ed25519-sha256 (RFC 8463),
// simple and relaxed canonicalization, public keys looked up in DNS through a callback.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace firstboot::probe {

struct HeaderField {
  std::string name;  // as written
  std::string raw;   // the whole field as received: "Name: value\r\n\tcontinued\r\n"
};

struct ParsedMessage {
  std::vector<HeaderField> headers;  // top to bottom
  std::string body;                  // after the empty line, CR LF line endings
};

// Splits a message into header fields and body; bare LF line endings become CR LF.
ParsedMessage parse_message(const std::string& message);

// "a=rsa-sha256; d=example.com" -> {a: rsa-sha256, d: example.com}; whitespace around tags and
// values is removed (and inside b=, bh= and p=). Throws ProbeError on a malformed list.
std::map<std::string, std::string> parse_tag_list(const std::string& text);

std::string canonicalize_body(const std::string& body, bool relaxed);
std::string canonicalize_header(const HeaderField& field, bool relaxed);
// The DKIM-Signature field with its b= value removed, canonicalized, without the final CR LF.
std::string signature_header_for_hash(const HeaderField& field, bool relaxed);

// Returns the TXT records at a name ("mail._domainkey.example.com"); throws on lookup failure.
using DkimKeyLookup = std::function<std::vector<std::string>(const std::string& name)>;

struct DkimVerdict {
  std::string domain;     // d=
  std::string selector;   // s=
  std::string algorithm;  // a=
  bool verified = false;
  std::string detail;  // "verified" or why not, one line
};

// One verdict per DKIM-Signature field, top to bottom. No signature: an empty vector.
std::vector<DkimVerdict> verify_dkim(const std::string& message, const DkimKeyLookup& lookup,
                                     std::chrono::system_clock::time_point now);

}  // namespace firstboot::probe
