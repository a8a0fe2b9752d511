// The check registry's engine: probes run in parallel, each bounded by its own timeout, and report
// the checks they declared. A check a probe did not reach is "skipped because <what failed>"; a
// probe that runs out of time fails the check it was working on. A problem on a warning-severity
// check is reported as warn, never fail.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "engine/check.h"
#include "probe/deadline.h"

namespace firstboot {

struct CheckDecl {
  std::string id;
  std::string module;
  CheckSeverity severity = CheckSeverity::required;
  std::string hint;  // default hint when it does not pass
};

// What a probe reports into. Thread-safe: the runner reads it while the probe may still run.
class CheckSink {
 public:
  explicit CheckSink(std::vector<CheckDecl> decls);

  void pass(const std::string& id, const std::string& detail);
  // A problem: fail for required checks, warn for warning checks. hint overrides the declared one.
  void fail(const std::string& id, const std::string& detail, const std::string& hint = "");
  // Always warn (a required check that is fine but close to a limit).
  void warn(const std::string& id, const std::string& detail, const std::string& hint = "");
  void skip(const std::string& id, const std::string& because);
  // Every check not reported yet is skipped for this reason.
  void skip_rest(const std::string& because);
  bool reported(const std::string& id) const;
  // True when any check reported so far failed (or warned on a warning check).
  bool any_problem() const;

  // The results: reported ones as they are; missing ones skipped because of the first problem.
  // `problem` (the probe timed out, or threw) fails the first missing check instead, unless the
  // probe threw after it had already reported a failure.
  std::vector<CheckResult> finish(const std::string& problem, bool timed_out,
                                  double probe_ms) const;

 private:
  void report(const std::string& id, CheckStatus status, const std::string& detail,
              const std::string& hint);
  mutable std::mutex mu_;
  std::vector<CheckDecl> decls_;
  std::vector<CheckResult> results_;  // in report order
  std::vector<bool> done_;
};

struct ProbeSpec {
  std::string name;  // for messages: "smtp 127.0.0.1:2525"
  std::vector<CheckDecl> checks;
  std::chrono::milliseconds timeout{3000};
  // Runs the probe; every network call must use the deadline it is given.
  std::function<void(probe::Deadline, CheckSink&)> run;
};

struct CheckRun {
  std::vector<CheckResult> results;  // in probe declaration order
  double ms = 0;
};

// Runs every probe in its own thread; returns when all finished or ran out of time (each probe's
// timeout, never later than `overall`).
CheckRun run_probes(std::vector<ProbeSpec> probes, probe::Deadline overall);

}  // namespace firstboot
