#include "pinned_queue.h"

namespace boc {

void PinnedQueue::push(Behavior* b) noexcept {
  BOC_SYSTEMATIC_YIELD("pinned.push");
  std::lock_guard lock(mu_);
  runnable_.push(b);
  BOC_SYSTEMATIC_YIELD("pinned.push.linked");
  if (runnable_.count == 1) {
    // An episode starts on the 0 -> 1 transition. Relaxed stores: readers
    // outside the lock only need eventually-consistent values (the watchdog
    // re-samples); the depth release below orders them for acquire readers.
    nonempty_since_ns_.store(clock_.now_ns(), std::memory_order_relaxed);
    episode_.fetch_add(1, std::memory_order_relaxed);
  }
  // Release: pairs with the acquire in depth(); publishes the episode stamp.
  depth_.store(runnable_.count, std::memory_order_release);
}

Behavior* PinnedQueue::pop() noexcept {
  BOC_SYSTEMATIC_YIELD("pinned.pop");
  std::lock_guard lock(mu_);
  Behavior* b = runnable_.pop();
  if (b == nullptr) return nullptr;
  if (runnable_.count == 0) {
    // The episode ends when a pop drains the queue; the watchdog re-arms.
    // Relaxed: see push().
    nonempty_since_ns_.store(0, std::memory_order_relaxed);
  }
  // Release: pairs with the acquire in depth().
  depth_.store(runnable_.count, std::memory_order_release);
  return b;
}

PinnedQueueState PinnedQueue::state() const noexcept {
  // Under the lock so depth, stamp and episode are one consistent snapshot.
  std::lock_guard lock(mu_);
  PinnedQueueState s;
  // Relaxed under mu_: all writers hold the lock.
  s.depth = depth_.load(std::memory_order_relaxed);
  s.nonempty_since_ns = nonempty_since_ns_.load(std::memory_order_relaxed);
  s.episode = episode_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace boc
