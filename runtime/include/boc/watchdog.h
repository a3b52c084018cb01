// Starvation watchdog for the pinned (main-thread) queue. Off until
// configured. Warns once per non-empty episode when the queue has been
// non-empty for at least warn_ms; re-arms when the queue drains. It only
// observes: it never throws and never changes scheduling.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "boc/clock.h"
#include "boc/systematic.h"

namespace boc {

struct StarvationReport {
  std::int64_t age_ms = 0;    ///< how long the pinned queue has been non-empty
  std::size_t depth = 0;      ///< behaviors waiting in it
  std::uint64_t episode = 0;  ///< which non-empty stretch this is (1, 2, ...)
  bool from_monitor = false;  ///< sampled by the monitor thread, not at pump() entry
  std::string message;        ///< bocpy's message text
};

/// "pinned-cown queue non-empty for <age_ms> ms with no pump() progress (depth=<depth>)"
std::string format_starvation_message(std::int64_t age_ms, std::size_t depth);

/// What the watchdog samples: the pinned queue's state.
struct PinnedQueueState {
  std::size_t depth = 0;
  std::int64_t nonempty_since_ns = 0;  ///< 0 when empty
  std::uint64_t episode = 0;           ///< increments on every 0 -> 1 transition
};

class Watchdog {
 public:
  using Sink = std::function<void(const StarvationReport&)>;
  using Probe = std::function<PinnedQueueState()>;

  Watchdog(std::shared_ptr<Clock> clock, Probe probe);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Enables (warn set) or disables (nullopt) the watchdog and replaces the
  /// sink (null = the default sink, which writes the message to stderr).
  /// While enabled, a monitor thread samples every `monitor_period`, so a
  /// main loop that stops calling pump() is reported while it is wedged.
  /// A zero period means no monitor: samples happen only at pump() entry
  /// and explicit sample() calls (deterministic scenarios use this).
  void configure(std::optional<std::chrono::milliseconds> warn, Sink sink = nullptr,
                 std::chrono::milliseconds monitor_period = std::chrono::milliseconds(20));

  std::optional<std::chrono::milliseconds> warn_threshold() const;

  /// Samples now (pump() entry calls this). Returns true if it reported.
  bool sample(bool from_monitor = false) noexcept;

  /// Sink calls that threw (they are swallowed).
  std::uint64_t sink_failures() const noexcept {
    // Relaxed: a statistic; no other data depends on it.
    return sink_failures_.load(std::memory_order_relaxed);
  }
  std::uint64_t reports() const noexcept {
    // Relaxed: a statistic; no other data depends on it.
    return reports_.load(std::memory_order_relaxed);
  }

  /// Samples the monitor thread has taken so far (tests wait on it instead of sleeping).
  std::uint64_t monitor_samples() const noexcept {
    // Relaxed: a statistic; no other data depends on it.
    return monitor_samples_.load(std::memory_order_relaxed);
  }

  /// Stops the monitor thread (idempotent). Called at runtime shutdown.
  void stop() noexcept;

 private:
  void monitor_loop();

  std::shared_ptr<Clock> clock_;
  Probe probe_;

  mutable detail::Mutex mu_;  // guards the configuration and the episode flag
  std::int64_t warn_ns_ = 0;  // 0 = disabled
  std::shared_ptr<Sink> sink_;
  std::uint64_t reported_episode_ = 0;
  std::chrono::milliseconds monitor_period_{20};
  // Relaxed reads on the pump() fast path; written under mu_. A stale read
  // only delays a report to the next sample.
  std::atomic<bool> enabled_{false};

  std::atomic<std::uint64_t> sink_failures_{0};
  std::atomic<std::uint64_t> reports_{0};
  std::atomic<std::uint64_t> monitor_samples_{0};

  detail::Mutex monitor_mu_;
  detail::CondVar monitor_cv_;
  bool monitor_stop_ = false;
  detail::Thread monitor_;
};

}  // namespace boc
