// One error type that carries context upward; the top level prints it once.
#pragma once

#include <stdexcept>
#include <string>

namespace firstboot {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// errno as text, for messages like "writing /etc/x: Permission denied".
std::string errno_text(int err);

}  // namespace firstboot
