// A point in time every network operation of a probe must finish by. Probes pass one deadline
// down through every call, so a check can never hang longer than its timeout.
#pragma once

#include <algorithm>
#include <chrono>

namespace firstboot::probe {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline in(std::chrono::milliseconds ms) { return Deadline(Clock::now() + ms); }

  Clock::time_point at() const { return at_; }
  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, at least 0, at most INT_MAX/2 (for poll()).
  int remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
  }
  // The earlier of this deadline and now + ms.
  Deadline within(std::chrono::milliseconds ms) const {
    return Deadline(std::min(at_, Clock::now() + ms));
  }

 private:
  Clock::time_point at_;
};

}  // namespace firstboot::probe
