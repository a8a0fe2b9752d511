#include "engine/check.h"

#include <algorithm>

namespace firstboot {

const char* to_string(CheckSeverity severity) {
  return severity == CheckSeverity::required ? "required" : "warning";
}

const char* to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::pass:
      return "pass";
    case CheckStatus::warn:
      return "warn";
    case CheckStatus::fail:
      return "fail";
    case CheckStatus::skipped:
      return "skipped";
  }
  return "?";
}

CheckStatus check_status_from_string(const std::string& text) {
  if (text == "pass") return CheckStatus::pass;
  if (text == "warn") return CheckStatus::warn;
  if (text == "skipped") return CheckStatus::skipped;
  return CheckStatus::fail;
}

bool all_required_pass(const std::vector<CheckResult>& checks) {
  return std::none_of(checks.begin(), checks.end(), [](const CheckResult& c) {
    return c.severity == CheckSeverity::required && c.status == CheckStatus::fail;
  });
}

int report_rank(CheckStatus status) {
  switch (status) {
    case CheckStatus::fail:
      return 0;
    case CheckStatus::warn:
      return 1;
    case CheckStatus::skipped:
      return 2;
    case CheckStatus::pass:
      return 3;
  }
  return 4;
}

}  // namespace firstboot
