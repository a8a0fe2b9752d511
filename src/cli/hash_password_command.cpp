// `firstboot hash-password`: reads a password without echo (twice on a terminal, once from a pipe)
// and prints its yescrypt hash for a profile's password_hash.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "commands.h"
#include "crypto/password_hash.h"
#include "engine/error.h"

namespace firstboot::cli {

namespace {

constexpr std::size_t kMaxPassword = 1024;

// Reads one line from stdin; with echo off when stdin is a terminal.
std::string read_password_line(const char* prompt, bool tty) {
  struct termios saved {};
  if (tty) {
    std::cerr << prompt << std::flush;
    if (tcgetattr(STDIN_FILENO, &saved) == 0) {
      struct termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (!got && line.empty()) throw Error("no password given");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > kMaxPassword) throw Error("the password is longer than 1024 characters");
  return line;
}

}  // namespace

int hash_password_command() {
  bool tty = isatty(STDIN_FILENO) == 1;
  std::string password = read_password_line("Password: ", tty);
  if (password.empty()) {
    std::cerr << "firstboot: error: empty password\n";
    return 2;
  }
  if (tty && read_password_line("Again: ", tty) != password) {
    std::cerr << "firstboot: error: the passwords differ\n";
    return 2;
  }
  std::cout << hash_password(password) << "\n";
  return 0;
}

}  // namespace firstboot::cli
