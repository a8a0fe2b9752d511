#include "probe/dkim.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probe/dns.h"
#include "probe/test_server.h"

namespace firstboot::probe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> fixture_keys() {
  auto j = nlohmann::json::parse(read(testing::testdata_dir() / "dkim" / "keys.json"));
  return j.get<std::map<std::string, std::string>>();
}

DkimKeyLookup lookup_in(std::map<std::string, std::string> keys) {
  return [keys](const std::string& name) -> std::vector<std::string> {
    auto it = keys.find(name);
    if (it == keys.end()) return {};
    return {it->second};
  };
}

std::string fixture(const std::string& name) {
  return read(testing::testdata_dir() / "dkim" / (name + ".eml"));
}

// RFC 6376 section 3.4.6, the canonicalization example.
TEST(DkimCanonicalizationTest, Rfc6376Example) {
  ParsedMessage m = parse_message("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n");
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(canonicalize_header(m.headers[0], true), "a:X\r\n");
  EXPECT_EQ(canonicalize_header(m.headers[1], true), "b:Y Z\r\n");
  EXPECT_EQ(canonicalize_body(m.body, true), " C\r\nD E\r\n");
  EXPECT_EQ(canonicalize_header(m.headers[1], false), "B : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(canonicalize_body(m.body, false), " C \r\nD \t E\r\n");
}

TEST(DkimCanonicalizationTest, EmptyBodies) {
  EXPECT_EQ(canonicalize_body("", false), "\r\n");
  EXPECT_EQ(canonicalize_body("\r\n\r\n", false), "\r\n");
  EXPECT_EQ(canonicalize_body("", true), "");
  EXPECT_EQ(canonicalize_body(" \r\n\t\r\n", true), "");
  EXPECT_EQ(canonicalize_body("no newline", false), "no newline\r\n");
  EXPECT_EQ(canonicalize_body("no newline ", true), "no newline\r\n");
}

TEST(DkimCanonicalizationTest, SignatureValueIsRemoved) {
  HeaderField f{"DKIM-Signature", "DKIM-Signature: v=1; bh=abc; b=sig\r\n nature; d=x\r\n"};
  EXPECT_EQ(signature_header_for_hash(f, false), "DKIM-Signature: v=1; bh=abc; b=; d=x");
  EXPECT_EQ(signature_header_for_hash(f, true), "dkim-signature:v=1; bh=abc; b=; d=x");
  HeaderField last{"DKIM-Signature", "DKIM-Signature: v=1; b=abc\r\n def\r\n"};
  EXPECT_EQ(signature_header_for_hash(last, false), "DKIM-Signature: v=1; b=");
}

TEST(DkimTagListTest, ParsesAndRefuses) {
  auto t = parse_tag_list(" v=1; a = rsa-sha256;\r\n b=ab\r\n cd ; ");
  EXPECT_EQ(t["v"], "1");
  EXPECT_EQ(t["a"], "rsa-sha256");
  EXPECT_EQ(t["b"], "abcd");
  EXPECT_THROW(parse_tag_list("v=1; v=2"), ProbeError);
  EXPECT_THROW(parse_tag_list("v"), ProbeError);
}

class DkimFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DkimFixtureTest, VerifiesWhatDkimpySigned) {
  auto verdicts = verify_dkim(fixture(GetParam()), lookup_in(fixture_keys()), Clock::now());
  ASSERT_FALSE(verdicts.empty());
  for (auto& v : verdicts) {
    EXPECT_TRUE(v.verified) << GetParam() << ": " << v.detail;
    EXPECT_EQ(v.domain, "example.com");
  }
}

INSTANTIATE_TEST_SUITE_P(Dkimpy, DkimFixtureTest,
                         ::testing::Values("rsa-relaxed-relaxed", "rsa-simple-simple",
                                           "rsa-relaxed-simple", "ed25519-relaxed-relaxed",
                                           "ed25519-simple-simple", "dual"));

TEST(DkimVerifyTest, DualSignatureHasBothAlgorithms) {
  auto verdicts = verify_dkim(fixture("dual"), lookup_in(fixture_keys()), Clock::now());
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(verdicts[1].algorithm, "rsa-sha256");
}

TEST(DkimVerifyTest, BareLfMessagesVerifyLikeCrLf) {
  std::string msg = fixture("rsa-relaxed-relaxed");
  std::string lf;
  for (std::size_t i = 0; i < msg.size(); ++i)
    if (!(msg[i] == '\r' && i + 1 < msg.size() && msg[i + 1] == '\n')) lf += msg[i];
  auto v = verify_dkim(lf, lookup_in(fixture_keys()), Clock::now());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].verified) << v[0].detail;
}

TEST(DkimVerifyTest, TamperingIsDetected) {
  for (std::string name : {"rsa-relaxed-relaxed", "ed25519-relaxed-relaxed", "rsa-simple-simple"}) {
    std::string msg = fixture(name);
    std::string body = msg;
    body.replace(body.find("Hello Bob"), 9, "Hello Eve");
    auto v = verify_dkim(body, lookup_in(fixture_keys()), Clock::now());
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FALSE(v[0].verified);
    EXPECT_NE(v[0].detail.find("body hash mismatch"), std::string::npos) << v[0].detail;

    std::string header = msg;
    header.replace(header.find("To: bob@"), 8, "To: eve@");
    v = verify_dkim(header, lookup_in(fixture_keys()), Clock::now());
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FALSE(v[0].verified);
    EXPECT_NE(v[0].detail.find("does not verify"), std::string::npos) << v[0].detail;
  }
}

TEST(DkimVerifyTest, SimpleHeadersAreStrictRelaxedAreNot) {
  std::string simple = fixture("rsa-simple-simple");
  simple.replace(simple.find("To: bob@"), 8, "To:  bob@");
  EXPECT_FALSE(verify_dkim(simple, lookup_in(fixture_keys()), Clock::now())[0].verified);
  std::string relaxed = fixture("rsa-relaxed-relaxed");
  relaxed.replace(relaxed.find("To: bob@"), 8, "TO:   bob@");
  auto v = verify_dkim(relaxed, lookup_in(fixture_keys()), Clock::now());
  EXPECT_TRUE(v[0].verified) << v[0].detail;
}

TEST(DkimVerifyTest, KeyProblems) {
  auto keys = fixture_keys();
  std::string msg = fixture("rsa-relaxed-relaxed");
  auto v = verify_dkim(msg, lookup_in({}), Clock::now());
  EXPECT_NE(v[0].detail.find("no key record at rsa._domainkey.example.com"), std::string::npos);

  auto revoked = keys;
  revoked["rsa._domainkey.example.com"] = "v=DKIM1; k=rsa; p=";
  EXPECT_NE(verify_dkim(msg, lookup_in(revoked), Clock::now())[0].detail.find("revoked"),
            std::string::npos);

  // The Ed25519 key published where the RSA key should be.
  auto swapped = keys;
  swapped["rsa._domainkey.example.com"] = keys["ed._domainkey.example.com"];
  EXPECT_FALSE(verify_dkim(msg, lookup_in(swapped), Clock::now())[0].verified);

  // A corrupted key: one character of p= changed.
  auto corrupt = keys;
  std::string& rec = corrupt["rsa._domainkey.example.com"];
  rec[rec.size() - 10] = rec[rec.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_dkim(msg, lookup_in(corrupt), Clock::now())[0].verified);

  auto failing = [](const std::string&) -> std::vector<std::string> {
    throw std::runtime_error("timed out");
  };
  EXPECT_NE(verify_dkim(msg, failing, Clock::now())[0].detail.find("key lookup failed"),
            std::string::npos);
}

TEST(DkimVerifyTest, UnsignedMessageHasNoVerdicts) {
  EXPECT_TRUE(verify_dkim("From: a@b\r\n\r\nhi\r\n", lookup_in({}), Clock::now()).empty());
}

TEST(DkimVerifyTest, KeysFromARealDnsServer) {
  firstboot::probe::testing::write_text(std::filesystem::current_path() / "dkim-zone.json", [] {
    nlohmann::json zone;
    for (auto& [name, value] : fixture_keys()) {
      // Split into 200-byte strings, as a zone file would.
      std::string rdata;
      for (std::size_t i = 0; i < value.size(); i += 200)
        rdata += "\"" + value.substr(i, 200) + "\" ";
      zone[name + "."]["TXT"] = {rdata};
    }
    return zone.dump();
  }());
  testing::TestServer server({(testing::testdata_dir() / "dns_server.py").string(), "--zone",
                              (std::filesystem::current_path() / "dkim-zone.json").string()});
  DnsServer ns{"127.0.0.1", server.port()};
  auto lookup = [&](const std::string& name) {
    auto a = dns_query(ns, name, "TXT", Deadline::in(3s));
    return a.records;
  };
  for (auto& v : verify_dkim(fixture("dual"), lookup, Clock::now()))
    EXPECT_TRUE(v.verified) << v.detail;
  std::filesystem::remove(std::filesystem::current_path() / "dkim-zone.json");
}

}  // namespace
}  // namespace firstboot::probe
