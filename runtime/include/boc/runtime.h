// The runtime: worker pool, pinned queue + pump, watchdog and terminator.
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
#include <vector>

#include "boc/behavior.h"
#include "boc/clock.h"
#include "boc/pump.h"
#include "boc/systematic.h"
#include "boc/watchdog.h"

namespace boc {

class WorkerPool;
class PinnedQueue;
namespace detail {
class ShardedCounter;
}

/// Default worker count: hardware threads - 1 (a core for the main thread), at least 1.
std::size_t default_worker_count() noexcept;

struct RuntimeOptions {
  std::size_t worker_count = default_worker_count();
  /// Run on each worker thread before it takes work / after it stops taking
  /// work (the Python layer creates and ends the worker's sub-interpreter here).
  std::function<void(std::size_t worker_index)> on_worker_start;
  std::function<void(std::size_t worker_index)> on_worker_stop;
  /// Run on a worker thread each time it runs out of work after running
  /// something, before it spins and parks (the Python layer gives back the
  /// worker interpreter's GIL there, which it keeps across back-to-back
  /// behaviors).
  std::function<void(std::size_t worker_index)> on_worker_idle;
  std::shared_ptr<Clock> clock;  ///< null = steady clock
  /// If false, only the thread that created the Runtime may pump. If true,
  /// any thread may, one at a time (single-pumper CAS).
  bool pump_from_any_thread = false;
  /// quiesce() parks at most this long between pump checks.
  std::chrono::milliseconds wait_pump_poll{50};
  /// quiesce() pumps at most this many pinned behaviors per wake.
  std::size_t wait_pump_batch = 64;
  /// Workers spin this long for new work before parking. Longer than a
  /// futex wake-up on a VM (tens of µs) and than one producer step of
  /// bocpy's fanout, whose next step an idle worker takes (worker_pool.h):
  /// 200 µs ran it 7% faster at 2 workers than 20 µs (median of 8
  /// interleaved pairs); idle, it costs a worker 200 µs of CPU per wait.
  std::chrono::microseconds worker_spin{200};
};

struct QuiesceOptions {
  std::optional<std::chrono::nanoseconds> timeout;  ///< unset: wait until quiescent
  std::optional<std::chrono::nanoseconds> max_slice;
  std::function<void()> after_slice;
};

/// Why wait_for_work() returned.
enum class WakeReason { kTerminated, kPumpReady, kTimedOut };

/// Counters of one worker (bocpy's scheduler_stats() per worker).
struct WorkerStats {
  std::size_t worker_index = 0;
  std::uint64_t pushed_local = 0;           ///< dispatched by this worker while its pending slot was full
  std::uint64_t dispatched_to_pending = 0;  ///< dispatched by this worker into its empty pending slot
  std::uint64_t pushed_remote = 0;          ///< dispatched to this worker's queue by other threads
  std::uint64_t popped_local = 0;           ///< taken from its own queue
  std::uint64_t popped_via_steal = 0;       ///< taken from another worker's queue
  std::uint64_t enqueue_contended = 0;      ///< pushes to its shared queue that found the queue's lock held
  std::uint64_t dequeue_contended = 0;      ///< pops from its shared queue that found the queue's lock held
  std::uint64_t batch_resets = 0;           ///< periodic shared-queue checks that took work ahead of its own
  std::uint64_t steal_attempts = 0;         ///< takes tried on another worker's non-empty shared queue
  std::uint64_t steal_failures = 0;         ///< of those, the ones that found it empty
  std::uint64_t last_steal_attempt_ns = 0;  ///< steady_clock time of the last attempt (0: none)
  std::uint64_t shares = 0;                 ///< times it moved private work to its shared queue for an idle worker
  std::uint64_t parked = 0;                 ///< times it went to sleep
};

struct RuntimeStats {
  std::uint64_t scheduled = 0;  ///< behaviors ever scheduled
  std::uint64_t completed = 0;  ///< behaviors whose lifecycle finished
  std::uint64_t pinned_executed = 0;
  std::uint64_t cancelled = 0;  ///< pinned behaviors drained at shutdown
  std::size_t in_flight = 0;
  std::size_t pinned_depth = 0;
  /// Empty pump() calls that gave the CPU to busy workers (see Runtime::pump)
  std::uint64_t pump_yields = 0;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  /// Shuts down (see shutdown()).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// The runtime `boc::when` schedules on: the most recently created live one.
  static Runtime* current() noexcept {
    // Acquire: pairs with the release in the constructor.
    return current_.load(std::memory_order_acquire);
  }

  /// Takes ownership and runs the two-phase enqueue. Throws PumpError(kStopped)
  /// once shutdown has begun (the behavior is destroyed unscheduled).
  void schedule(std::unique_ptr<Behavior> behavior) { schedule_owned(behavior.release()); }

  /// Drains the pinned queue under the pinned-cown rules (pump.h); gates throw PumpError.
  /// Body errors never throw here; they are reported in the PumpReport.
  PumpReport pump_report(const PumpOptions& options = {});
  /// As pump_report, but rethrows the error for PumpStop::kError/kFatal.
  PumpResult pump(const PumpOptions& options = {});

  /// Blocks until every scheduled behavior completed (true) or the timeout
  /// passed (false). While pinned cowns exist and this thread may pump, it
  /// drains pinned work itself: parks at most wait_pump_poll, pumps up to
  /// wait_pump_batch per wake. A fatal body error propagates.
  bool quiesce(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// As quiesce(timeout), with `options`: parks at most `max_slice` at a
  /// time and calls `after_slice` (no runtime lock held) after every park;
  /// an exception from it abandons the wait (a host's signal check).
  bool quiesce(const QuiesceOptions& options);

  /// Parks up to `max_wait` (real time) until nothing is in flight
  /// (kTerminated), pinned work is queued (kPumpReady) or time is up.
  WakeReason wait_for_work(std::chrono::nanoseconds max_wait);

  /// Stops the runtime: lets worker work finish, fails pinned behaviors still
  /// queued with "behavior drained at shutdown without executing" (their
  /// bodies never run), then stops and joins the workers (on_worker_stop runs
  /// on each worker thread) and the watchdog monitor. Idempotent.
  void shutdown();

  Watchdog& watchdog() noexcept { return *watchdog_; }
  Clock& clock() noexcept { return *clock_; }
  std::size_t worker_count() const noexcept;

  /// Behaviors scheduled and not yet completed. A caller that reads 0 sees
  /// every completed behavior's writes (see runtime.cpp, "Counting").
  std::size_t in_flight() const noexcept;
  std::size_t pinned_depth() const noexcept;
  /// Worker behaviors dispatched (queued or running) and not yet completed.
  /// Behaviors still waiting for a cown are not counted. A caller that reads
  /// 0 sees every completed worker behavior's effects, including the pinned
  /// behaviors their releases dispatched.
  std::size_t worker_active() const noexcept;
  /// Blocks (polling, real time) until worker_active() is 0 or the timeout
  /// passes; true when idle. For deterministic hosts (the demo's scenarios)
  /// that must see a frame's worker output before sampling.
  bool wait_workers_idle(std::chrono::nanoseconds timeout) const;
  /// Milliseconds the pinned queue has been non-empty (0 when empty).
  std::int64_t pinned_age_ms() const noexcept;
  PinnedQueueState pinned_state() const noexcept;
  RuntimeStats stats() const noexcept;
  std::vector<WorkerStats> worker_stats() const;

  void set_wait_pump_poll(std::chrono::milliseconds poll);
  std::chrono::milliseconds wait_pump_poll() const noexcept;

  /// Fails every queued pinned behavior without running it (its result gets
  /// "behavior drained at shutdown without executing"), including ones that
  /// become runnable while draining. Returns how many. Shutdown uses it; a
  /// host may call it as a diagnostic (bocpy's main_pump_drain_all()).
  std::size_t drain_pinned_without_running();

  /// bocpy's stop() request: from here schedule() refuses new behaviors
  /// (PumpError(kStopped)); behaviors already scheduled still run on the
  /// workers, or wait in the pinned queue for take_pinned_orphan().
  /// shutdown() does the rest.
  void request_stop() noexcept;
  /// Once stopping: the next runnable pinned behavior, out of the queue,
  /// neither run nor failed (nullptr when none or not stopping). The caller
  /// marks its result (Behavior::cancel or its own) and must hand it to
  /// complete_unrun(): until then it holds its cowns and counts in flight.
  Behavior* take_pinned_orphan();
  /// Ends a behavior taken by take_pinned_orphan() without running it: its
  /// cowns go to their successors (which may become runnable) and it is
  /// counted as cancelled.
  void complete_unrun(Behavior* b) noexcept;

  /// True while the calling thread is inside a pinned body run by pump().
  static bool in_pump_body() noexcept;
  /// True if the calling thread is one of this runtime's workers.
  bool on_worker_thread() const noexcept;
  /// True if the calling thread may pump (the creating thread, or any thread
  /// when pump_from_any_thread).
  bool may_pump_on_this_thread() const noexcept;

 private:
  friend class Behavior;
  friend class WorkerPool;

  /// schedule() without the unique_ptr hand-off (inline above, so when()'s
  /// behavior reaches here in a register).
  void schedule_owned(Behavior* behavior);
  /// Called by the thread whose resolve() reached zero.
  void dispatch(Behavior* b) noexcept;
  /// Runs a behavior on worker `worker` (the calling thread).
  void run_on_worker(Behavior* b, std::size_t worker) noexcept;
  /// Releases requests, drops the terminator hold, deletes the behavior.
  /// From a thread that is not a worker (pump, drain).
  void complete(Behavior* b) noexcept;
  /// Releases and deletes a behavior that ran on a worker: all counted in
  /// that worker's own slot.
  void complete_on_worker(Behavior* b, std::size_t worker) noexcept;
  void notify_waiters() noexcept;
  /// After a pump: yields the CPU to busy workers while a caller polls an
  /// empty pinned queue (see runtime.cpp).
  void yield_if_polling(bool empty) noexcept;
  /// wait_for_work(); queued pinned work only ends the wait if `pinned_wakes`
  /// (a thread that cannot pump waits for termination alone).
  WakeReason wait_for_work(std::chrono::nanoseconds max_wait, bool pinned_wakes);

  RuntimeOptions options_;
  std::shared_ptr<Clock> clock_;
  std::unique_ptr<PinnedQueue> pinned_;
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<WorkerPool> pool_;
  std::uint64_t owner_thread_;

  // Terminator and worker-active counts, split by thread (see runtime.cpp,
  // "Counting"): one slot per worker, written only by that worker, and one
  // shared by every other thread.
  struct alignas(64) CountSlot {
    std::atomic<std::uint64_t> scheduled{0};
    std::atomic<std::uint64_t> completed{0};
    std::atomic<std::uint64_t> dispatched{0};
    std::atomic<std::uint64_t> finished{0};
  };
  /// The calling thread's slot and whether it is that slot's only writer.
  CountSlot& my_slot(bool& exclusive) const noexcept;
  /// The slot of worker `worker`, or the shared one for kNotAWorker.
  CountSlot& slot_of(std::size_t worker) const noexcept;
  /// On a worker that ran out of work: wakes quiescers if nothing is in flight.
  void on_worker_idle() noexcept;
  std::unique_ptr<CountSlot[]> slots_;
  std::size_t slot_count_ = 0;
  // Orders the terminator checks of threads that finish at once (on_worker_idle).
  alignas(64) std::atomic<std::uint64_t> idle_sync_{0};
  detail::Mutex term_mu_;
  detail::CondVar term_cv_;

  // Single-pumper gate: id of the thread inside pump(), 0 when none.
  std::atomic<std::uint64_t> pumper_{0};
  // When the last empty pump() that found the workers busy ended, 0 after
  // any other pump (read and written only by the pumper, inside the gate),
  // and whether the workers fill every core (see yield_if_polling()).
  std::int64_t last_empty_pump_ns_ = 0;
  bool workers_fill_cores_ = false;
  std::atomic<std::uint64_t> pump_yields_{0};
  std::atomic<std::int64_t> wait_poll_ms_{50};
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  detail::Mutex shutdown_mu_;

  std::atomic<std::uint64_t> pinned_executed_{0};
  std::atomic<std::uint64_t> cancelled_{0};

  // Most recently created live runtime (for boc::when).
  static inline std::atomic<Runtime*> current_{nullptr};
};

/// A small per-thread id (never 0), cheaper to store atomically than std::thread::id.
std::uint64_t this_thread_key() noexcept;

}  // namespace boc
