#include "engine/error.h"

#include <cstring>

namespace firstboot {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (may not use buf).
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace firstboot
