#include "mail_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <vector>

namespace firstboot {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of "key=" up to the next ", " (or the end).
std::string field(const std::string& line, const std::string& key, std::size_t from) {
  auto pos = line.find(" " + key + "=", from);
  if (pos == std::string::npos) pos = line.find(", " + key + "=", from);
  if (pos == std::string::npos) return "";
  pos = line.find('=', pos) + 1;
  auto end = line.find(", ", pos);
  return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace

std::optional<DeliveryLine> parse_delivery_line(const std::string& line) {
  auto to = line.find(": to=<");
  if (to == std::string::npos || line.find("postfix") == std::string::npos) return std::nullopt;
  auto status_pos = line.find(" status=", to);
  if (status_pos == std::string::npos) return std::nullopt;
  DeliveryLine d;
  // The queue id is the word before ": to=<", after "]: ".
  auto id_start = line.rfind(' ', to);
  if (id_start == std::string::npos) return std::nullopt;
  d.queue_id = line.substr(id_start + 1, to - id_start - 1);
  if (d.queue_id.empty() || !std::all_of(d.queue_id.begin(), d.queue_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c));
      }))
    return std::nullopt;
  auto rcpt_end = line.find('>', to + 6);
  if (rcpt_end == std::string::npos) return std::nullopt;
  d.recipient = line.substr(to + 6, rcpt_end - to - 6);
  d.relay = field(line, "relay", rcpt_end);
  std::size_t s = status_pos + 8;
  std::size_t e = s;
  while (e < line.size() && std::isalpha(static_cast<unsigned char>(line[e]))) ++e;
  d.status = line.substr(s, e - s);
  auto open = line.find('(', e);
  if (open != std::string::npos) {
    auto close = line.rfind(')');
    d.reason =
        line.substr(open + 1, close != std::string::npos && close > open ? close - open - 1
                                                                         : std::string::npos);
  }
  if (d.status.empty()) return std::nullopt;
  return d;
}

void scan_mail_log(const std::filesystem::path& file, DeliveryCounts& counts,
                   std::size_t max_bytes) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;
  auto inode = static_cast<std::uint64_t>(st.st_ino);
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (inode != counts.inode || size < counts.offset) {
    counts.inode = inode;
    counts.offset = 0;
  }
  if (size == counts.offset) return;
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(counts.offset));
  std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(size - counts.offset, max_bytes));
  std::string data(want, '\0');
  in.read(data.data(), static_cast<std::streamsize>(want));
  data.resize(static_cast<std::size_t>(in.gcount()));
  auto last_nl = data.rfind('\n');
  if (last_nl == std::string::npos) {
    // A single line longer than the window: skip it rather than stall forever.
    if (data.size() == max_bytes) counts.offset += data.size();
    return;
  }
  std::size_t pos = 0;
  while (pos <= last_nl) {
    auto nl = data.find('\n', pos);
    std::string line = data.substr(pos, nl - pos);
    pos = nl + 1;
    auto d = parse_delivery_line(line);
    if (!d) continue;
    auto at = d->recipient.rfind('@');
    std::string domain = at == std::string::npos ? "(local)" : lower(d->recipient.substr(at + 1));
    ++counts.by_domain[domain][d->status];
  }
  counts.offset += last_nl + 1;
}

std::optional<DeliveryLine> find_delivery(const std::filesystem::path& file,
                                          const std::string& queue_id, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in || queue_id.empty()) return std::nullopt;
  auto size = static_cast<std::size_t>(in.tellg());
  std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string data(size - start, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  std::optional<DeliveryLine> last;
  std::size_t pos = 0;
  std::string needle = " " + queue_id + ": to=<";
  while ((pos = data.find(needle, pos)) != std::string::npos) {
    auto line_start = data.rfind('\n', pos);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    auto line_end = data.find('\n', pos);
    auto d = parse_delivery_line(data.substr(line_start, line_end - line_start));
    if (d && d->queue_id == queue_id) last = d;
    pos += needle.size();
  }
  return last;
}

}  // namespace firstboot
