// Behaviors and the two-phase acquisition protocol.
//
// A behavior names a request set of cowns and runs once it holds all of them.
// Ported from verona-rt (src/rt/boc/behaviourcore.h) and bocpy (_core.c,
// BehaviorCapsule_schedule): requests are sorted by one global key (the cown
// id) with duplicates folded; phase 1 exchanges each request onto its cown's
// queue tail in that order and links behind the predecessor; phase 2 marks
// every request scheduled; the countdown starts at cowns + 1 and the extra one
// is dropped after phase 2, so whoever reaches zero dispatches. No behavior can
// overtake another on a shared cown, and the global order makes cycles (hence
// deadlock) impossible.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "boc/pooled.h"
#include "boc/sharded_counter.h"

#include "boc/cown.h"

namespace boc {

class Runtime;

namespace detail {
struct BehaviorList;
// Live Behavior objects (leak checks in tests, Behavior::live_count). Here so
// the constructor and destructor of a one-cown behavior are inline in when.h.
// Constant-initialised and trivially destructible: usable during exit too.
inline constinit ShardedCounter g_live_behaviors;
}  // namespace detail

/// How a behavior body ended.
enum class BodyOutcome {
  kOk,     ///< returned normally
  kError,  ///< raised an ordinary error (Python: Exception); captured on its result cown
  kFatal,  ///< raised a fatal error (Python: BaseException only); propagates out of pump()
};

struct BodyResult {
  BodyOutcome outcome = BodyOutcome::kOk;
  /// The error, for kError/kFatal; pump() hands it to its caller.
  std::exception_ptr error;
};

/// One cown in a behavior's request set: a node of that cown's request queue.
/// A cown's queue owns one reference to the cown while it is not empty (as in
/// verona-rt's behaviourcore.h): the request that finds the queue empty gives
/// it (the behavior's own, or a new one), the release that empties it drops
/// it. Behaviors queued behind it, or running at its head, need none.
class Request {
 public:
  explicit Request(CownBase* cown) noexcept : cown_(cown) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  CownBase* cown() const noexcept { return cown_; }

 private:
  friend class Behavior;

  // The inline steps are defined in runtime/core/behavior_steps.h.
  /// Phase 1: append to the cown's queue. True if the cown was free.
  /// `owned_ref`: the behavior owns a reference to hand to the queue.
  inline bool start_enqueue(Behavior* owner, bool owned_ref) noexcept;
  /// Phase 2: predecessors may now link behind this request.
  inline void finish_enqueue() noexcept;
  /// Hands the cown to the next waiting behavior, or frees it.
  inline void release() noexcept;
  /// While this request holds its cown: true if `refs` references and the
  /// queue's are all there are and nobody waits behind (see sole_holder_of).
  bool sole_holder(std::uint32_t refs) const noexcept;

  // Bit 0 of link_: set in phase 2; successors wait for it before linking.
  static constexpr std::uintptr_t kScheduled = 1;
  static Behavior* next_of(std::uintptr_t link) noexcept { return reinterpret_cast<Behavior*>(link & ~kScheduled); }

  CownBase* cown_ = nullptr;
  // The behavior queued behind this request on the same cown, and the
  // scheduled bit (kScheduled) in the same word: a request is 16 bytes, so a
  // one-cown behavior with a small body fits one cache line (when.h).
  // Behaviors are cache-line aligned (boc/pooled.h), so bit 0 is free.
  std::atomic<std::uintptr_t> link_{0};
};

/// Room for a behavior's requests inside the behavior: a subclass lists
/// InlineRequests<N> as a base before Behavior (so it is built first) and
/// passes room() to Behavior's constructor; request sets that do not fit
/// (after duplicates are folded) get a pooled array instead.
struct RequestRoom {
  void* bytes = nullptr;
  std::size_t capacity = 0;
};

template <std::size_t N>
class InlineRequests {
 protected:
  InlineRequests() = default;
  RequestRoom room() noexcept { return {bytes_, N}; }

 private:
  // Raw storage: Behavior constructs only the requests in use (zeroing all of
  // them showed in peer_schedule's profile).
  alignas(Request) unsigned char bytes_[N * sizeof(Request)];
};

/// A unit of work over a request set. Subclasses supply the body. The runtime
/// owns a scheduled behavior and deletes it after its requests are released.
// Allocated from the runtime's per-thread pools (boc/pooled.h).
class Behavior : public detail::Pooled {
 public:
  Behavior(const Behavior&) = delete;
  Behavior& operator=(const Behavior&) = delete;
  // Inline: see init_requests.
  virtual ~Behavior() {
    if (owns_refs_ || requests_pooled_) [[unlikely]]
      release_storage();
    detail::g_live_behaviors.add(-1);
  }

  /// Runs the body; every requested cown is held. Called exactly once, on a
  /// worker thread, or on the pumping main thread when pinned().
  virtual BodyResult run() = 0;

  /// Called instead of run() when the runtime shuts down with this behavior
  /// still queued for the main thread: the body never runs, and the result
  /// must say why (reason is "behavior drained at shutdown without executing").
  virtual void cancel(std::string_view reason) = 0;

  /// True iff any requested cown is pinned: the behavior runs on the main thread.
  bool pinned() const noexcept { return pinned_; }

  /// The distinct cowns of the request set, in acquisition (id) order.
  std::size_t request_count() const noexcept { return count_requests_; }
  CownBase* request_cown(std::size_t i) const noexcept { return requests_[i].cown(); }

  /// Number of live Behavior objects in the process (leak checks in tests).
  static std::size_t live_count() noexcept;

  /// While this behavior runs: true if nothing can acquire `c` (one of its
  /// cowns) again once it is released, because `own_refs` references kept
  /// for this behavior and the queue's own are all that refer to it and no
  /// behavior waits behind this one. Its value can then be dropped instead of
  /// handed on (PyBehavior: a fresh cown's last behavior). False when unsure.
  bool sole_holder_of(const CownBase* c, std::uint32_t own_refs) const noexcept;

 protected:
  /// `cowns` may contain duplicates and nullptrs (ignored). Each distinct cown
  /// is retained until the behavior is scheduled, when the reference goes to
  /// the cown's queue (see `Request`), or until it is destroyed unscheduled.
  explicit Behavior(std::span<CownBase* const> cowns, RequestRoom room = {}) { init_requests(cowns, true, room); }

  /// Tag: the behavior takes no reference of its own; the caller keeps every
  /// cown alive until schedule() has returned (when.h: the arguments outlive
  /// the call; PyBehavior: its spec holds them for the behavior's lifetime).
  /// Saves a retain/release pair per cown on every behavior.
  struct BorrowRefs {};
  Behavior(std::span<CownBase* const> cowns, BorrowRefs, RequestRoom room = {}) { init_requests(cowns, false, room); }

 private:
  friend class Request;
  friend class Runtime;
  friend struct detail::BehaviorList;

  /// The two-phase enqueue; dispatches through `rt` when ready.
  inline void schedule(Runtime* rt) noexcept;
  inline void schedule_one(bool owned_refs) noexcept;
  void schedule_many(bool owned_refs) noexcept;
  /// Drops one from the countdown; the thread that reaches zero dispatches.
  inline void resolve() noexcept;
  /// Releases every request (hand-off to successors).
  inline void release_all() noexcept;
  void release_many() noexcept;
  // Inline (with the destructor): a one-cown behavior is built and freed
  // without a call into the core library (peer_schedule: 79 of its ~340
  // instructions per behavior were the out-of-line constructor, destructor
  // and their frames). Larger sets are sorted out of line.
  void init_requests(std::span<CownBase* const> cowns, bool retain, RequestRoom room) {
    owns_refs_ = retain;
    if (cowns.size() == 1 && cowns[0] != nullptr && room.capacity >= 1) {
      // The common one-cown case: nothing to sort or fold.
      count_requests_ = 1;
      requests_pooled_ = false;
      requests_ = new (room.bytes) Request(cowns[0]);
      if (retain) cowns[0]->retain();
      pinned_ = cowns[0]->pinned();
      detail::g_live_behaviors.add(1);
      return;
    }
    init_sorted_requests(cowns, retain, room);
  }
  void init_sorted_requests(std::span<CownBase* const> cowns, bool retain, RequestRoom room);
  /// The destructor's rare part: references still owned, a pooled request array.
  void release_storage() noexcept;

  // 40 bytes with the vtable pointer: a one-cown when_detached behavior with
  // an 8-byte body is 64 (one pool class and one cache line, when.h).
  // peer_schedule keeps 256 behaviors in flight on one worker: at 128 bytes
  // each it missed L1 2.1 times per behavior, at 64 bytes 0.34 (cachegrind).
  // Each field is written once by the constructor (init_requests), none by
  // a default initializer first: the one-cown path is a handful of stores.
  // Set by schedule(); nothing reads it before.
  Runtime* runtime_;
  // In the subclass's RequestRoom, or a pooled array (requests_pooled_).
  Request* requests_;
  std::uint32_t count_requests_;
  bool pinned_;
  // Holds a reference per request until schedule() hands them to the queues.
  bool owns_refs_;
  bool requests_pooled_;
  // A behavior first waits for its cowns (the countdown, multi-cown sets
  // only) and then, dispatched, in a run queue (the intrusive link of the
  // worker and pinned queues, runtime/core/behavior_list.h): never both, so
  // they share a word. The countdown is last touched by the decrement that
  // reaches zero and dispatches; the queues write the link only after that.
  union Wait {
    // No member is active until schedule_many() starts the countdown or a
    // queue writes the link.
    Wait() noexcept {}
    std::atomic<std::size_t> countdown;
    Behavior* queue_next;
  } wait_;
};

}  // namespace boc
