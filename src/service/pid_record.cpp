#include "service/pid_record.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/error.h"
#include "service/proc.h"

namespace firstboot {

namespace fs = std::filesystem;
using nlohmann::json;

void check_service_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 128 && name.front() != '.' && name.front() != '-';
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '@'))
      ok = false;
  if (!ok)
    throw Error("invalid service name '" + name +
                "': use letters, digits, '-', '_', '.', '@' (at most 128, not starting with '.' "
                "or '-')");
}

std::string spec_digest(const ServiceSpec& spec) {
  json j = {{"argv", spec.argv}, {"env", spec.env}};
  std::string text = j.dump();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw Error("sha256 failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

fs::path PidRecords::path_of(const std::string& name) const {
  check_service_name(name);
  return dir_ / (name + ".json");
}

void PidRecords::save(const PidRecord& r) const {
  json j = {{"name", r.name},
            {"pid", r.pid},
            {"pgid", r.pgid},
            {"start_time", r.start_time},
            {"argv", r.argv},
            {"spec_digest", r.spec_digest},
            {"started_at", r.started_at},
            {"output", r.output},
            {"stop_timeout_ms", r.stop_timeout_ms}};
  std::string text = j.dump(2) + "\n";
  fs::path target = path_of(r.name);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error("creating " + dir_.string() + ": " + ec.message());
  fs::path tmp = dir_ / ("." + r.name + ".json.tmp" + std::to_string(getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("writing " + tmp.string() + ": " + errno_text(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("writing " + tmp.string() + ": " + errno_text(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error("writing " + tmp.string() + ": " + errno_text(err));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error("renaming " + tmp.string() + " to " + target.string() + ": " + errno_text(err));
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::optional<PidRecord> PidRecords::load(const std::string& name, std::string* why) const {
  fs::path p = path_of(name);
  std::ifstream in(p);
  if (!in) return std::nullopt;
  try {
    json j = json::parse(in);
    PidRecord r;
    r.name = j.at("name").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.pgid = j.at("pgid").get<pid_t>();
    r.start_time = j.at("start_time").get<std::uint64_t>();
    r.argv = j.at("argv").get<std::vector<std::string>>();
    r.spec_digest = j.at("spec_digest").get<std::string>();
    r.started_at = j.at("started_at").get<std::int64_t>();
    r.output = j.at("output").get<std::string>();
    if (j.contains("stop_timeout_ms"))
      r.stop_timeout_ms = j.at("stop_timeout_ms").get<std::int64_t>();
    if (r.stop_timeout_ms < 0 || r.stop_timeout_ms > 3600000) r.stop_timeout_ms = 10000;
    // The process backend always starts a daemon as the leader of its own session and group:
    // a record saying otherwise was not written by us and must not steer kill(-pgid).
    if (r.name != name || r.pid <= 1 || r.pgid != r.pid) throw Error("inconsistent fields");
    return r;
  } catch (const std::exception& e) {
    if (why) *why = p.string() + ": unreadable PID record (" + e.what() + ")";
    return std::nullopt;
  }
}

void PidRecords::remove(const std::string& name) const {
  std::error_code ec;
  fs::remove(path_of(name), ec);
}

std::vector<std::string> PidRecords::names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (file.size() <= 5 || file.front() == '.' || file.substr(file.size() - 5) != ".json")
      continue;
    out.push_back(file.substr(0, file.size() - 5));
  }
  std::sort(out.begin(), out.end());
  return out;
}

RecordLock::RecordLock(const PidRecords& records, const std::string& name,
                       std::chrono::milliseconds bound) {
  check_service_name(name);
  std::error_code ec;
  fs::create_directories(records.dir(), ec);
  if (ec) throw Error("creating " + records.dir().string() + ": " + ec.message());
  fs::path path = records.dir() / ("." + name + ".lock");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("opening " + path.string() + ": " + errno_text(errno));
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if ((errno != EWOULDBLOCK && errno != EINTR) || std::chrono::steady_clock::now() >= deadline) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      throw Error("service " + name + ": another firstboot process is starting or stopping it (" +
                  path.string() + " stayed locked: " + errno_text(err) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

RecordLock::~RecordLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

bool record_process_alive(const PidRecord& record) {
  auto st = proc::read_stat(record.pid);
  return st && st->start_time == record.start_time && st->state != 'Z' && st->state != 'X';
}

}  // namespace firstboot
