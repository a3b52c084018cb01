// The main-thread queue of runnable pinned behaviors (bocpy's MAIN_PINNED_QUEUE).
// Multi-producer (any thread whose resolve() dispatches), single consumer
// (the pumping thread). Tracks depth and the start of the current non-empty
// episode for the watchdog.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "boc/behavior.h"
#include "boc/clock.h"
#include "boc/systematic.h"
#include "boc/watchdog.h"
#include "behavior_list.h"

namespace boc {

class PinnedQueue {
 public:
  explicit PinnedQueue(Clock& clock) : clock_(clock) {}

  void push(Behavior* b) noexcept;
  /// Oldest behavior or nullptr.
  Behavior* pop() noexcept;

  std::size_t depth() const noexcept {
    // Acquire: pairs with the release stores in push()/pop(); a reader that
    // sees depth > 0 will find the node when it takes the lock.
    return depth_.load(std::memory_order_acquire);
  }
  PinnedQueueState state() const noexcept;

 private:
  Clock& clock_;
  mutable detail::Mutex mu_;
  detail::BehaviorList runnable_;  // guarded by mu_
  // Written under mu_, read lock-free by the watchdog monitor and diagnostics;
  // depth_ mirrors runnable_.count.
  std::atomic<std::size_t> depth_{0};
  std::atomic<std::int64_t> nonempty_since_ns_{0};
  std::atomic<std::uint64_t> episode_{0};
};

}  // namespace boc
