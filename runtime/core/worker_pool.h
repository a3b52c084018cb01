// The worker pool: N threads, each with a private FIFO of the behaviors it
// dispatched itself and a shared, locked queue that other threads push to and
// steal from; parking after a short bounded spin.
//
// A worker's own dispatches (a released cown's successor, a body's when())
// go to its private list without any atomic operation. The newest of them
// waits in a one-behavior slot (verona-rt's next_work, bocpy's "pending")
// that queues behind the list, so a worker runs its own dispatches in order.
// Only while some worker is idle does the owner move work to its shared
// queue, where the idle one steals it: the slot if it holds a behavior (a
// producer's next step, which then makes its children on the other worker),
// else half of the list. Sharing costs a lock only when there is someone to
// share with, or when behaviors are long enough (kLongPops) that the lock is
// cheap beside them: then an owner keeps half of what waits in its list in
// the shared queue, so a worker that runs out steals it at once instead of
// waiting for the owner's current behavior to end.
// Pushes from other threads go to a shared queue, round-robin.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "boc/behavior.h"
#include "boc/runtime.h"
#include "boc/systematic.h"
#include "behavior_list.h"

namespace boc {

class WorkerPool;
namespace detail {
// The pool the current thread works for, and its index there.
inline thread_local constinit const WorkerPool* tl_pool = nullptr;
inline thread_local constinit std::size_t tl_index = 0;
}  // namespace detail

class WorkerPool {
 public:
  using Hook = std::function<void(std::size_t)>;

  static constexpr std::size_t kNotAWorker = static_cast<std::size_t>(-1);

  /// Workers run behaviors through rt.run_on_worker() and call
  /// rt.on_worker_idle() each time they run out of work after having run
  /// something (the terminator check); direct calls, no std::function.
  /// on_idle (may be empty) runs each time a worker runs out of work after
  /// running something, before the terminator check, the spin and parking.
  WorkerPool(Runtime& rt, std::size_t workers, Hook on_start, Hook on_stop, Hook on_idle,
             std::chrono::microseconds spin);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// `worker` is current_worker() of the calling thread. Inline: a worker's
  /// own dispatch (a released cown's successor) is a few plain stores.
  void push(Behavior* b, std::size_t worker) noexcept {
    BOC_SYSTEMATIC_YIELD("pool.push");
    if (worker == kNotAWorker) {
      push_remote(b);
      return;
    }
    // The owner runs its private work itself, so no wake-up is needed;
    // find_work shares it when another worker is idle. The newest dispatch
    // takes the pending slot and the one it displaces queues behind the rest.
    Worker& w = *workers_[worker];
    if (w.pending != nullptr) {
      w.pushed_local.bump();
      w.local.push(w.pending);
    } else {
      w.dispatched_to_pending.bump();
    }
    w.pending = b;
  }
  /// Lets the workers finish what is queued, runs on_stop on each worker
  /// thread and joins them. Idempotent.
  void stop() noexcept;

  std::size_t size() const noexcept { return workers_.size(); }
  /// Per-worker counters (exact once the pool is quiet).
  std::vector<WorkerStats> stats() const;
  bool on_worker_thread() const noexcept { return detail::tl_pool == this; }
  /// The calling thread's index in this pool, or kNotAWorker.
  std::size_t current_worker() const noexcept { return detail::tl_pool == this ? detail::tl_index : kNotAWorker; }

 private:
  // A statistic written by one thread at a time: a relaxed load and store
  // (no read-modify-write). Readers only need eventual values.
  struct Stat {
    std::atomic<std::uint64_t> v{0};
    void bump() noexcept { v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
    void set(std::uint64_t x) noexcept { v.store(x, std::memory_order_relaxed); }
    std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
  };

  using List = detail::BehaviorList;

  struct alignas(64) Worker {
    // An owner with private work looks at its own shared queue first every
    // this many pops, so remote pushes are not starved by a long private chain.
    static constexpr unsigned kSharedCheckPeriod = 61;
    // Pops are "long" when kSharedCheckPeriod of them took more than this
    // (1 µs each on average), measured at the periodic check.
    static constexpr std::chrono::nanoseconds kLongPops{kSharedCheckPeriod * 1000};
    // Owner only.
    Behavior* pending = nullptr;  // the newest own dispatch: runs after the list
    List local;
    unsigned pops_to_shared_check = kSharedCheckPeriod;  // pops until the next periodic look at shared
    bool long_pops = false;                              // see kLongPops
    std::chrono::steady_clock::time_point last_check{};  // the last periodic check
    Stat pushed_local;
    Stat dispatched_to_pending;
    Stat popped_local;
    Stat popped_via_steal;
    Stat batch_resets;
    Stat steal_attempts;
    Stat steal_failures;
    Stat last_steal_attempt_ns;  // a time, stored with set() (same relaxed rule as Stat)
    Stat shares;
    Stat parked;
    // Shared part: its own cache lines.
    alignas(64) detail::Mutex mu;
    List shared;             // guarded by mu
    Stat pushed_remote;      // written under mu
    Stat enqueue_contended;  // written under mu
    Stat dequeue_contended;  // written under mu
    // shared.count, readable without mu. Stores are seq_cst (Dekker pair with
    // sleepers_, see push_shared) and made under mu.
    std::atomic<std::size_t> shared_count{0};
  };

  /// Locks mu; counts in `contended` a lock another thread held.
  static void lock_counting(detail::Mutex& mu, Stat& contended) noexcept;
  void worker_main(std::size_t index);
  /// A push from a thread that is not one of the workers: a shared queue, round-robin.
  void push_remote(Behavior* b) noexcept;
  /// Appends behaviors to worker `index`'s shared queue and wakes a sleeper.
  void push_shared(std::size_t index, List& batch, bool remote) noexcept;
  /// The same for one behavior.
  void push_shared(std::size_t index, Behavior* b, bool remote) noexcept;
  /// Moves part of the caller's private list to its shared queue when another
  /// worker is idle.
  void share(Worker& self, std::size_t index) noexcept;
  Behavior* take_shared(std::size_t victim, Worker& self, bool steal) noexcept;
  Behavior* find_work(std::size_t self) noexcept;
  Behavior* find_work_slow(std::size_t self, Worker& w) noexcept;
  /// Work only the owner runs: its pending slot or its private list.
  static bool has_private(const Worker& w) noexcept { return w.pending != nullptr || w.local.count > 0; }
  /// Takes the caller's next private behavior (`pending` or the list's head;
  /// there is one) and shares part of the rest when another worker is idle.
  Behavior* pop_private(Worker& w, std::size_t self) noexcept;
  /// The list had its turn, or work came from elsewhere: `pending` (if any)
  /// waits behind the list.
  static void requeue_pending(Worker& w) noexcept;
  bool any_shared_work() const noexcept;

  /// How long every worker stays idle before the pools' surplus goes back:
  /// longer than the gap between a run's last behavior and its Runtime's
  /// stop, shorter than the demo's idle time between two frames' tiles.
  static constexpr std::chrono::milliseconds kReleaseAfterIdle{2};

  Runtime& rt_;
  Hook on_start_;
  Hook on_stop_;
  Hook on_idle_;
  std::chrono::microseconds spin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<detail::Thread> threads_;

  // Workers that are out of work (spinning or parked). Relaxed: a hint that
  // decides when an owner shares its private work; never needed for safety.
  alignas(64) std::atomic<std::size_t> idle_{0};
  // Workers parked or about to park. Seq_cst (Dekker with shared_count): a
  // pusher that does not see a sleeper is seen by that sleeper's final check.
  alignas(64) std::atomic<std::size_t> sleepers_{0};
  std::atomic<std::size_t> round_robin_{0};
  detail::Mutex park_mu_;
  detail::CondVar park_cv_;
  bool stop_ = false;  // guarded by park_mu_
  bool stopped_ = false;
};

}  // namespace boc
