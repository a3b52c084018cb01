// Systematic testing of the core (the `systematic` preset, BOC_SYSTEMATIC).
//
// In a systematic build every thread that takes part in a run (the test's main
// thread, the workers, threads made with boc::systematic::Thread) is serialised
// by one token: only its holder runs core code. At each hook point in the
// protocol (BOC_SYSTEMATIC_YIELD) the holder draws from a PRNG seeded by
// BOC_SYSTEMATIC_SEED whether to hand the token to another runnable thread, and
// to which. Blocking never happens outside the scheduler: the core's mutexes,
// condition variables, spins, sleeps and joins become scheduler waits, so the
// test scheduler cannot deadlock by itself, and time spent waiting is virtual
// (it jumps to the next deadline only once every thread waits). The same seed
// therefore replays the same interleaving. A run in which every thread waits
// and no deadline is pending is a deadlock: the scheduler prints the run's seed and
// the threads' wait points, then aborts.
//
// In normal builds only the aliases (std::mutex, std::condition_variable,
// std::thread) and an empty BOC_SYSTEMATIC_YIELD remain: no cost.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#ifdef BOC_SYSTEMATIC

#include <atomic>
#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace boc::systematic {

inline constexpr bool kEnabled = true;
inline constexpr std::int64_t kNever = INT64_MAX;

/// Starts a run from `seed` on the calling thread (it holds the token); seed()
/// returns it.
void begin(std::uint64_t seed);
/// Ends the run; every other thread of it must have finished.
void end() noexcept;
/// True between begin() and end() on a thread that takes part in the run.
bool on_scheduled_thread() noexcept;
std::uint64_t seed() noexcept;
/// The line a failure report ends with (default "BOC_SYSTEMATIC_SEED=<seed> reproduces").
void set_reproducer(std::string text);
/// Hook points passed and token hand-offs made in this run (diagnostics).
std::uint64_t steps() noexcept;
std::uint64_t switches() noexcept;

/// A hook point: may hand the token to another thread.
void yield(const char* point) noexcept;
/// One failed check of a spin loop (the thread is waiting, not working): the
/// token always moves on. Call spin_done() when the loop ends.
void spin(const char* point) noexcept;
void spin_done() noexcept;
/// Blocks on `channel` (any address) until notify(channel) or the virtual
/// `deadline_ns` (kNever: none). False on timeout.
bool block(const void* channel, std::int64_t deadline_ns, const char* point) noexcept;
/// Wakes one (a PRNG choice) or all threads blocked on `channel`.
void notify(const void* channel, bool all) noexcept;
/// Virtual time in nanoseconds (frozen while any thread can run).
std::int64_t now_ns() noexcept;
/// A PRNG draw in [0, n) (n > 0) for a run-dependent choice, e.g. a spin length.
std::size_t choose(std::size_t n) noexcept;

/// std::chrono::steady_clock in normal builds; virtual time on a scheduled thread.
struct WaitClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<WaitClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};

/// Sleeps (virtual time on a scheduled thread).
void sleep_for(std::chrono::nanoseconds d) noexcept;

/// Waits until pred() or the timeout (virtual time on a scheduled thread);
/// pred() must only read. Returns pred().
bool wait_until(const std::function<bool()>& pred, std::optional<std::chrono::nanoseconds> timeout,
                const char* point = "wait_until");

/// std::mutex whose waits go through the scheduler.
class Mutex {
 public:
  void lock() noexcept;
  bool try_lock() noexcept;
  void unlock() noexcept;

 private:
  std::mutex m_;
  // Scheduled threads blocked in lock(). Relaxed: only read and written by the
  // token holder (the scheduler's hand-off orders them); unscheduled threads
  // never touch it.
  std::atomic<std::uint32_t> waiters_{0};
};

/// std::condition_variable over Mutex whose waits go through the scheduler
/// (virtual time; no spurious wake-ups, so a lost notify shows as a deadlock).
class CondVar {
 public:
  void notify_one() noexcept;
  void notify_all() noexcept;
  void wait(std::unique_lock<Mutex>& lock);
  template <class Pred>
  void wait(std::unique_lock<Mutex>& lock, Pred pred) {
    while (!pred()) wait(lock);
  }
  std::cv_status wait_for(std::unique_lock<Mutex>& lock, std::chrono::nanoseconds d);
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<Mutex>& lock, std::chrono::duration<Rep, Period> d, Pred pred) {
    const std::int64_t deadline = deadline_after(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    while (!pred()) {
      if (!wait_until_ns(lock, deadline)) return pred();
    }
    return true;
  }

 private:
  std::int64_t deadline_after(std::chrono::nanoseconds d) const noexcept;
  /// False on timeout.
  bool wait_until_ns(std::unique_lock<Mutex>& lock, std::int64_t deadline);
  // For threads outside a run (no scheduler): the ordinary primitive.
  std::condition_variable_any fallback_;
};

/// std::thread that takes part in the run of the thread that creates it.
class Thread {
 public:
  Thread() noexcept = default;
  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, Thread>) explicit Thread(F&& f) {
    start(std::function<void()>(std::forward<F>(f)));
  }
  Thread(Thread&&) noexcept = default;
  Thread& operator=(Thread&& other) noexcept;
  ~Thread();
  bool joinable() const noexcept { return thread_.joinable(); }
  std::thread::id get_id() const noexcept { return thread_.get_id(); }
  /// Waits for the thread in the scheduler, then joins it.
  void join();

  struct Record;

 private:
  void start(std::function<void()> body);
  std::thread thread_;
  std::shared_ptr<Record> record_;
};

}  // namespace boc::systematic

#define BOC_SYSTEMATIC_YIELD(point) ::boc::systematic::yield(point)

namespace boc::detail {
using Mutex = systematic::Mutex;
using CondVar = systematic::CondVar;
using Thread = systematic::Thread;
using WaitClock = systematic::WaitClock;
}  // namespace boc::detail

#else  // !BOC_SYSTEMATIC

namespace boc::systematic {
inline constexpr bool kEnabled = false;
}  // namespace boc::systematic

#define BOC_SYSTEMATIC_YIELD(point) ((void)0)

namespace boc::detail {
using Mutex = std::mutex;
using CondVar = std::condition_variable;
using Thread = std::thread;
using WaitClock = std::chrono::steady_clock;
}  // namespace boc::detail

#endif  // BOC_SYSTEMATIC
