#include "profile/profile.h"

#include "profile/profile_loader.h"

namespace firstboot {

const char* to_string(MailMode mode) {
  switch (mode) {
    case MailMode::relay:
      return "relay";
    case MailMode::local:
      return "local";
    case MailMode::full:
      return "full";
  }
  return "unknown";
}

std::string ProfileIssue::format() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column > 0 ? column : 1);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

}  // namespace firstboot
