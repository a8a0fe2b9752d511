#include "service/proc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/error.h"
#include "service/readiness.h"
#include "service/service_test_util.h"
#include "service/supervisor.h"

namespace firstboot {
namespace {

TEST(Proc, ParsesStatWithAnAwkwardCommandName) {
  std::string text =
      "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 "
      "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto st = proc::parse_stat(text);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->comm, "a) b (c)");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->pgrp, 1234);
  EXPECT_EQ(st->session, 1234);
  EXPECT_EQ(st->start_time, 987654u);
  EXPECT_FALSE(proc::parse_stat("garbage"));
  EXPECT_FALSE(proc::parse_stat("12 (x) S 1 2"));
}

TEST(Proc, ReadsItself) {
  auto st = proc::read_stat(getpid());
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, getpid());
  EXPECT_GT(st->start_time, 0u);
  EXPECT_FALSE(proc::read_stat(0));
}

TEST(Proc, ParsesTcpTables) {
  std::string v4 =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
      "inode\n"
      "   0: 0100007F:09C5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "5555 1 0000000000000000 100 0 0 10 0\n"
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "6666 1 0000000000000000 100 0 0 10 0\n"
      "   2: 0100007F:09C5 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
      "7777 1 0000000000000000 100 0 0 10 0\n";
  auto l = proc::parse_tcp_table(v4, false, 2501);
  ASSERT_EQ(l.size(), 1u);  // the established connection is not a listener
  EXPECT_EQ(l[0].address, "127.0.0.1");
  EXPECT_EQ(l[0].inode, 5555u);
  auto any = proc::parse_tcp_table(v4, false, 0);
  ASSERT_EQ(any.size(), 2u);
  EXPECT_EQ(any[1].address, "0.0.0.0");
  EXPECT_EQ(any[1].port, 22);
  std::string v6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 8888 1 0000000000000000 100 0 0 10 "
      "0\n";
  auto l6 = proc::parse_tcp_table(v6, true, 25);
  ASSERT_EQ(l6.size(), 1u);
  EXPECT_EQ(l6[0].address, "::1");
}

TEST(PortInUse, NamesTheHolder) {
  int port = testing::free_port();
  EXPECT_FALSE(port_in_use("127.0.0.1", port));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto msg = port_in_use("127.0.0.1", port);
  ASSERT_TRUE(msg);
  EXPECT_EQ(*msg, "port " + std::to_string(port) + " on 127.0.0.1 is in use by pid " +
                      std::to_string(getpid()) + " (" + proc::read_stat(getpid())->comm + ")");
  EXPECT_TRUE(port_in_use("0.0.0.0", port));     // a wildcard bind would collide
  EXPECT_FALSE(port_in_use("127.0.0.2", port));  // another loopback address is free
  EXPECT_EQ(port_holders("127.0.0.1", port), std::vector<pid_t>{getpid()});
  ::close(fd);
  EXPECT_FALSE(port_in_use("127.0.0.1", port));
}

TEST(Probe, RefusedAndUnresolvable) {
  std::string why;
  EXPECT_FALSE(probe_accepts(ReadinessProbe::tcp("127.0.0.1", testing::free_port()),
                             std::chrono::milliseconds(200), &why));
  EXPECT_NE(why.find("refused"), std::string::npos) << why;
  EXPECT_FALSE(probe_accepts(ReadinessProbe::tcp("127.0.0.1", 0), std::chrono::milliseconds(50)));
  EXPECT_FALSE(probe_accepts(ReadinessProbe::unix_socket("/nonexistent/sock"),
                             std::chrono::milliseconds(50), &why));
}

}  // namespace
}  // namespace firstboot
