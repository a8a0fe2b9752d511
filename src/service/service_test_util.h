// Helpers for the service tests: free loopback ports and tiny Python daemons.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace firstboot::testing {

// A loopback port that was free a moment ago (the kernel's ephemeral range, high ports).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A TCP server on 127.0.0.1:PORT that prints "reloaded" on SIGHUP and "listening" once bound.
inline std::vector<std::string> python_tcp_server(int port, double delay_before_listen = 0) {
  return {"/usr/bin/python3", "-c",
          "import signal, socket, sys, time\n"
          "signal.signal(signal.SIGHUP, lambda *a: print('reloaded', flush=True))\n"
          "time.sleep(float(sys.argv[2]))\n"
          "s = socket.socket()\n"
          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
          "s.listen(16)\n"
          "print('listening', flush=True)\n"
          "while True:\n"
          "    c, _ = s.accept()\n"
          "    c.close()\n",
          std::to_string(port), std::to_string(delay_before_listen)};
}

// Waits (bounded) until pred() holds.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace firstboot::testing
