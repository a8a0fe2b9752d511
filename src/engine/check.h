// A validation result: what the readiness report is made of.
#pragma once

#include <string>
#include <vector>

namespace firstboot {

enum class CheckSeverity { required, warning };
enum class CheckStatus { pass, warn, fail, skipped };

const char* to_string(CheckSeverity severity);
const char* to_string(CheckStatus status);
CheckStatus check_status_from_string(const std::string& text);
// Report order, worst first: fail 0, warn 1, skipped 2, pass 3.
int report_rank(CheckStatus status);

struct CheckResult {
  std::string id;      // "ssl.cert.mail.example.com", "mail.smtp.starttls"
  std::string module;  // "ssl"
  CheckSeverity severity = CheckSeverity::required;
  CheckStatus status = CheckStatus::pass;
  std::string detail;  // one line: what was seen
  std::string hint;    // one line: how to fix it (when not passing)
  double duration_ms = 0;
};

// A passing required check, to be filled in.
inline CheckResult make_check(std::string id, std::string module) {
  CheckResult c;
  c.id = std::move(id);
  c.module = std::move(module);
  return c;
}

// True when no required check failed (and none was skipped for a failure).
bool all_required_pass(const std::vector<CheckResult>& checks);

}  // namespace firstboot
