#include "worker_pool.h"

#include "spin.h"

namespace boc {
namespace {
// The pool the current thread works for, and its index there.
thread_local const WorkerPool* tl_pool = nullptr;
thread_local std::size_t tl_index = 0;
}  // namespace

WorkerPool::WorkerPool(std::size_t workers, Runner run, Hook on_start, Hook on_stop,
                       std::chrono::microseconds spin)
    : run_(std::move(run)), on_start_(std::move(on_start)), on_stop_(std::move(on_stop)), spin_(spin) {
  if (workers == 0) workers = 1;
  queues_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) queues_.push_back(std::make_unique<Queue>());
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_main(i); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::on_worker_thread() const noexcept { return tl_pool == this; }

void WorkerPool::push(Behavior* b) noexcept {
  std::size_t index;
  if (tl_pool == this) {
    index = tl_index;
  } else {
    // Relaxed: only spreads load; any index is correct.
    index = round_robin_.fetch_add(1, std::memory_order_relaxed) % queues_.size();
  }
  Queue& q = *queues_[index];
  // Relaxed: statistics.
  (tl_pool == this ? q.pushed_local : q.pushed_remote).fetch_add(1, std::memory_order_relaxed);
  b->queue_next_ = nullptr;
  {
    std::lock_guard lock(q.mu);
    if (q.tail != nullptr) {
      q.tail->queue_next_ = b;
    } else {
      q.head = b;
    }
    q.tail = b;
  }
  // Seq_cst: Dekker pair with idle_ (see the header).
  pending_.fetch_add(1, std::memory_order_seq_cst);
  if (idle_.load(std::memory_order_seq_cst) > 0) {
    // Taking park_mu_ orders this notify after a parking worker's predicate
    // check, so the wake-up cannot be lost.
    std::lock_guard lock(park_mu_);
    park_cv_.notify_one();
  }
}

Behavior* WorkerPool::pop_from(std::size_t index) noexcept {
  Queue& q = *queues_[index];
  std::lock_guard lock(q.mu);
  Behavior* b = q.head;
  if (b == nullptr) return nullptr;
  q.head = b->queue_next_;
  if (q.head == nullptr) q.tail = nullptr;
  return b;
}

Behavior* WorkerPool::find_work(std::size_t self) noexcept {
  // Relaxed: a hint to skip lock traffic when nothing is queued anywhere; the
  // parking protocol re-checks with seq_cst before sleeping.
  if (pending_.load(std::memory_order_relaxed) == 0) return nullptr;
  Behavior* b = pop_from(self);
  if (b != nullptr) {
    // Relaxed: statistic.
    queues_[self]->popped_local.fetch_add(1, std::memory_order_relaxed);
  }
  for (std::size_t k = 1; b == nullptr && k < queues_.size(); ++k) {
    b = pop_from((self + k) % queues_.size());  // steal
    if (b != nullptr) {
      // Relaxed: statistic.
      queues_[self]->popped_via_steal.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (b != nullptr) {
    // Relaxed: the queue mutex already orders the node hand-off; the counter
    // only feeds the hint above and the parking check.
    pending_.fetch_sub(1, std::memory_order_relaxed);
  }
  return b;
}

void WorkerPool::worker_main(std::size_t index) {
  tl_pool = this;
  tl_index = index;
  if (on_start_) on_start_(index);
  for (;;) {
    if (Behavior* b = find_work(index)) {
      run_(b);
      continue;
    }
    // Bounded spin before parking: a wake-up from a futex costs tens of µs on
    // this class of VM, a short spin catches the common back-to-back hand-off.
    const auto spin_until = std::chrono::steady_clock::now() + spin_;
    Behavior* b = nullptr;
    detail::SpinWait spin;
    unsigned tries = 0;
    while ((b = find_work(index)) == nullptr) {
      spin.once();
      if (++tries % 16 == 0 && std::chrono::steady_clock::now() >= spin_until) break;
    }
    if (b != nullptr) {
      run_(b);
      continue;
    }
    std::unique_lock lock(park_mu_);
    // Relaxed: statistic.
    queues_[index]->parked.fetch_add(1, std::memory_order_relaxed);
    // Seq_cst: Dekker pair with pending_ (see the header).
    idle_.fetch_add(1, std::memory_order_seq_cst);
    while (!stop_ && pending_.load(std::memory_order_seq_cst) == 0) park_cv_.wait(lock);
    idle_.fetch_sub(1, std::memory_order_seq_cst);
    // Seq_cst: same pairing; exit only once nothing is left to run.
    if (stop_ && pending_.load(std::memory_order_seq_cst) == 0) break;
  }
  if (on_stop_) on_stop_(index);
  tl_pool = nullptr;
}

std::vector<WorkerStats> WorkerPool::stats() const {
  std::vector<WorkerStats> out;
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    const Queue& q = *queues_[i];
    WorkerStats s;
    s.worker_index = i;
    // Relaxed: statistics.
    s.pushed_local = q.pushed_local.load(std::memory_order_relaxed);
    s.pushed_remote = q.pushed_remote.load(std::memory_order_relaxed);
    s.popped_local = q.popped_local.load(std::memory_order_relaxed);
    s.popped_via_steal = q.popped_via_steal.load(std::memory_order_relaxed);
    s.parked = q.parked.load(std::memory_order_relaxed);
    out.push_back(s);
  }
  return out;
}

void WorkerPool::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(park_mu_);
    stop_ = true;
  }
  park_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

}  // namespace boc
