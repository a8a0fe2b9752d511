#include "service/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace firstboot::proc {

namespace {

std::string read_small_file(const std::string& path, std::size_t limit = 1 << 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string out;
  char buf[4096];
  while (out.size() < limit && in.read(buf, sizeof buf), in.gcount() > 0)
    out.append(buf, static_cast<std::size_t>(in.gcount()));
  return out;
}

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

std::vector<pid_t> list_pids() {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc");
  if (!dir) return out;
  while (dirent* e = readdir(dir))
    if (all_digits(e->d_name)) out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  closedir(dir);
  return out;
}

// "0100007F:0A1B" -> address text and port.
bool parse_address(const std::string& field, bool ipv6, std::string& address, int& port) {
  auto colon = field.find(':');
  if (colon == std::string::npos) return false;
  std::string hex = field.substr(0, colon);
  port = static_cast<int>(std::strtol(field.c_str() + colon + 1, nullptr, 16));
  char text[INET6_ADDRSTRLEN] = {};
  if (!ipv6) {
    if (hex.size() != 8) return false;
    in_addr a{};
    // The kernel prints the address as a native-endian 32-bit word.
    a.s_addr = static_cast<std::uint32_t>(std::strtoul(hex.c_str(), nullptr, 16));
    if (!inet_ntop(AF_INET, &a, text, sizeof text)) return false;
  } else {
    if (hex.size() != 32) return false;
    in6_addr a{};
    for (int word = 0; word < 4; ++word) {
      auto w =
          static_cast<std::uint32_t>(std::strtoul(hex.substr(word * 8, 8).c_str(), nullptr, 16));
      std::memcpy(&a.s6_addr[word * 4], &w, 4);
    }
    if (!inet_ntop(AF_INET6, &a, text, sizeof text)) return false;
  }
  address = text;
  return true;
}

}  // namespace

std::optional<ProcessStat> parse_stat(const std::string& text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  ProcessStat st;
  st.pid = static_cast<pid_t>(std::atol(text.substr(0, open).c_str()));
  st.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  // Fields after comm start at field 3 (state).
  std::vector<std::string> fields;
  std::string f;
  while (fields.size() < 20 && rest >> f) fields.push_back(f);
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  st.state = fields[0][0];
  st.ppid = static_cast<pid_t>(std::atol(fields[1].c_str()));
  st.pgrp = static_cast<pid_t>(std::atol(fields[2].c_str()));
  st.session = static_cast<pid_t>(std::atol(fields[3].c_str()));
  st.start_time = std::strtoull(fields[19].c_str(), nullptr, 10);  // field 22
  if (st.pid <= 0) return std::nullopt;
  return st;
}

std::optional<ProcessStat> read_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::string text = read_small_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (text.empty()) return std::nullopt;
  return parse_stat(text);
}

std::vector<ProcessStat> all_processes() {
  std::vector<ProcessStat> out;
  for (pid_t pid : list_pids())
    if (auto st = read_stat(pid)) out.push_back(*st);
  return out;
}

std::vector<pid_t> live_members(pid_t id) {
  std::vector<pid_t> out;
  if (id <= 1) return out;  // never treat init's group or "no group" as ours
  for (auto& st : all_processes())
    if ((st.pgrp == id || st.session == id) && st.state != 'Z' && st.state != 'X')
      out.push_back(st.pid);
  return out;
}

std::string command_line(pid_t pid) {
  std::string raw = read_small_file("/proc/" + std::to_string(pid) + "/cmdline", 4096);
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw)
    if (c == '\0') c = ' ';
  return raw;
}

std::vector<Listener> parse_tcp_table(const std::string& text, bool ipv6, int port) {
  std::vector<Listener> out;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode))
      continue;
    if (state != "0A") continue;  // TCP_LISTEN
    Listener l;
    if (!parse_address(local, ipv6, l.address, l.port)) continue;
    if (port != 0 && l.port != port) continue;
    l.inode = std::strtoul(inode.c_str(), nullptr, 10);
    out.push_back(l);
  }
  return out;
}

std::vector<Listener> tcp_listeners(int port) {
  auto v4 = parse_tcp_table(read_small_file("/proc/net/tcp", 16 << 20), false, port);
  auto v6 = parse_tcp_table(read_small_file("/proc/net/tcp6", 16 << 20), true, port);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

std::vector<pid_t> socket_holders(const std::set<unsigned long>& inodes) {
  std::vector<pid_t> out;
  if (inodes.empty()) return out;
  for (pid_t pid : list_pids()) {
    std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = opendir(fd_dir.c_str());
    if (!dir) continue;
    bool holds = false;
    while (dirent* e = readdir(dir)) {
      if (!all_digits(e->d_name)) continue;
      char target[64] = {};
      std::string link = fd_dir + "/" + e->d_name;
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0 || std::strncmp(target, "socket:[", 8) != 0) continue;
      unsigned long inode = std::strtoul(target + 8, nullptr, 10);
      if (inodes.count(inode)) {
        holds = true;
        break;
      }
    }
    closedir(dir);
    if (holds) out.push_back(pid);
  }
  return out;
}

}  // namespace firstboot::proc
