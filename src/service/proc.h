// What /proc says about processes and sockets (Linux only). Internal to src/service.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace firstboot::proc {

struct ProcessStat {
  pid_t pid = 0;
  std::string comm;  // without the parentheses
  char state = '?';  // R, S, D, Z, ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  std::uint64_t start_time = 0;  // field 22: clock ticks after boot; tells a reused PID apart
};

// Parses the text of /proc/PID/stat (the comm may contain spaces and parentheses).
std::optional<ProcessStat> parse_stat(const std::string& text);
std::optional<ProcessStat> read_stat(pid_t pid);
// Every process visible in /proc (bounded by what /proc lists).
std::vector<ProcessStat> all_processes();

// Processes in process group or session `id` that are not zombies.
std::vector<pid_t> live_members(pid_t id);

// The command line of a process, for messages ("master -d"); empty when unknown.
std::string command_line(pid_t pid);

struct Listener {
  std::string address;  // "127.0.0.1", "::", "0.0.0.0"
  int port = 0;
  unsigned long inode = 0;
};
// Listening TCP sockets from /proc/net/tcp and /proc/net/tcp6 on `port`.
std::vector<Listener> tcp_listeners(int port);
// Parses one /proc/net/tcp[6] table.
std::vector<Listener> parse_tcp_table(const std::string& text, bool ipv6, int port);
// Processes holding one of the socket inodes open (scans /proc/*/fd).
std::vector<pid_t> socket_holders(const std::set<unsigned long>& inodes);

}  // namespace firstboot::proc
