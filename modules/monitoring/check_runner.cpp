#include "check_runner.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <thread>

namespace firstboot {

namespace {
using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

CheckSink::CheckSink(std::vector<CheckDecl> decls)
    : decls_(std::move(decls)), done_(decls_.size(), false) {}

void CheckSink::report(const std::string& id, CheckStatus status, const std::string& detail,
                       const std::string& hint) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < decls_.size(); ++i) {
    if (decls_[i].id != id || done_[i]) continue;
    CheckResult r = make_check(id, decls_[i].module);
    r.severity = decls_[i].severity;
    r.status = status;
    if (status == CheckStatus::fail && r.severity == CheckSeverity::warning)
      r.status = CheckStatus::warn;
    r.detail = detail;
    if (status != CheckStatus::pass) r.hint = hint.empty() ? decls_[i].hint : hint;
    if (status == CheckStatus::skipped) r.hint.clear();
    results_.push_back(r);
    done_[i] = true;
    return;
  }
}

void CheckSink::pass(const std::string& id, const std::string& detail) {
  report(id, CheckStatus::pass, detail, "");
}
void CheckSink::fail(const std::string& id, const std::string& detail, const std::string& hint) {
  report(id, CheckStatus::fail, detail, hint);
}
void CheckSink::warn(const std::string& id, const std::string& detail, const std::string& hint) {
  report(id, CheckStatus::warn, detail, hint);
}
void CheckSink::skip(const std::string& id, const std::string& because) {
  report(id, CheckStatus::skipped, "skipped because " + because, "");
}

void CheckSink::skip_rest(const std::string& because) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < decls_.size(); ++i)
      if (!done_[i]) ids.push_back(decls_[i].id);
  }
  for (auto& id : ids) skip(id, because);
}

bool CheckSink::reported(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < decls_.size(); ++i)
    if (decls_[i].id == id) return done_[i];
  return false;
}

bool CheckSink::any_problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(results_.begin(), results_.end(), [](const CheckResult& r) {
    return r.status == CheckStatus::fail || r.status == CheckStatus::warn;
  });
}

std::vector<CheckResult> CheckSink::finish(const std::string& problem, bool timed_out,
                                           double probe_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string first_problem;
  for (auto& r : results_)
    if (r.status == CheckStatus::fail) {
      first_problem = r.id + " failed";
      break;
    }
  std::vector<CheckResult> out;
  bool timeout_reported = false;
  for (std::size_t i = 0; i < decls_.size(); ++i) {
    auto it = std::find_if(results_.begin(), results_.end(),
                           [&](const CheckResult& r) { return r.id == decls_[i].id; });
    if (it != results_.end()) {
      out.push_back(*it);
      out.back().duration_ms = probe_ms;
      continue;
    }
    CheckResult r = make_check(decls_[i].id, decls_[i].module);
    r.severity = decls_[i].severity;
    r.duration_ms = probe_ms;
    if (!problem.empty() && !timeout_reported && (timed_out || first_problem.empty())) {
      // The check the probe was working on when its time ran out.
      r.status = r.severity == CheckSeverity::required ? CheckStatus::fail : CheckStatus::warn;
      r.detail = problem;
      r.hint = decls_[i].hint;
      timeout_reported = true;
      first_problem = decls_[i].id + (timed_out ? " timed out" : " failed");
    } else {
      r.status = CheckStatus::skipped;
      r.detail =
          "skipped because " + (first_problem.empty() ? "it was not reached" : first_problem);
    }
    out.push_back(r);
  }
  return out;
}

namespace {

struct ProbeState {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::string error;  // an exception the probe did not handle
  Clock::time_point started, ended;
};

}  // namespace

CheckRun run_probes(std::vector<ProbeSpec> probes, probe::Deadline overall) {
  auto start = Clock::now();
  struct Running {
    ProbeSpec spec;
    std::shared_ptr<CheckSink> sink;
    std::shared_ptr<ProbeState> state;
    probe::Deadline deadline;
    std::thread thread;
  };
  std::vector<Running> running;
  running.reserve(probes.size());
  for (auto& p : probes) {
    probe::Deadline deadline = overall.within(p.timeout);
    auto sink = std::make_shared<CheckSink>(p.checks);
    auto state = std::make_shared<ProbeState>();
    state->started = Clock::now();
    auto fn = p.run;
    std::thread t([fn, deadline, sink, state] {
      std::string error;
      try {
        fn(deadline, *sink);
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "unknown error";
      }
      std::lock_guard<std::mutex> lock(state->mu);
      state->error = error;
      state->ended = Clock::now();
      state->finished = true;
      state->cv.notify_all();
    });
    running.push_back({std::move(p), sink, state, deadline, std::move(t)});
  }

  CheckRun run;
  // Probes honour their deadline in every network call; the grace covers the last read returning.
  constexpr auto kGrace = std::chrono::milliseconds(300);
  for (auto& r : running) {
    bool finished;
    {
      std::unique_lock<std::mutex> lock(r.state->mu);
      finished =
          r.state->cv.wait_until(lock, r.deadline.at() + kGrace, [&] { return r.state->finished; });
    }
    double ms = ms_between(r.state->started, finished ? r.state->ended : Clock::now());
    std::string problem;
    if (!finished) {
      problem = "timed out after " + std::to_string(static_cast<int>(ms)) + " ms";
    } else if (!r.state->error.empty()) {
      problem = r.state->error;  // the check it was on fails with the error
    }
    auto results = r.sink->finish(problem, !finished, ms);
    run.results.insert(run.results.end(), results.begin(), results.end());
    if (finished) {
      r.thread.join();
    } else {
      // It keeps only shared state alive and ends at its own deadline; do not wait for it.
      r.thread.detach();
    }
  }
  run.ms = ms_between(start, Clock::now());
  return run;
}

}  // namespace firstboot
