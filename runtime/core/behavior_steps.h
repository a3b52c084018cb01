// The per-behavior steps of the two-phase acquisition (behavior.h has the
// overview), inline: Runtime::schedule_owned and run_on_worker
// (runtime/core/runtime.cpp) and schedule_many (behavior.cpp) include them,
// so scheduling and completing a one-cown behavior is one call frame each
// instead of four (peer_schedule per behavior, cachegrind: 339 instructions
// and 71 stores this way, 363 and 76 with the steps out of line).
// Ported from verona-rt src/rt/boc/behaviourcore.h and bocpy _core.c.
#pragma once

#include "boc/behavior.h"
#include "boc/runtime.h"
#include "boc/systematic.h"
#include "spin.h"

namespace boc {

inline bool Request::start_enqueue(Behavior* owner, bool owned_ref) noexcept {
  // AcqRel: the release half publishes this request's initialisation to the
  // successor that will read and then write `link_`; the acquire half
  // pairs with the predecessor's release (exchange or CAS in release()) so we
  // see the cown's state as the previous holder left it.
  BOC_SYSTEMATIC_YIELD("acquire.exchange");
  Request* prev = cown_->last_.exchange(this, std::memory_order_acq_rel);
  if (prev == nullptr) {
    // The queue was empty: it now needs its reference (see behavior.h).
    if (!owned_ref) cown_->retain();
    return true;
  }
  // The queue already holds one, and keeps it until after this request is
  // released, so dropping ours cannot free the cown.
  if (owned_ref) cown_->release_ref();
  // Do not link behind a behavior that has not finished its phase 1: it may
  // still be enqueuing on lower-ordered cowns, and linking early could let a
  // successor overtake it there. The wait is bounded by that phase 1.
  detail::SpinWait spin("acquire.wait_predecessor_scheduled");
  // Acquire: pairs with the release store in finish_enqueue().
  while ((prev->link_.load(std::memory_order_acquire) & kScheduled) == 0) spin.once();
  BOC_SYSTEMATIC_YIELD("acquire.link");
  // Release: pairs with the acquire loads of link_ in release(). Only this
  // thread writes prev's link now (the scheduled bit is set and stays).
  prev->link_.store(reinterpret_cast<std::uintptr_t>(owner) | kScheduled, std::memory_order_release);
  return false;
}

inline void Request::finish_enqueue() noexcept {
  BOC_SYSTEMATIC_YIELD("acquire.mark_scheduled");
  // Release: pairs with the acquire spin in a successor's start_enqueue().
  // A plain store: nobody links behind this request before the bit is set.
  link_.store(kScheduled, std::memory_order_release);
}

inline void Request::release() noexcept {
  BOC_SYSTEMATIC_YIELD("release.load_next");
  // Acquire: pairs with the release store in a successor's start_enqueue().
  Behavior* next = next_of(link_.load(std::memory_order_acquire));
  if (next == nullptr) {
    Request* expected = this;
    BOC_SYSTEMATIC_YIELD("release.cas_tail");
    // AcqRel on success: release publishes the body's writes to the next
    // behavior that exchanges onto the empty queue. Acquire on failure: we
    // will read the successor's link below.
    if (cown_->last_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel, std::memory_order_acquire)) {
      cown_->release_ref();  // the emptied queue's reference (see behavior.h)
      return;
    }
    // A successor swapped itself in but has not linked yet; it will shortly.
    detail::SpinWait spin("release.wait_successor_link");
    // Acquire: pairs with the release store in the successor's start_enqueue().
    while ((next = next_of(link_.load(std::memory_order_acquire))) == nullptr) spin.once();
  }
  BOC_SYSTEMATIC_YIELD("release.resolve_next");
  next->resolve();
}

inline void Behavior::schedule(Runtime* rt) noexcept {
  runtime_ = rt;
  // Cleared before phase 1 publishes the behavior: from then on another thread
  // may run and delete it, and the queues own what it owned.
  const bool owned_refs = owns_refs_;
  if (owned_refs) owns_refs_ = false;
  if (count_requests_ == 1) {
    schedule_one(owned_refs);
  } else {
    schedule_many(owned_refs);
  }
}

inline void Behavior::schedule_one(bool owned_refs) noexcept {
  // One cown: there is no other cown to finish enqueuing on, so the request
  // counts as scheduled (successors may link behind it) from the start, and
  // linking behind the predecessor is this thread's last touch of the
  // behavior: the predecessor's release() dispatches it with no countdown.
  Request& r = requests_[0];
  // Relaxed: published by the acq_rel exchange in start_enqueue().
  r.link_.store(Request::kScheduled, std::memory_order_relaxed);
  BOC_SYSTEMATIC_YIELD("acquire.one_cown");
  if (r.start_enqueue(this, owned_refs)) runtime_->dispatch(this);
}

inline void Behavior::resolve() noexcept {
  // A one-cown behavior has a single predecessor, the caller: nothing to count.
  // (count_requests_ was written before the link that led here, see
  // start_enqueue(), and release() read that link with acquire.)
  if (count_requests_ == 1) {
    runtime_->dispatch(this);
    return;
  }
  BOC_SYSTEMATIC_YIELD("countdown.resolve");
  // AcqRel: see schedule(); the releasing predecessor's body writes reach the
  // thread that dispatches and runs this behavior.
  if (wait_.countdown.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    runtime_->dispatch(this);
  }
}

inline void Behavior::release_all() noexcept {
  if (count_requests_ == 1) {
    requests_[0].release();
    return;
  }
  release_many();
}

}  // namespace boc
