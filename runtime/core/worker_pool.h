// The worker pool: N threads, one queue each, work stealing, and parking
// after a short bounded spin. Behaviors dispatched from a worker go to that
// worker's own queue (the successor usually touches the same cowns); others
// are spread round-robin.
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

namespace boc {

class WorkerPool {
 public:
  using Hook = std::function<void(std::size_t)>;
  using Runner = std::function<void(Behavior*)>;

  WorkerPool(std::size_t workers, Runner run, Hook on_start, Hook on_stop,
             std::chrono::microseconds spin);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void push(Behavior* b) noexcept;
  /// Lets the workers finish what is queued, runs on_stop on each worker
  /// thread and joins them. Idempotent.
  void stop() noexcept;

  std::size_t size() const noexcept { return queues_.size(); }
  /// Per-worker counters (exact once the pool is quiet).
  std::vector<WorkerStats> stats() const;
  bool on_worker_thread() const noexcept;

 private:
  struct alignas(64) Queue {
    std::mutex mu;
    Behavior* head = nullptr;
    Behavior* tail = nullptr;
    // Statistics of the worker that owns this queue. Relaxed throughout:
    // counters only, each written by one thread (pushes by any thread).
    std::atomic<std::uint64_t> pushed_local{0};
    std::atomic<std::uint64_t> pushed_remote{0};
    std::atomic<std::uint64_t> popped_local{0};
    std::atomic<std::uint64_t> popped_via_steal{0};
    std::atomic<std::uint64_t> parked{0};
  };

  void worker_main(std::size_t index);
  Behavior* pop_from(std::size_t index) noexcept;
  Behavior* find_work(std::size_t self) noexcept;

  Runner run_;
  Hook on_start_;
  Hook on_stop_;
  std::chrono::microseconds spin_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::thread> threads_;

  // Queued, not yet popped. Seq_cst with idle_ (Dekker): a pusher that does
  // not see an idle worker is seen by that worker's final check, and vice versa.
  alignas(64) std::atomic<std::size_t> pending_{0};
  alignas(64) std::atomic<std::size_t> idle_{0};
  std::atomic<std::size_t> round_robin_{0};
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  bool stop_ = false;  // guarded by park_mu_
  bool stopped_ = false;
};

}  // namespace boc
