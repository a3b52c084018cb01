// A FIFO of runnable behaviors linked through Behavior::wait_.queue_next (the
// word a dispatched behavior no longer needs for its countdown; see
// boc/behavior.h): a worker's private and shared run queues
// (runtime/core/worker_pool.h) and the main thread's pinned queue
// (runtime/core/pinned_queue.h). Not synchronised: each owner guards its own.
#pragma once

#include <cstddef>

#include "boc/behavior.h"

namespace boc::detail {

struct BehaviorList {
  Behavior* head = nullptr;
  Behavior* tail = nullptr;
  std::size_t count = 0;

  void push(Behavior* b) noexcept {
    b->wait_.queue_next = nullptr;
    if (tail != nullptr) {
      tail->wait_.queue_next = b;
    } else {
      head = b;
    }
    tail = b;
    ++count;
  }

  /// The oldest behavior, or nullptr.
  Behavior* pop() noexcept {
    Behavior* b = head;
    if (b == nullptr) return nullptr;
    head = b->wait_.queue_next;
    if (head == nullptr) tail = nullptr;
    --count;
    return b;
  }

  /// Moves the first n behaviors (n <= count) to the end of `to`, in order.
  void move_front(std::size_t n, BehaviorList& to) noexcept {
    if (n == 0) return;
    Behavior* first = head;
    Behavior* last = head;
    for (std::size_t i = 1; i < n; ++i) last = last->wait_.queue_next;
    head = last->wait_.queue_next;
    if (head == nullptr) tail = nullptr;
    count -= n;
    last->wait_.queue_next = nullptr;
    if (to.tail != nullptr) {
      to.tail->wait_.queue_next = first;
    } else {
      to.head = first;
    }
    to.tail = last;
    to.count += n;
  }
};

}  // namespace boc::detail
