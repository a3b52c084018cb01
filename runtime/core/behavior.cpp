// The two-phase acquisition protocol (see behavior.h for the overview).
// Ported from verona-rt src/rt/boc/behaviourcore.h and bocpy _core.c.
#include "boc/behavior.h"

#include <algorithm>
#include <new>
#include <type_traits>

#include "behavior_steps.h"
#include "boc/sharded_counter.h"

namespace boc {

bool Request::sole_holder(std::uint32_t refs) const noexcept {
  // Acquire: pairs with the acq_rel decrement of a reference dropped after
  // its owner queued a behavior behind this one (a borrowing C++ caller,
  // when.h), so the tail load below sees that exchange. Any other holder
  // still has its reference and the count is larger.
  if (cown_->refs_.load(std::memory_order_acquire) != refs + 1) return false;  // + the queue's
  // Acquire: as in release(); a successor linked or about to link is behind us.
  return next_of(link_.load(std::memory_order_acquire)) == nullptr &&
         cown_->last_.load(std::memory_order_acquire) == this;
}

bool Behavior::sole_holder_of(const CownBase* c, std::uint32_t own_refs) const noexcept {
  for (std::size_t i = 0; i < count_requests_; ++i) {
    if (requests_[i].cown_ == c) return requests_[i].sole_holder(own_refs);
  }
  return false;
}

// Out of line: keeps the one-cown path above free of this one's stack frame.
[[gnu::noinline]] void Behavior::init_sorted_requests(std::span<CownBase* const> cowns, bool retain, RequestRoom room) {
  // Sort by the global key and fold duplicates, in a stack buffer for the
  // usual small sets (no allocation besides the behavior itself).
  constexpr std::size_t kStack = 16;
  constexpr std::size_t kInsertionSortMax = 4;
  CownBase* stack[kStack];
  std::vector<CownBase*> heap;
  CownBase** sorted = stack;
  if (cowns.size() > kStack) {
    heap.resize(cowns.size());
    sorted = heap.data();
  }
  std::size_t n = 0;
  for (CownBase* c : cowns) {
    if (c != nullptr) sorted[n++] = c;
  }
  if (n > 1) {
    const auto by_id = [](const CownBase* a, const CownBase* b) { return a->id() < b->id(); };
    if (n <= kInsertionSortMax) {
      // Insertion sort: the usual 2-4 cowns, without std::sort's setup.
      for (std::size_t i = 1; i < n; ++i) {
        CownBase* c = sorted[i];
        std::size_t j = i;
        for (; j > 0 && by_id(c, sorted[j - 1]); --j) sorted[j] = sorted[j - 1];
        sorted[j] = c;
      }
    } else {
      std::sort(sorted, sorted + n, by_id);
    }
    std::size_t kept = 1;
    for (std::size_t i = 1; i < n; ++i) {
      if (sorted[i] != sorted[kept - 1]) sorted[kept++] = sorted[i];
    }
    n = kept;
  }

  count_requests_ = static_cast<std::uint32_t>(n);
  // Request is trivially destructible: neither storage needs destructor calls.
  static_assert(std::is_trivially_destructible_v<Request>);
  requests_pooled_ = n > room.capacity;
  requests_ = requests_pooled_ ? static_cast<Request*>(detail::pooled_alloc(n * sizeof(Request)))
                               : static_cast<Request*>(room.bytes);
  pinned_ = false;
  for (std::size_t i = 0; i < n; ++i) {
    new (&requests_[i]) Request(sorted[i]);
    if (retain) sorted[i]->retain();
    pinned_ = pinned_ || sorted[i]->pinned();
  }
  detail::g_live_behaviors.add(1);
}

void Behavior::release_storage() noexcept {
  // Only a behavior destroyed unscheduled still has references of its own;
  // a scheduled one gave them to its cowns' queues.
  if (owns_refs_) {
    for (std::size_t i = 0; i < count_requests_; ++i) requests_[i].cown_->release_ref();
  }
  if (requests_pooled_) detail::pooled_free(requests_, count_requests_ * sizeof(Request));
}

std::size_t Behavior::live_count() noexcept { return static_cast<std::size_t>(detail::g_live_behaviors.sum()); }

// Out of line: the one-cown completion path that inlines release_all
// (runtime.cpp) keeps a small frame without this loop.
[[gnu::noinline]] void Behavior::release_many() noexcept {
  for (std::size_t i = 0; i < count_requests_; ++i) requests_[i].release();
}

// Out of line, as init_sorted_requests.
[[gnu::noinline]] void Behavior::schedule_many(bool owned_refs) noexcept {
  Runtime* rt = runtime_;
  // Count + 1: the extra hold keeps the behavior from dispatching (and being
  // freed) while this thread is still in phase 2.
  // Starts the countdown's lifetime in the shared word (see Behavior::Wait).
  // Nobody else can see the behavior before phase 1 publishes it.
  new (&wait_.countdown) std::atomic<std::size_t>(count_requests_ + 1);
  std::size_t acquired_now = 0;
  for (std::size_t i = 0; i < count_requests_; ++i) {
    if (requests_[i].start_enqueue(this, owned_refs)) ++acquired_now;
  }
  BOC_SYSTEMATIC_YIELD("acquire.between_phases");
  for (std::size_t i = 0; i < count_requests_; ++i) requests_[i].finish_enqueue();
  // Every cown was free: no predecessor holds a pointer to this behavior, so
  // nobody else touches the countdown and it can be skipped.
  if (acquired_now == count_requests_) {
    rt->dispatch(this);
    return;
  }
  BOC_SYSTEMATIC_YIELD("countdown.schedule");
  // Fold the immediately acquired cowns and the +1 into one decrement.
  // AcqRel: the last decrementer must see every releasing predecessor's writes
  // (acquire) and publish ours (release) to whoever dispatches.
  if (wait_.countdown.fetch_sub(acquired_now + 1, std::memory_order_acq_rel) == acquired_now + 1) {
    rt->dispatch(this);
  }
}

}  // namespace boc
