#include "worker_pool.h"

#include "boc/small_alloc.h"
#include "spin.h"

#include <utility>

namespace boc {
using detail::tl_index;
using detail::tl_pool;

void WorkerPool::lock_counting(detail::Mutex& mu, Stat& contended) noexcept {
#ifdef BOC_SYSTEMATIC
  // try_lock is a hook point of its own: keep each run's schedule as it was.
  (void)contended;
  mu.lock();
#else
  if (mu.try_lock()) return;
  mu.lock();
  contended.bump();  // under mu: one writer at a time
#endif
}

WorkerPool::WorkerPool(Runtime& rt, std::size_t workers, Hook on_start, Hook on_stop, Hook on_idle,
                       std::chrono::microseconds spin)
    : rt_(rt), on_start_(std::move(on_start)), on_stop_(std::move(on_stop)), on_idle_(std::move(on_idle)), spin_(spin) {
  if (workers == 0) workers = 1;
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>());
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_main(i); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::push_remote(Behavior* b) noexcept {
  // Relaxed: only spreads load; any index is correct.
  const std::size_t index = round_robin_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
  push_shared(index, b, true);
}

void WorkerPool::push_shared(std::size_t index, Behavior* b, bool remote) noexcept {
  List one;
  one.push(b);
  push_shared(index, one, remote);
}

void WorkerPool::push_shared(std::size_t index, List& batch, bool remote) noexcept {
  Worker& v = *workers_[index];
  const std::size_t n = batch.count;
  {
    lock_counting(v.mu, v.enqueue_contended);
    std::lock_guard lock(v.mu, std::adopt_lock);
    batch.move_front(n, v.shared);
    BOC_SYSTEMATIC_YIELD("pool.push_shared.locked");
    if (remote) v.pushed_remote.bump();
    // Seq_cst: Dekker pair with sleepers_ (the load below and the parker's
    // increment then re-check in worker_main).
    v.shared_count.store(v.shared.count, std::memory_order_seq_cst);
  }
  BOC_SYSTEMATIC_YIELD("pool.push_shared.check_sleepers");
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    // Taking park_mu_ orders this notify after a parking worker's predicate
    // check, so the wake-up cannot be lost.
    std::lock_guard lock(park_mu_);
    park_cv_.notify_one();
  }
}

void WorkerPool::share(Worker& self, std::size_t index) noexcept {
  // Half of what is left (at least one): the idle worker steals from it and
  // the owner keeps the rest in order.
  List batch;
  BOC_SYSTEMATIC_YIELD("pool.share");
  self.shares.bump();
  self.local.move_front((self.local.count + 1) / 2, batch);
  push_shared(index, batch, false);
}

Behavior* WorkerPool::take_shared(std::size_t victim, Worker& self, bool steal) noexcept {
  Worker& v = *workers_[victim];
  Behavior* b;
  BOC_SYSTEMATIC_YIELD(steal ? "pool.steal" : "pool.take_shared");
  if (steal) {
    self.steal_attempts.bump();
    self.last_steal_attempt_ns.set(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count()));
  }
  {
    lock_counting(v.mu, v.dequeue_contended);
    std::lock_guard lock(v.mu, std::adopt_lock);
    b = v.shared.pop();
    if (b == nullptr) {
      if (steal) self.steal_failures.bump();
      return nullptr;
    }
    // Relaxed: a decrease never needs a wake-up; the mutex orders the list.
    v.shared_count.store(v.shared.count, std::memory_order_relaxed);
  }
  (steal ? self.popped_via_steal : self.popped_local).bump();
  return b;
}

Behavior* WorkerPool::find_work(std::size_t self) noexcept {
  Worker& w = *workers_[self];
  // A countdown, not a modulo: this runs once per behavior.
  if (has_private(w) && --w.pops_to_shared_check != 0) return pop_private(w, self);
  return find_work_slow(self, w);
}

inline void WorkerPool::requeue_pending(Worker& w) noexcept {
  if (w.pending != nullptr) w.local.push(std::exchange(w.pending, nullptr));
}

inline Behavior* WorkerPool::pop_private(Worker& w, std::size_t self) noexcept {
  w.popped_local.bump();
  // Alone, the slot is simply the list's last behavior.
  if (w.local.count == 0) return std::exchange(w.pending, nullptr);
  Behavior* b = w.local.pop();
  // Relaxed: a hint; if it is stale, an idle worker just waits for the next
  // pop, and private work is never lost (its owner runs it).
  if (idle_.load(std::memory_order_relaxed) > 0) {
    if (w.pending != nullptr) {
      // The newest dispatch goes to the idle worker and the owner keeps the
      // list: what the list holds was made here and its data is in this
      // core's cache, while the newest is often a producer's next step, which
      // then makes its own children over there. A cache line crossing the
      // two vCPUs of the reference VM costs ~145 ns: bocpy's fanout at 2
      // workers stole 40k of its 72k behaviors with the slot kept here, 4k
      // this way, and ran 13% faster (median of 19 interleaved pairs).
      w.shares.bump();
      push_shared(self, std::exchange(w.pending, nullptr), false);
    } else if (w.local.count > 0) {
      share(w, self);
    }
  } else if (w.long_pops && w.local.count > 0 && w.shared_count.load(std::memory_order_relaxed) == 0) {
    // Long behaviors: keep half of the waiting list stealable (see the
    // header). verona-rt's banking port with 10 µs transfers at 2 workers
    // spent 314 ms of its 2.6 s of CPU idle, 21 µs per time a worker ran out,
    // while the other one's list held work until its next pop; this way 90 ms,
    // and it ran 4.5% faster. Relaxed: a hint; a stale count shares once more
    // or once less.
    share(w, self);
  }
  // The list had its turn: a pending behavior goes behind the rest
  // (verona-rt's return_next_work). With every worker busy the list is
  // FIFO, which keeps a child next to the data its parent just wrote and
  // keeps backlogs short (a slot that jumped the list let verona-rt's
  // banking port grow from 3 MB to 540 MB).
  requeue_pending(w);
  return b;
}

// Out of line: the periodic shared check and stealing, kept out of the
// per-behavior path above (its stack frame and saved registers).
[[gnu::noinline]] Behavior* WorkerPool::find_work_slow(std::size_t self, Worker& w) noexcept {
  if (has_private(w)) {
    w.pops_to_shared_check = Worker::kSharedCheckPeriod;
    if (workers_.size() > 1) {
#ifdef BOC_SYSTEMATIC
      // A run's schedule may not depend on the real clock: the run chooses.
      w.long_pops = systematic::choose(2) == 1;
#else
      const auto now = std::chrono::steady_clock::now();
      // The first check only starts the clock.
      w.long_pops = w.last_check != decltype(now){} && now - w.last_check > Worker::kLongPops;
      w.last_check = now;
#endif
    }
    // Relaxed: a hint; a stale zero only delays a remote push by a few pops.
    if (w.shared_count.load(std::memory_order_relaxed) > 0) {
      if (Behavior* b = take_shared(self, w, false)) {
        w.batch_resets.bump();
        requeue_pending(w);
        return b;
      }
    }
    return pop_private(w, self);
  }
  BOC_SYSTEMATIC_YIELD("pool.find_work.shared");
  // Relaxed hints: the parking protocol re-checks with seq_cst before sleeping.
  if (w.shared_count.load(std::memory_order_relaxed) > 0) {
    if (Behavior* b = take_shared(self, w, false)) return b;
  }
  const std::size_t n = workers_.size();
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t victim = (self + k) % n;
    if (workers_[victim]->shared_count.load(std::memory_order_relaxed) == 0) continue;
    if (Behavior* b = take_shared(victim, w, true)) return b;
  }
  return nullptr;
}

bool WorkerPool::any_shared_work() const noexcept {
  for (const auto& w : workers_) {
    // Seq_cst: the parker's half of the Dekker pair with push_shared().
    if (w->shared_count.load(std::memory_order_seq_cst) > 0) return true;
  }
  return false;
}

void WorkerPool::worker_main(std::size_t index) {
  tl_pool = this;
  tl_index = index;
  Worker& self = *workers_[index];
  if (on_start_) on_start_(index);
  bool ran = false;
  for (;;) {
    if (Behavior* b = find_work(index)) {
      rt_.run_on_worker(b, index);
      ran = true;
      continue;
    }
    // Out of work: the private list and slot are empty, so everything left is in shared
    // queues, which the spin and the parking check below look at.
    if (ran) {
      if (on_idle_) on_idle_(index);
      rt_.on_worker_idle();
    }
    ran = false;
    BOC_SYSTEMATIC_YIELD("worker.idle");
    // Relaxed: a hint for sharing (see the header).
    idle_.fetch_add(1, std::memory_order_relaxed);
    Behavior* b = nullptr;
#ifdef BOC_SYSTEMATIC
    // Virtual time stands still while a thread runs: spin a run-chosen number
    // of tries (0-3) instead of a duration, then park.
    (void)spin_;
    const std::size_t tries = systematic::choose(4);
    for (std::size_t t = 0; t < tries && (b = find_work(index)) == nullptr; ++t) {
      BOC_SYSTEMATIC_YIELD("worker.spin");
    }
#else
    // Bounded spin before parking: a wake-up from a futex costs tens of µs on
    // this class of VM, a short spin catches the common back-to-back hand-off.
    const auto spin_until = std::chrono::steady_clock::now() + spin_;
    detail::SpinWait spin;
    unsigned tries = 0;
    while ((b = find_work(index)) == nullptr) {
      spin.once();
      if (++tries % 16 == 0 && std::chrono::steady_clock::now() >= spin_until) break;
    }
#endif
    if (b == nullptr) {
      std::unique_lock lock(park_mu_);
      self.parked.bump();
      // Seq_cst: Dekker pair with shared_count (see push_shared).
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      BOC_SYSTEMATIC_YIELD("worker.park.recheck");
      const auto woken = [this] { return stop_ || any_shared_work(); };
      // Every worker idle for kReleaseAfterIdle: a drained backlog's memory
      // goes back (runtime/core/small_alloc.cpp). Not while another worker
      // still runs, which would carve again what this one gave back, nor at
      // once: a burst that resumes sooner reuses it, and a run that ends
      // (stop_) does not pay for the pass. Relaxed: a hint (see the header).
      if (idle_.load(std::memory_order_relaxed) == workers_.size() && detail::pool_surplus_pending() &&
          !park_cv_.wait_for(lock, kReleaseAfterIdle, woken)) {
        lock.unlock();
        detail::release_pool_surplus();
        lock.lock();
      }
      while (!woken()) park_cv_.wait(lock);
      BOC_SYSTEMATIC_YIELD("worker.park.woken");
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      // Exit only once nothing is left to run.
      const bool exit = stop_ && !any_shared_work();
      lock.unlock();
      // Relaxed: see above.
      idle_.fetch_sub(1, std::memory_order_relaxed);
      if (exit) break;
      continue;
    }
    // Relaxed: see above.
    idle_.fetch_sub(1, std::memory_order_relaxed);
    rt_.run_on_worker(b, index);
    ran = true;
  }
  if (on_stop_) on_stop_(index);
  tl_pool = nullptr;
}

std::vector<WorkerStats> WorkerPool::stats() const {
  std::vector<WorkerStats> out;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Worker& w = *workers_[i];
    WorkerStats s;
    s.worker_index = i;
    s.pushed_local = w.pushed_local.get();
    s.dispatched_to_pending = w.dispatched_to_pending.get();
    s.pushed_remote = w.pushed_remote.get();
    s.popped_local = w.popped_local.get();
    s.popped_via_steal = w.popped_via_steal.get();
    s.enqueue_contended = w.enqueue_contended.get();
    s.dequeue_contended = w.dequeue_contended.get();
    s.batch_resets = w.batch_resets.get();
    s.steal_attempts = w.steal_attempts.get();
    s.steal_failures = w.steal_failures.get();
    s.last_steal_attempt_ns = w.last_steal_attempt_ns.get();
    s.shares = w.shares.get();
    s.parked = w.parked.get();
    out.push_back(s);
  }
  return out;
}

void WorkerPool::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  BOC_SYSTEMATIC_YIELD("pool.stop");
  {
    std::lock_guard lock(park_mu_);
    stop_ = true;
  }
  park_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

}  // namespace boc
