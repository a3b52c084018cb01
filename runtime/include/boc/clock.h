// Injectable time source for the runtime: pump deadlines and watchdog ages are
// measured on it. The steady clock is the default; a manual clock makes tests
// and the demo's scripted scenarios exact.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace boc {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time in nanoseconds; never 0 (0 means "unset" in the runtime).
  virtual std::int64_t now_ns() const noexcept = 0;
};

/// std::chrono::steady_clock, offset so that it never reads 0.
class SteadyClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override;
  static std::shared_ptr<Clock> instance();
};

/// A clock that only moves when told to. Starts at 1 ms.
class ManualClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override {
    // Acquire: pairs with the release in advance(); a reader that sees the new
    // time also sees whatever the advancing thread did before advancing.
    return now_.load(std::memory_order_acquire);
  }
  void advance(std::chrono::nanoseconds d) noexcept {
    // Release: pairs with the acquire in now_ns().
    now_.fetch_add(d.count(), std::memory_order_release);
  }
  void set(std::int64_t ns) noexcept {
    // Release: pairs with the acquire in now_ns().
    now_.store(ns, std::memory_order_release);
  }

 private:
  std::atomic<std::int64_t> now_{1'000'000};
};

}  // namespace boc
