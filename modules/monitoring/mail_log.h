// Reading Postfix's mail log (maillog_file, or syslog's mail.log): delivery results per recipient
// domain for the metrics, and the fate of one queued message for the relay check.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace firstboot {

struct DeliveryLine {
  std::string queue_id;
  std::string recipient;  // "alice@example.com"
  std::string status;     // "sent", "deferred", "bounced", "expired"
  std::string relay;      // "smtp.provider.example[192.0.2.1]:587", "dovecot", "none"
  std::string reason;     // the text in parentheses after status=
};

// One log line -> a delivery result, when it is one.
std::optional<DeliveryLine> parse_delivery_line(const std::string& line);

// Counts by recipient domain and status; survives log rotation (a counter never goes down).
struct DeliveryCounts {
  std::map<std::string, std::map<std::string, std::uint64_t>> by_domain;
  std::uint64_t inode = 0;   // of the file last read
  std::uint64_t offset = 0;  // bytes of it consumed (always at a line end)
};

// Adds the lines written since the last scan (at most max_bytes per call, whole lines only). A
// new inode or a shorter file is a rotated log: reading starts over at its beginning.
void scan_mail_log(const std::filesystem::path& file, DeliveryCounts& counts,
                   std::size_t max_bytes = 32u << 20);

// The last delivery line for a queue id within the last max_bytes of the log.
std::optional<DeliveryLine> find_delivery(const std::filesystem::path& file,
                                          const std::string& queue_id,
                                          std::size_t max_bytes = 4u << 20);

}  // namespace firstboot
