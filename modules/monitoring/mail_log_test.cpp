#include "mail_log.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/test_support.h"
#include "mail_queue.h"

namespace firstboot {
namespace {

// Recorded from Postfix 3.7 (maillog_file) in the sandbox and from syslog on a real host.
const char* kSent =
    "Oct  1 10:00:01 mail postfix/lmtp[2211]: 4XyZ1abcDEf: to=<alice@example.com>, "
    "relay=mail.example.com[/run/dovecot/lmtp], delay=0.05, delays=0.01/0/0.01/0.03, dsn=2.0.0, "
    "status=sent (250 2.0.0 <alice@example.com> kKx3AQ Saved)";
const char* kDeferred =
    "2024-10-01T10:00:02.123456+00:00 mail postfix/smtp[2212]: 4XyZ2bcdEFg: "
    "to=<bob@gmail.com>, relay=smtp.provider.example[192.0.2.10]:587, delay=1.2, "
    "delays=0.1/0/1/0, dsn=4.7.0, status=deferred (SASL authentication failed; server "
    "smtp.provider.example[192.0.2.10] said: 535 5.7.8 Error: authentication failed)";
const char* kBounced =
    "Oct  1 10:00:03 mail postfix/smtp[2213]: 4XyZ3cdeFGh: to=<nobody@example.net>, "
    "relay=mx.example.net[198.51.100.1]:25, delay=0.3, delays=0/0/0.1/0.2, dsn=5.1.1, "
    "status=bounced (host mx.example.net[198.51.100.1] said: 550 5.1.1 No such user)";
const char* kOther = "Oct  1 10:00:00 mail postfix/qmgr[2200]: 4XyZ1abcDEf: from=<a@b>, size=400";

TEST(MailLogTest, ParsesDeliveryLines) {
  auto sent = parse_delivery_line(kSent);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->queue_id, "4XyZ1abcDEf");
  EXPECT_EQ(sent->recipient, "alice@example.com");
  EXPECT_EQ(sent->status, "sent");
  EXPECT_EQ(sent->relay, "mail.example.com[/run/dovecot/lmtp]");
  auto deferred = parse_delivery_line(kDeferred);
  ASSERT_TRUE(deferred);
  EXPECT_EQ(deferred->status, "deferred");
  EXPECT_NE(deferred->reason.find("SASL authentication failed"), std::string::npos);
  EXPECT_EQ(deferred->relay, "smtp.provider.example[192.0.2.10]:587");
  EXPECT_EQ(parse_delivery_line(kBounced)->status, "bounced");
  EXPECT_FALSE(parse_delivery_line(kOther));
  EXPECT_FALSE(parse_delivery_line("garbage"));
}

void append(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::app);
  out << text;
}

TEST(MailLogTest, CountsIncrementallyAndSurvivesRotation) {
  firstboot::testing::ScratchDir dir;
  auto log = dir / "mail.log";
  append(log, std::string(kOther) + "\n" + kSent + "\n" + kDeferred + "\n");
  DeliveryCounts counts;
  scan_mail_log(log, counts);
  EXPECT_EQ(counts.by_domain["example.com"]["sent"], 1u);
  EXPECT_EQ(counts.by_domain["gmail.com"]["deferred"], 1u);
  // Nothing new: nothing counted twice.
  scan_mail_log(log, counts);
  EXPECT_EQ(counts.by_domain["example.com"]["sent"], 1u);
  // A half-written line waits for its end.
  append(log, std::string(kBounced).substr(0, 40));
  scan_mail_log(log, counts);
  EXPECT_EQ(counts.by_domain.count("example.net"), 0u);
  append(log, std::string(kBounced).substr(40) + "\n");
  scan_mail_log(log, counts);
  EXPECT_EQ(counts.by_domain["example.net"]["bounced"], 1u);
  // Rotation: a new file; counters keep going up.
  std::filesystem::rename(log, dir / "mail.log.1");
  append(log, std::string(kSent) + "\n");
  scan_mail_log(log, counts);
  EXPECT_EQ(counts.by_domain["example.com"]["sent"], 2u);
}

TEST(MailLogTest, FindsTheLastLineOfOneMessage) {
  firstboot::testing::ScratchDir dir;
  auto log = dir / "mail.log";
  std::string first = kDeferred;
  std::string later = first;
  later.replace(later.find("status=deferred"), 15, "status=sent    ");
  append(log, first + "\n" + kSent + "\n" + later + "\n");
  auto d = find_delivery(log, "4XyZ2bcdEFg");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, "sent");
  EXPECT_FALSE(find_delivery(log, "NOPE"));
  EXPECT_FALSE(find_delivery(dir / "missing.log", "4XyZ2bcdEFg"));
}

TEST(MailQueueTest, CountsFilesPerQueueAndTheOldest) {
  firstboot::testing::ScratchDir dir;
  auto q = dir.path();
  std::filesystem::create_directories(q / "deferred/A");
  std::filesystem::create_directories(q / "active");
  std::filesystem::create_directories(q / "incoming");
  append(q / "deferred/A/ABC123", "x");
  append(q / "deferred/A/ABC124", "x");
  append(q / "active/DEF456", "x");
  auto old = std::filesystem::last_write_time(q / "active/DEF456") - std::chrono::hours(2);
  std::filesystem::last_write_time(q / "deferred/A/ABC123", old);
  auto stats = read_queue(q, std::chrono::system_clock::now());
  EXPECT_TRUE(stats.readable);
  EXPECT_EQ(stats.total, 3u);
  EXPECT_EQ(stats.messages["deferred"], 2u);
  EXPECT_EQ(stats.messages["active"], 1u);
  EXPECT_EQ(stats.messages["hold"], 0u);
  EXPECT_GT(stats.oldest_age_seconds, 7000);
  EXPECT_FALSE(read_queue(q / "missing", std::chrono::system_clock::now()).readable);
  EXPECT_TRUE(read_queue(q, std::chrono::system_clock::now(), 2).truncated);
}

}  // namespace
}  // namespace firstboot
