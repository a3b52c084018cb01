// The two-phase acquisition protocol (see behavior.h for the overview).
// Ported from verona-rt src/rt/boc/behaviourcore.h and bocpy _core.c.
#include "boc/behavior.h"

#include <algorithm>
#include <new>
#include <type_traits>

#include "boc/runtime.h"
#include "sharded_counter.h"
#include "spin.h"
#include "boc/systematic.h"

namespace boc {
namespace {
// A statistic for leak checks, read after quiescence.
// Constant-initialised and trivially destructible: usable during exit too.
constinit detail::ShardedCounter g_live_behaviors;
detail::ShardedCounter& live_behaviors() { return g_live_behaviors; }
}  // namespace

bool Request::start_enqueue(Behavior* owner, bool owned_ref) noexcept {
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

void Request::finish_enqueue() noexcept {
  BOC_SYSTEMATIC_YIELD("acquire.mark_scheduled");
  // Release: pairs with the acquire spin in a successor's start_enqueue().
  // A plain store: nobody links behind this request before the bit is set.
  link_.store(kScheduled, std::memory_order_release);
}

void Request::release() noexcept {
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

Behavior::Behavior(std::span<CownBase* const> cowns, RequestRoom room) { init_requests(cowns, true, room); }

Behavior::Behavior(std::span<CownBase* const> cowns, BorrowRefs, RequestRoom room) {
  init_requests(cowns, false, room);
}

void Behavior::init_requests(std::span<CownBase* const> cowns, bool retain, RequestRoom room) {
  owns_refs_ = retain;
  if (cowns.size() == 1 && cowns[0] != nullptr && room.capacity >= 1) {
    // The common one-cown case: nothing to sort or fold.
    count_requests_ = 1;
    requests_ = new (room.bytes) Request();
    requests_->cown_ = cowns[0];
    if (retain) cowns[0]->retain();
    pinned_ = cowns[0]->pinned();
    live_behaviors().add(1);
    return;
  }
  init_sorted_requests(cowns, retain, room);
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
  for (std::size_t i = 0; i < n; ++i) {
    new (&requests_[i]) Request();
    requests_[i].cown_ = sorted[i];
    if (retain) sorted[i]->retain();
    pinned_ = pinned_ || sorted[i]->pinned();
  }
  live_behaviors().add(1);
}

Behavior::~Behavior() {
  // Only a behavior destroyed unscheduled still has references of its own;
  // a scheduled one gave them to its cowns' queues.
  if (owns_refs_) {
    for (std::size_t i = 0; i < count_requests_; ++i) requests_[i].cown_->release_ref();
  }
  if (requests_pooled_) detail::pooled_free(requests_, count_requests_ * sizeof(Request));
  live_behaviors().add(-1);
}

std::size_t Behavior::live_count() noexcept { return static_cast<std::size_t>(live_behaviors().sum()); }

void Behavior::schedule(Runtime* rt) noexcept {
  runtime_ = rt;
  // Cleared before phase 1 publishes the behavior: from then on another thread
  // may run and delete it, and the queues own what it owned.
  const bool owned_refs = owns_refs_;
  owns_refs_ = false;
  if (count_requests_ == 1) {
    schedule_one(owned_refs);
  } else {
    schedule_many(owned_refs);
  }
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

void Behavior::schedule_one(bool owned_refs) noexcept {
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

void Behavior::resolve() noexcept {
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

void Behavior::release_all() noexcept {
  if (count_requests_ == 1) {
    requests_[0].release();
    return;
  }
  for (std::size_t i = 0; i < count_requests_; ++i) requests_[i].release();
}

}  // namespace boc
