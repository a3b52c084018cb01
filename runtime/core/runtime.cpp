#include "boc/runtime.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "behavior_steps.h"
#include "pinned_queue.h"
#include "boc/sharded_counter.h"
#include "worker_pool.h"

namespace boc {
namespace {

std::atomic<std::uint64_t> g_next_thread_key{1};
// True while this thread runs a pinned body inside pump().
thread_local bool tl_in_pump_body = false;

constexpr std::string_view kDrainedReason = "behavior drained at shutdown without executing";

// Clears the single-pumper gate on every exit path of pump(), exceptions included.
class PumperGuard {
 public:
  PumperGuard(std::atomic<std::uint64_t>& gate, bool owns) : gate_(gate), owns_(owns) {}
  ~PumperGuard() {
    // Release: pairs with the acquire CAS of the next pumper; our pinned
    // bodies' writes happen-before its bodies.
    if (owns_) gate_.store(0, std::memory_order_release);
  }
  PumperGuard(const PumperGuard&) = delete;
  PumperGuard& operator=(const PumperGuard&) = delete;

 private:
  std::atomic<std::uint64_t>& gate_;
  bool owns_;
};

// Marks this thread as inside a pinned body for the body's whole lifecycle.
class InBodyGuard {
 public:
  InBodyGuard() { tl_in_pump_body = true; }
  ~InBodyGuard() { tl_in_pump_body = false; }
  InBodyGuard(const InBodyGuard&) = delete;
  InBodyGuard& operator=(const InBodyGuard&) = delete;
};

}  // namespace

std::uint64_t this_thread_key() noexcept {
  // Relaxed: uniqueness only.
  thread_local const std::uint64_t key = g_next_thread_key.fetch_add(1, std::memory_order_relaxed);
  return key;
}

std::size_t default_worker_count() noexcept {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 1 ? hw - 1 : 1;
}

Runtime::Runtime(RuntimeOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SteadyClock::instance()),
      owner_thread_(this_thread_key()) {
  // Relaxed: plain configuration value.
  wait_poll_ms_.store(std::max<std::int64_t>(1, options_.wait_pump_poll.count()), std::memory_order_relaxed);
  pinned_ = std::make_unique<PinnedQueue>(*clock_);
  watchdog_ = std::make_unique<Watchdog>(clock_, [this] { return pinned_->state(); });
  const std::size_t workers = options_.worker_count == 0 ? 1 : options_.worker_count;
  workers_fill_cores_ = workers >= std::max(1u, std::thread::hardware_concurrency());
  slot_count_ = workers + 1;
  slots_ = std::make_unique<CountSlot[]>(slot_count_);
  pool_ = std::make_unique<WorkerPool>(*this, workers, options_.on_worker_start, options_.on_worker_stop,
                                       options_.on_worker_idle, options_.worker_spin);
  // Release: a thread that finds this runtime through current() sees it constructed.
  current_.store(this, std::memory_order_release);
}

Runtime::~Runtime() {
  shutdown();
  Runtime* self = this;
  // Release/relaxed: only un-registers; no data is published through it.
  current_.compare_exchange_strong(self, nullptr, std::memory_order_release, std::memory_order_relaxed);
}

// Counting. Each counter is a pair of monotonic counts (scheduled/completed,
// dispatched/finished) summed over the slots. A worker writes only its own
// slot, with a plain load + release store (no read-modify-write, no shared
// cache line on the hot path); every other thread shares the last slot with
// fetch_add. A reader sums all the "done" halves first and then all the
// "started" halves, with acquire loads: a behavior's start happens-before its
// end (the dispatch chain orders them), so every end the reader saw has its
// start in the second sum. The difference is therefore never negative, and 0
// only if everything started by then had ended; anything started later was
// started by one of those (already ended) behaviors, or by a host thread
// racing with the reader, as with any counter.
namespace {
void bump(std::atomic<std::uint64_t>& c, bool exclusive) noexcept {
  BOC_SYSTEMATIC_YIELD("count.bump");
  if (exclusive) {
    // Relaxed load: this thread is the only writer. Release store: pairs
    // with the acquire loads of the readers (see "Counting").
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  } else {
    // Release: as above; RMW because the shared slot has several writers.
    c.fetch_add(1, std::memory_order_release);
  }
}
}  // namespace

Runtime::CountSlot& Runtime::my_slot(bool& exclusive) const noexcept {
  const std::size_t w = pool_ ? pool_->current_worker() : WorkerPool::kNotAWorker;
  exclusive = w != WorkerPool::kNotAWorker;
  return slot_of(w);
}

Runtime::CountSlot& Runtime::slot_of(std::size_t worker) const noexcept {
  return slots_[worker != WorkerPool::kNotAWorker ? worker : slot_count_ - 1];
}

std::size_t Runtime::in_flight() const noexcept {
  std::uint64_t done = 0;
  std::uint64_t started = 0;
  // Acquire: pairs with the release in bump(); ends first, then starts.
  for (std::size_t i = 0; i < slot_count_; ++i) done += slots_[i].completed.load(std::memory_order_acquire);
  BOC_SYSTEMATIC_YIELD("count.in_flight.between_sums");
  for (std::size_t i = 0; i < slot_count_; ++i) started += slots_[i].scheduled.load(std::memory_order_acquire);
  return static_cast<std::size_t>(started - done);
}

std::size_t Runtime::worker_active() const noexcept {
  std::uint64_t done = 0;
  std::uint64_t started = 0;
  // Acquire: as in in_flight().
  for (std::size_t i = 0; i < slot_count_; ++i) done += slots_[i].finished.load(std::memory_order_acquire);
  BOC_SYSTEMATIC_YIELD("count.worker_active.between_sums");
  for (std::size_t i = 0; i < slot_count_; ++i) started += slots_[i].dispatched.load(std::memory_order_acquire);
  return static_cast<std::size_t>(started - done);
}

std::size_t Runtime::worker_count() const noexcept { return pool_->size(); }
std::size_t Runtime::pinned_depth() const noexcept { return pinned_->depth(); }
PinnedQueueState Runtime::pinned_state() const noexcept { return pinned_->state(); }

std::int64_t Runtime::pinned_age_ms() const noexcept {
  const PinnedQueueState s = pinned_->state();
  if (s.depth == 0 || s.nonempty_since_ns == 0) return 0;
  return (clock_->now_ns() - s.nonempty_since_ns) / 1'000'000;
}

RuntimeStats Runtime::stats() const noexcept {
  RuntimeStats s;
  // Relaxed: statistics; in_flight uses its own accessor's acquire.
  for (std::size_t i = 0; i < slot_count_; ++i) {
    s.completed += slots_[i].completed.load(std::memory_order_relaxed);
    s.scheduled += slots_[i].scheduled.load(std::memory_order_relaxed);
  }
  s.pinned_executed = pinned_executed_.load(std::memory_order_relaxed);
  s.cancelled = cancelled_.load(std::memory_order_relaxed);
  s.pump_yields = pump_yields_.load(std::memory_order_relaxed);
  s.in_flight = in_flight();
  s.pinned_depth = pinned_->depth();
  return s;
}

std::vector<WorkerStats> Runtime::worker_stats() const { return pool_->stats(); }

void Runtime::set_wait_pump_poll(std::chrono::milliseconds poll) {
  if (poll.count() <= 0) throw std::invalid_argument("wait pump poll must be a positive number of milliseconds");
  // Relaxed: a configuration value re-read on each quiesce iteration.
  wait_poll_ms_.store(poll.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds Runtime::wait_pump_poll() const noexcept {
  // Relaxed: see set_wait_pump_poll().
  return std::chrono::milliseconds(wait_poll_ms_.load(std::memory_order_relaxed));
}

bool Runtime::in_pump_body() noexcept { return tl_in_pump_body; }
bool Runtime::on_worker_thread() const noexcept { return pool_->on_worker_thread(); }

bool Runtime::may_pump_on_this_thread() const noexcept {
  return options_.pump_from_any_thread || this_thread_key() == owner_thread_;
}

void Runtime::schedule_owned(Behavior* behavior) {
  BOC_SYSTEMATIC_YIELD("runtime.schedule");
  // Acquire: pairs with the release in shutdown(); refuse new work once it began.
  if (stopping_.load(std::memory_order_acquire)) {
    delete behavior;
    throw PumpError(PumpError::Kind::kStopped, "cannot schedule a behavior: the runtime is shutting down");
  }
  bool exclusive;
  // The terminator hold is taken before the behavior becomes reachable
  // (phase 1 publishes it with acq_rel exchanges).
  CountSlot& slot = my_slot(exclusive);
  bump(slot.scheduled, exclusive);
  behavior->schedule(this);
}

void Runtime::dispatch(Behavior* b) noexcept {
  BOC_SYSTEMATIC_YIELD("runtime.dispatch");
  if (b->pinned()) {
    pinned_->push(b);
    notify_waiters();  // a thread parked in quiesce() wakes up to pump
  } else {
    // One lookup of the calling thread's worker index for both the count and
    // the push. Counted before the push that publishes the behavior; a
    // dispatching worker behavior is itself still counted, so the count
    // cannot touch 0 while work spawns work.
    const std::size_t worker = pool_->current_worker();
    bump(slot_of(worker).dispatched, worker != WorkerPool::kNotAWorker);
    pool_->push(b, worker);
  }
}

void Runtime::notify_waiters() noexcept {
  // Taking the lock orders the notify after a waiter's predicate check.
  std::lock_guard lock(term_mu_);
  term_cv_.notify_all();
}

void Runtime::complete_on_worker(Behavior* b, std::size_t worker) noexcept {
  b->release_all();
  BOC_SYSTEMATIC_YIELD("complete.released");
  delete b;
  CountSlot& slot = slots_[worker];
  // Everything this behavior did, including dispatching successors, is
  // counted before its `finished`, and `finished` before `completed`: a
  // thread that saw in_flight() reach 0 (quiesce) also reads worker_active()
  // as 0 (the systematic scheduler found a worker between the two).
  bump(slot.finished, true);
  bump(slot.completed, true);
  // The worker checks for termination once it runs out of work (on_worker_idle).
}

void Runtime::complete(Behavior* b) noexcept {
  b->release_all();
  BOC_SYSTEMATIC_YIELD("complete.released");
  delete b;
  bool exclusive;
  CountSlot& slot = my_slot(exclusive);
  bump(slot.completed, exclusive);
  // A worker checks for termination once it runs out of work (on_worker_idle);
  // other threads (pump, drain) check right away, after the same step as
  // on_worker_idle() so a worker finishing at the same time is not missed.
  if (!exclusive) {
    BOC_SYSTEMATIC_YIELD("complete.terminator_check");
    // AcqRel: see on_worker_idle().
    idle_sync_.fetch_add(1, std::memory_order_acq_rel);
    if (in_flight() == 0) notify_waiters();
  }
}

void Runtime::on_worker_idle() noexcept {
  // AcqRel RMW on one shared word (a fence TSan can follow): two threads that
  // finish the last behaviors at once each stored their own `completed`
  // before loading the other's. Their RMWs here are ordered, and the later
  // one synchronizes with the earlier, so at least one of them sees both
  // stores and notifies. Once per idle transition, not per behavior.
  BOC_SYSTEMATIC_YIELD("worker.terminator_check");
  idle_sync_.fetch_add(1, std::memory_order_acq_rel);
  if (in_flight() == 0) notify_waiters();
}

void Runtime::run_on_worker(Behavior* b, std::size_t worker) noexcept {
  try {
    (void)b->run();  // errors are already captured on the result cown
  } catch (...) {
    // A body that lets an exception escape must not take the worker down.
  }
  complete_on_worker(b, worker);
}

bool Runtime::wait_workers_idle(std::chrono::nanoseconds timeout) const {
#ifdef BOC_SYSTEMATIC
  if (systematic::on_scheduled_thread()) {
    return systematic::wait_until([this] { return worker_active() == 0; }, timeout, "runtime.wait_workers_idle");
  }
#endif
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  for (unsigned spins = 0; worker_active() != 0; ++spins) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    if (spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  return true;
}

PumpReport Runtime::pump_report(const PumpOptions& options) {
  if (options.deadline && options.deadline->count() <= 0) {
    throw PumpError(PumpError::Kind::kInvalidArgument, "deadline must be a positive number of milliseconds");
  }
  if (options.max_behaviors && *options.max_behaviors == 0) {
    throw PumpError(PumpError::Kind::kInvalidArgument, "max_behaviors must be positive");
  }
  if (!may_pump_on_this_thread()) {
    throw PumpError(PumpError::Kind::kWrongThread, "pump() must be called from the main thread");
  }
  const std::uint64_t me = this_thread_key();
  std::uint64_t expected = 0;
  bool owns_gate = false;
  // Acquire: pairs with the release in PumperGuard; the previous pumper's
  // bodies happen-before ours.
  if (pumper_.compare_exchange_strong(expected, me, std::memory_order_acquire, std::memory_order_relaxed)) {
    owns_gate = true;
  } else if (expected != me) {
    throw PumpError(PumpError::Kind::kConcurrentPumper, "pump() is in use by another thread");
  }
  PumperGuard gate(pumper_, owns_gate);
  if (tl_in_pump_body) {
    throw PumpError(PumpError::Kind::kReentrant, kPumpNotReentrant);
  }

  PumpReport report;
  std::int64_t deadline_ns = 0;
  if (options.deadline) {
    // Saturating: bocpy allows deadlines up to ~292 years, which overflow now + budget.
    const std::int64_t now = clock_->now_ns();
    const std::int64_t budget_ms = options.deadline->count();
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    deadline_ns = budget_ms > (kMax - now) / 1'000'000 ? kMax : now + budget_ms * 1'000'000;
  }
  watchdog_->sample();
  for (;;) {
    if (options.max_behaviors && report.result.executed >= *options.max_behaviors) {
      report.stop = PumpStop::kMaxCount;
      break;
    }
    BOC_SYSTEMATIC_YIELD("pump.next");
    Behavior* b = pinned_->pop();
    if (b == nullptr) {
      report.stop = PumpStop::kDrained;
      break;
    }
    BodyResult body;
    {
      InBodyGuard in_body;
      try {
        body = b->run();
      } catch (...) {
        body = BodyResult{BodyOutcome::kError, std::current_exception()};
      }
      complete(b);
    }
    ++report.result.executed;
    // Relaxed: statistic.
    pinned_executed_.fetch_add(1, std::memory_order_relaxed);
    if (body.outcome == BodyOutcome::kFatal) {
      report.stop = PumpStop::kFatal;
      report.error = body.error;
      break;
    }
    if (body.outcome == BodyOutcome::kError) {
      ++report.result.raised;
      if (options.raise_on_error) {
        report.stop = PumpStop::kError;
        report.error = body.error;
        break;
      }
    }
    if (options.deadline && clock_->now_ns() >= deadline_ns) {
      report.result.deadline_reached = true;
      report.stop = PumpStop::kDeadline;
      break;
    }
  }
  yield_if_polling(report.result.executed == 0);
  return report;
}

void Runtime::yield_if_polling(bool empty) noexcept {
  // A loop that polls pump() until a worker's write-back arrives (bocpy's
  // boids window; tests/bench/boids_sim_driver.py) keeps a core busy doing
  // nothing. When the workers have behaviors running and fill every core,
  // that core is one of theirs: an empty pump that follows another empty one
  // by less than kPollGapNs gives the rest of its time slice to them. A frame
  // loop's pumps (the demo's, a frame or more apart) and a poll with no work
  // running (pump_bench's empty loop) never yield.
  constexpr std::int64_t kPollGapNs = 200'000;
  if (!empty || !workers_fill_cores_ || worker_active() == 0) {
    last_empty_pump_ns_ = 0;
    return;
  }
  const std::int64_t now = clock_->now_ns();
  const bool polling = last_empty_pump_ns_ != 0 && now - last_empty_pump_ns_ < kPollGapNs;
  last_empty_pump_ns_ = now;
#ifndef BOC_SYSTEMATIC
  if (polling) {
    // Relaxed: statistic, written by the pumper only.
    pump_yields_.store(pump_yields_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::this_thread::yield();
    // The gap to the next pump starts after the yield, however long it took.
    last_empty_pump_ns_ = clock_->now_ns();
  }
#else
  (void)polling;
#endif
}

PumpResult Runtime::pump(const PumpOptions& options) {
  PumpReport report = pump_report(options);
  if ((report.stop == PumpStop::kError || report.stop == PumpStop::kFatal) && report.error) {
    std::rethrow_exception(report.error);
  }
  return report.result;
}

WakeReason Runtime::wait_for_work(std::chrono::nanoseconds max_wait) { return wait_for_work(max_wait, true); }

WakeReason Runtime::wait_for_work(std::chrono::nanoseconds max_wait, bool pinned_wakes) {
  std::unique_lock lock(term_mu_);
  const bool woke = term_cv_.wait_for(
      lock, max_wait, [this, pinned_wakes] { return in_flight() == 0 || (pinned_wakes && pinned_->depth() > 0); });
  if (in_flight() == 0) return WakeReason::kTerminated;
  if (woke || pinned_->depth() > 0) return WakeReason::kPumpReady;
  return WakeReason::kTimedOut;
}

bool Runtime::quiesce(std::optional<std::chrono::milliseconds> timeout) {
  QuiesceOptions options;
  if (timeout) options.timeout = *timeout;
  return quiesce(options);
}

bool Runtime::quiesce(const QuiesceOptions& options) {
  // WaitClock: steady_clock, or virtual time in systematic builds.
  const auto start = detail::WaitClock::now();
  const bool can_pump = may_pump_on_this_thread() && !tl_in_pump_body && !pool_->on_worker_thread();
  while (in_flight() > 0) {
    std::chrono::nanoseconds slice =
        can_pump ? std::chrono::nanoseconds(wait_pump_poll()) : std::chrono::nanoseconds(std::chrono::milliseconds(50));
    if (options.max_slice) slice = std::min(slice, *options.max_slice);
    if (options.timeout) {
      const auto left = start + *options.timeout - detail::WaitClock::now();
      if (left <= std::chrono::nanoseconds::zero()) return false;
      slice = std::min<std::chrono::nanoseconds>(slice, left);
    }
    BOC_SYSTEMATIC_YIELD("quiesce.wait");
    // A thread that cannot pump must not wake for pinned work it cannot run:
    // it would spin until the timeout (found by the systematic scheduler).
    const WakeReason reason = wait_for_work(slice, can_pump);
    if (options.after_slice) options.after_slice();
    if (reason == WakeReason::kTerminated) return true;
    if (can_pump && pinned_->depth() > 0) {
      PumpOptions batch;
      batch.max_behaviors = options_.wait_pump_batch;
      PumpReport report;
      try {
        report = pump_report(batch);
      } catch (const PumpError& e) {
        if (e.kind() != PumpError::Kind::kConcurrentPumper) throw;
        continue;  // another thread is pumping: keep waiting
      }
      if (report.stop == PumpStop::kFatal && report.error) std::rethrow_exception(report.error);
    }
  }
  return true;
}

std::size_t Runtime::drain_pinned_without_running() {
  std::size_t drained = 0;
  while (Behavior* b = pinned_->pop()) {
    BOC_SYSTEMATIC_YIELD("drain.next");
    ++drained;
    try {
      b->cancel(kDrainedReason);
    } catch (...) {
      // Cancelling must not stop the drain; the result stays as the body left it.
    }
    // Relaxed: statistic.
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    complete(b);  // may dispatch successors, pinned or not
  }
  return drained;
}

void Runtime::request_stop() noexcept {
  // Release: pairs with the acquire in schedule(), as in shutdown().
  stopping_.store(true, std::memory_order_release);
}

Behavior* Runtime::take_pinned_orphan() {
  // Acquire: pairs with request_stop()/shutdown(); before that, queued pinned
  // work is pump()'s to run, not an orphan.
  if (!stopping_.load(std::memory_order_acquire)) return nullptr;
  return pinned_->pop();
}

void Runtime::complete_unrun(Behavior* b) noexcept {
  // Relaxed: statistic.
  cancelled_.fetch_add(1, std::memory_order_relaxed);
  complete(b);
}

void Runtime::shutdown() {
  std::lock_guard lock(shutdown_mu_);
  if (stopped_) return;
  // Release: pairs with the acquire in schedule(); from here on schedule()
  // refuses new behaviors (bodies that try get PumpError(kStopped)), while
  // behaviors already scheduled still run or are drained below.
  stopping_.store(true, std::memory_order_release);
  // Let worker work finish; pinned work still queued is failed, not run. A
  // cancelled pinned behavior releases its cowns, which can make more worker
  // or pinned behaviors runnable, hence the loop.
  while (in_flight() > 0) {
    drain_pinned_without_running();
    if (in_flight() == 0) break;
    (void)wait_for_work(std::chrono::milliseconds(10));
  }
  watchdog_->stop();
  pool_->stop();
  stopped_ = true;
}

}  // namespace boc
