// Every record a mail domain needs, built from the profile plus what only the run knows (the
// mail host's addresses, DKIM public keys, verification tokens). Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "profile/profile.h"

namespace firstboot::dns {

inline constexpr int kDefaultTtl = 3600;

struct ZoneRecord {
  std::string name;  // owner relative to the zone: "@", "mail", "_dmarc", or absolute "x.org."
  std::string type;  // "SOA", "NS", "A", "AAAA", "MX", "CNAME", "TXT", "CAA", "SRV", "DS"
  int ttl = kDefaultTtl;
  std::string value;          // presentation value; TXT unquoted and unsplit ("v=spf1 mx -all")
  std::string purpose;        // "spf", "dkim rsa-2048 (selector mail)", ... for the checklist
  bool in_zone = true;        // false: belongs in the parent zone (DS)
  bool at_registrar = false;  // the person must enter it at the registrar / DNS provider

  bool operator==(const ZoneRecord&) const = default;
};

struct DomainRecords {
  std::string domain;
  std::string serve;                // bind | nsd | none
  std::string verification_token;   // "" when not known yet (plan before the first run)
  std::uint32_t serial = 0;         // YYYYMMDDnn
  std::string content_sha256;       // of the zone text with serial 0: changes mean a new serial
  std::vector<ZoneRecord> records;  // SOA first
  std::vector<std::string> notes;   // what the person should know (unknown address, ...)
  std::string mta_sts_policy;       // the policy file body ("" when MTA-STS is not published)
};

struct DkimPublicKey {
  std::string domain;
  std::string selector;   // "mail", "mail-ed25519"
  std::string algorithm;  // "rsa-2048", "ed25519"
  std::string txt;        // "v=DKIM1; k=rsa; p=..."; "" when the key does not exist yet
};

// What the builder cannot derive from the profile alone.
struct RecordInputs {
  std::string ipv4;  // the mail host's public addresses, canonical; "" when unknown
  std::string ipv6;
  std::string address_source;  // "profile", "sandbox", "detected on eth0", "" (unknown)
  std::map<std::string, std::string> verification_tokens;  // domain -> token
  std::vector<DkimPublicKey> dkim;
  Ports ports;  // the ports the SRV records announce
};

// Every domain's records, in profile order. Serial and content hash are left 0/"".
// Throws Error when a value cannot be published safely.
std::vector<DomainRecords> build_records(const Profile& profile, const RecordInputs& inputs);

// The single values, exposed for tests and the docs.
std::string spf_value(const Profile& profile);
std::string dmarc_value(const Domain& domain);
std::string tls_rpt_value(const Profile& profile, const Domain& domain);
// The MTA-STS policy (RFC 8461 3.2) and its id: the id is derived from the policy text, so it
// changes exactly when the policy changes.
std::string mta_sts_policy(const Profile& profile);
std::string mta_sts_id(const std::string& policy);
std::string mta_sts_mode(const Profile& profile);
// The CA domain for CAA "issue" from the TLS settings; "" when none should be published, with
// the reason in *why.
std::string caa_issuer(const TlsSettings& tls, std::string* why);

// Sets at_registrar/in_zone for how the domain is served (none: everything but SOA/NS is entered
// at the DNS provider; bind/nsd: the delegation NS, its glue addresses and DS).
void place_records(DomainRecords& records);

// The next SOA serial (YYYYMMDDnn) after previous for a change made on date yyyymmdd.
std::uint32_t next_serial(std::uint32_t previous, std::uint32_t yyyymmdd);
// Today's date (UTC) as YYYYMMDD.
std::uint32_t today_yyyymmdd();

// The SOA rdata: "mname rname serial refresh retry expire minimum".
std::string soa_value(const std::string& primary_ns, const std::string& admin_email,
                      std::uint32_t serial);
// Replaces the serial in a domain's SOA record.
void set_serial(DomainRecords& records, std::uint32_t serial);

// Checks one record's value for its type (names, numbers, quoting); "" when it is safe.
std::string record_problem(const ZoneRecord& record);

}  // namespace firstboot::dns
