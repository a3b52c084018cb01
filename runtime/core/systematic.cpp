// The systematic-testing scheduler (see boc/systematic.h). Only compiled into
// BOC_SYSTEMATIC builds; written for this project after the idea of verona-rt's
// Systematic (a seeded scheduler that serialises threads), not its code.
//
// One token, held by one registered thread. Every registered thread is in one
// of four states:
//   runnable  may be handed the token;
//   spinning  in a spin loop whose last check failed: worth running again only
//             once some thread did something (`epoch` moved on since its check);
//   blocked   on a channel (a mutex, a condition variable, a thread being
//             joined) until notified, or until virtual time reaches its deadline;
//   finished  gone.
// A thread that must give up the token (spin, block, finish) hands it to a
// PRNG-chosen runnable thread; at a plain hook point the holder does so with
// probability 1/switch_one_in (drawn per run). When no thread can run, virtual
// time jumps to the earliest pending deadline; with none pending it is a
// deadlock, reported with the run's seed.
#ifdef BOC_SYSTEMATIC

#include "boc/systematic.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <string>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define BOC_SYSTEMATIC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BOC_SYSTEMATIC_TSAN 1
#endif
#endif

#ifdef BOC_SYSTEMATIC_TSAN
// The scheduler's own synchronisation (its mutex and the hand-off between
// token holders) would give TSan a happens-before edge between every two
// consecutive holders and hide every race in the code under test. Inside the
// scheduler, TSan ignores both our synchronisation and our memory accesses, so
// it judges the core only by the core's own synchronisation.
extern "C" {
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace boc::systematic {

namespace {

enum class State : std::uint8_t { kRunnable, kSpinning, kBlocked, kFinished };

const char* state_name(State s) {
  switch (s) {
    case State::kRunnable: return "runnable";
    case State::kSpinning: return "spinning";
    case State::kBlocked: return "blocked";
    case State::kFinished: return "finished";
  }
  return "?";
}

}  // namespace

// One registered thread.
struct Thread::Record {
  std::uint32_t id = 0;
  std::condition_variable cv;  // signalled when this thread is handed the token
  State state = State::kRunnable;
  const void* channel = nullptr;   // while blocked
  std::int64_t deadline = kNever;  // while blocked or spinning
  bool timed_out = false;
  std::uint64_t idle_epoch = 0;  // while spinning: the epoch of its last failed check
  const char* point = "start";   // last hook point (deadlock reports, traces)
};

namespace {

using Rec = Thread::Record;
constexpr std::int64_t kStartNs = 1'000'000'000;  // virtual time at begin()

// splitmix64: small, fast, and good enough to pick threads.
struct Prng {
  std::uint64_t s = 0;
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
};

struct Sched {
  std::mutex mu;
  bool active = false;
  std::uint64_t seed = 0;
  Prng rng;
  unsigned switch_one_in = 1;
  std::vector<Rec*> threads;  // live records, in registration order (deterministic)
  std::shared_ptr<Rec> main;  // the thread that called begin()
  Rec* holder = nullptr;
  std::uint64_t epoch = 1;
  // Virtual time. Relaxed: written only by a token holder inside the scheduler
  // and read by token holders; the hand-off orders them.
  std::atomic<std::int64_t> now{kStartNs};
  std::uint64_t steps = 0;
  std::uint64_t switches = 0;
  std::uint64_t max_steps = 0;
  std::uint32_t next_id = 0;
  bool trace = false;
  std::vector<Rec*> scratch;
};

Sched& sched() {
  static Sched* s = new Sched;  // never destroyed: threads may hook during exit
  return *s;
}

thread_local Rec* tl_rec = nullptr;

// Scoped: TSan ignores the scheduler (see the top of the file).
class Internal {
 public:
  Internal() {
#ifdef BOC_SYSTEMATIC_TSAN
    AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
  }
  ~Internal() {
#ifdef BOC_SYSTEMATIC_TSAN
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
#endif
  }
  Internal(const Internal&) = delete;
  Internal& operator=(const Internal&) = delete;
};

// Everything below runs with sched().mu held (named *_locked).

bool choosable(const Sched& s, const Rec* r) {
  switch (r->state) {
    case State::kRunnable: return true;
    case State::kSpinning: return r->idle_epoch != s.epoch;
    default: return false;
  }
}

std::string reproducer;  // guarded by sched().mu

[[noreturn]] void fail_locked(Sched& s, const char* what) {
  std::fprintf(stderr, "\nsystematic: %s (seed %" PRIu64 ", step %" PRIu64 ", virtual time %" PRId64 " ns)\n", what,
               s.seed, s.steps, s.now.load(std::memory_order_relaxed));
  for (const Rec* r : s.threads) {
    std::fprintf(stderr, "  thread %u: %s at %s%s\n", r->id, state_name(r->state), r->point,
                 r == s.holder ? " (holds the token)" : "");
  }
  std::fprintf(stderr, "systematic: %s\n",
               reproducer.empty() ? ("BOC_SYSTEMATIC_SEED=" + std::to_string(s.seed) + " reproduces").c_str()
                                  : reproducer.c_str());
  std::fflush(stderr);
  std::abort();
}

void count_step_locked(Sched& s, Rec* me, const char* point) {
  me->point = point;
  if (++s.steps > s.max_steps) fail_locked(s, "livelock: step limit reached (BOC_SYSTEMATIC_MAX_STEPS)");
}

// Some thread did something: spinners must look again.
void progress_locked(Sched& s) { ++s.epoch; }

void wake_locked(Rec* r, bool timed_out) {
  r->state = State::kRunnable;
  r->channel = nullptr;
  r->deadline = kNever;
  r->timed_out = timed_out;
}

// Nobody can run: jump virtual time to the earliest deadline. False if none.
bool advance_time_locked(Sched& s) {
  std::int64_t t = kNever;
  for (const Rec* r : s.threads) {
    if ((r->state == State::kBlocked || r->state == State::kSpinning) && r->deadline < t) t = r->deadline;
  }
  if (t == kNever) return false;
  // Relaxed: see Sched::now.
  if (t > s.now.load(std::memory_order_relaxed)) s.now.store(t, std::memory_order_relaxed);
  for (Rec* r : s.threads) {
    if (r->state == State::kBlocked && r->deadline <= t) wake_locked(r, true);
  }
  progress_locked(s);
  return true;
}

// A thread other than `me` to run, or nullptr.
Rec* pick_other_locked(Sched& s, const Rec* me) {
  s.scratch.clear();
  for (Rec* r : s.threads) {
    if (r != me && choosable(s, r)) s.scratch.push_back(r);
  }
  if (s.scratch.empty()) return nullptr;
  return s.scratch[s.rng.below(s.scratch.size())];
}

// `me` cannot go on (spinning, blocked, finished): who runs next.
Rec* pick_leaving_locked(Sched& s, Rec* me) {
  for (;;) {
    if (Rec* r = pick_other_locked(s, me)) return r;
    if (me->state != State::kFinished && choosable(s, me)) return me;
    if (!advance_time_locked(s)) fail_locked(s, "deadlock: every thread waits and no deadline is pending");
  }
}

void hand_over_locked(Sched& s, Rec* me, Rec* next, std::unique_lock<std::mutex>& lock) {
  if (next == me) return;
  s.holder = next;
  ++s.switches;
  if (s.trace) {
    std::fprintf(stderr, "systematic: step %" PRIu64 ": thread %u (%s) -> thread %u\n", s.steps, me->id, me->point,
                 next->id);
  }
  next->cv.notify_one();
  if (me->state == State::kFinished) return;
  me->cv.wait(lock, [&] { return s.holder == me || !s.active; });
  // Back with the token. A runnable thread goes on with real work, which may
  // change what others wait for before its next hook point: their checks so far
  // are stale. (A spinner only re-reads its predicate; it reports its own end.)
  if (me->state == State::kRunnable) progress_locked(s);
}

// Registers a new thread's record (the creator holds the token).
void register_locked(Sched& s, Rec* r) {
  r->id = s.next_id++;
  r->state = State::kRunnable;
  s.threads.push_back(r);
}

void unregister_locked(Sched& s, Rec* r) {
  for (std::size_t i = 0; i < s.threads.size(); ++i) {
    if (s.threads[i] == r) {
      s.threads.erase(s.threads.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// Spins once; false if virtual time reached `deadline`.
bool spin_locked(Sched& s, Rec* me, const char* point, std::int64_t deadline, std::unique_lock<std::mutex>& lock) {
  count_step_locked(s, me, point);
  me->state = State::kSpinning;
  me->idle_epoch = s.epoch;
  me->deadline = deadline;
  hand_over_locked(s, me, pick_leaving_locked(s, me), lock);
  // Relaxed: see Sched::now.
  return s.now.load(std::memory_order_relaxed) < deadline;
}

void spin_done_locked(Sched& s, Rec* me) {
  me->state = State::kRunnable;
  me->deadline = kNever;
  progress_locked(s);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) { return b > kNever - a ? kNever : a + b; }

}  // namespace

void set_reproducer(std::string text) {
  Internal in;
  std::lock_guard lock(sched().mu);
  reproducer = std::move(text);
}

void begin(std::uint64_t seed) {
  Internal in;
  Sched& s = sched();
  std::lock_guard lock(s.mu);
  if (s.active) {
    std::fprintf(stderr, "systematic: begin() inside a run\n");
    std::abort();
  }
  s.active = true;
  s.seed = seed;
  s.rng.s = seed * 0x2545F4914F6CDD1DULL + 1;
  // How eagerly the token moves at plain hook points: every time, or 1 in 2..16.
  static constexpr unsigned kSwitchOneIn[] = {1, 2, 3, 4, 8, 16};
  s.switch_one_in = kSwitchOneIn[s.rng.below(std::size(kSwitchOneIn))];
  s.threads.clear();
  s.epoch = 1;
  // Relaxed: see Sched::now (no other thread runs yet).
  s.now.store(kStartNs, std::memory_order_relaxed);
  s.steps = 0;
  s.switches = 0;
  s.next_id = 0;
  s.max_steps = env_u64("BOC_SYSTEMATIC_MAX_STEPS", 50'000'000);
  s.trace = env_u64("BOC_SYSTEMATIC_TRACE", 0) != 0;
  s.main = std::make_shared<Rec>();
  register_locked(s, s.main.get());
  s.holder = s.main.get();
  tl_rec = s.main.get();
}

void end() noexcept {
  Internal in;
  Sched& s = sched();
  std::lock_guard lock(s.mu);
  if (!s.active) return;
  if (s.threads.size() > 1) {
    std::fprintf(stderr, "systematic: end() with %zu threads still registered; they run unscheduled from here\n",
                 s.threads.size() - 1);
  }
  s.active = false;
  s.holder = nullptr;
  for (Rec* r : s.threads) r->cv.notify_all();
  s.threads.clear();
  tl_rec = nullptr;
}

bool on_scheduled_thread() noexcept { return tl_rec != nullptr; }

std::uint64_t seed() noexcept {
  Internal in;
  std::lock_guard lock(sched().mu);
  return sched().seed;
}

std::uint64_t steps() noexcept {
  Internal in;
  std::lock_guard lock(sched().mu);
  return sched().steps;
}

std::uint64_t switches() noexcept {
  Internal in;
  std::lock_guard lock(sched().mu);
  return sched().switches;
}

void yield(const char* point) noexcept {
  Rec* me = tl_rec;
  if (me == nullptr) return;
  Internal in;
  Sched& s = sched();
  std::unique_lock lock(s.mu);
  if (!s.active) return;
  count_step_locked(s, me, point);
  me->state = State::kRunnable;
  progress_locked(s);
  if (s.switch_one_in > 1 && s.rng.below(s.switch_one_in) != 0) return;
  if (Rec* next = pick_other_locked(s, me)) hand_over_locked(s, me, next, lock);
}

void spin(const char* point) noexcept {
  Rec* me = tl_rec;
  if (me == nullptr) {
    std::this_thread::yield();
    return;
  }
  Internal in;
  Sched& s = sched();
  std::unique_lock lock(s.mu);
  if (!s.active) return;
  (void)spin_locked(s, me, point, kNever, lock);
}

void spin_done() noexcept {
  Rec* me = tl_rec;
  if (me == nullptr) return;
  Internal in;
  Sched& s = sched();
  std::lock_guard lock(s.mu);
  if (!s.active) return;
  spin_done_locked(s, me);
}

bool block(const void* channel, std::int64_t deadline_ns, const char* point) noexcept {
  Rec* me = tl_rec;
  if (me == nullptr) return true;
  Internal in;
  Sched& s = sched();
  std::unique_lock lock(s.mu);
  if (!s.active) return true;
  count_step_locked(s, me, point);
  // Relaxed: see Sched::now.
  if (deadline_ns <= s.now.load(std::memory_order_relaxed)) return false;
  me->state = State::kBlocked;
  me->channel = channel;
  me->deadline = deadline_ns;
  me->timed_out = false;
  hand_over_locked(s, me, pick_leaving_locked(s, me), lock);
  // The waker set us runnable (notify, or virtual time reached the deadline).
  return !me->timed_out;
}

void notify(const void* channel, bool all) noexcept {
  Internal in;
  Sched& s = sched();
  std::lock_guard lock(s.mu);
  if (!s.active) return;
  std::vector<Rec*>& blocked = s.scratch;
  blocked.clear();
  for (Rec* r : s.threads) {
    if (r->state == State::kBlocked && r->channel == channel) blocked.push_back(r);
  }
  if (blocked.empty()) return;
  if (all) {
    for (Rec* r : blocked) wake_locked(r, false);
  } else {
    wake_locked(blocked[s.rng.below(blocked.size())], false);
  }
  progress_locked(s);
}

std::int64_t now_ns() noexcept {
  // Relaxed: see Sched::now.
  return sched().now.load(std::memory_order_relaxed);
}

std::size_t choose(std::size_t n) noexcept {
  if (tl_rec == nullptr || n <= 1) return 0;
  Internal in;
  Sched& s = sched();
  std::lock_guard lock(s.mu);
  return s.active ? s.rng.below(n) : 0;
}

WaitClock::time_point WaitClock::now() noexcept {
  if (tl_rec != nullptr) return time_point(duration(now_ns()));
  return time_point(std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

void sleep_for(std::chrono::nanoseconds d) noexcept {
  if (tl_rec == nullptr) {
    std::this_thread::sleep_for(d);
    return;
  }
  const std::int64_t deadline = saturating_add(now_ns(), std::max<std::int64_t>(1, d.count()));
  // A channel nobody notifies: only the deadline ends it.
  static const char kSleep = 0;
  while (block(&kSleep, deadline, "sleep_for")) {
  }
}

bool wait_until(const std::function<bool()>& pred, std::optional<std::chrono::nanoseconds> timeout, const char* point) {
  Rec* me = tl_rec;
  if (me == nullptr) {
    const auto give_up =
        timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= give_up) return pred();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
  }
  const std::int64_t deadline = timeout ? saturating_add(now_ns(), timeout->count()) : kNever;
  bool ok = true;
  while (!pred()) {
    Internal in;
    Sched& s = sched();
    std::unique_lock lock(s.mu);
    if (!s.active) return pred();
    if (!spin_locked(s, me, point, deadline, lock)) {
      lock.unlock();
      ok = pred();
      break;
    }
  }
  spin_done();
  return ok;
}

// Mutex ----------------------------------------------------------------------

void Mutex::lock() noexcept {
  if (tl_rec == nullptr) {
    m_.lock();
    return;
  }
  yield("mutex.lock");
  while (!m_.try_lock()) {
    // Relaxed: see waiters_.
    waiters_.fetch_add(1, std::memory_order_relaxed);
    (void)block(this, kNever, "mutex.lock (contended)");
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool Mutex::try_lock() noexcept {
  yield("mutex.try_lock");
  return m_.try_lock();
}

void Mutex::unlock() noexcept {
  m_.unlock();
  // Not a hook point: CondVar::wait relies on unlock + block being one step.
  // Relaxed: see waiters_.
  if (waiters_.load(std::memory_order_relaxed) > 0) notify(this, true);
}

// CondVar --------------------------------------------------------------------

void CondVar::notify_one() noexcept {
  BOC_SYSTEMATIC_YIELD("condvar.notify_one");
  notify(this, false);
  fallback_.notify_one();
}

void CondVar::notify_all() noexcept {
  BOC_SYSTEMATIC_YIELD("condvar.notify_all");
  notify(this, true);
  fallback_.notify_all();
}

std::int64_t CondVar::deadline_after(std::chrono::nanoseconds d) const noexcept {
  return saturating_add(now_ns(), std::max<std::int64_t>(0, d.count()));
}

bool CondVar::wait_until_ns(std::unique_lock<Mutex>& lock, std::int64_t deadline) {
  if (tl_rec == nullptr) {
    const std::int64_t left = deadline == kNever ? kNever : deadline - now_ns();
    if (left == kNever) {
      fallback_.wait(lock);
      return true;
    }
    return fallback_.wait_for(lock, std::chrono::nanoseconds(left)) == std::cv_status::no_timeout;
  }
  // Unlock and block are one step: no other thread runs in between, so a
  // notify cannot be lost (as with the real primitive).
  lock.unlock();
  const bool notified = block(this, deadline, "condvar.wait");
  lock.lock();
  return notified;
}

void CondVar::wait(std::unique_lock<Mutex>& lock) {
  if (tl_rec == nullptr) {
    fallback_.wait(lock);
    return;
  }
  (void)wait_until_ns(lock, kNever);
}

std::cv_status CondVar::wait_for(std::unique_lock<Mutex>& lock, std::chrono::nanoseconds d) {
  if (tl_rec == nullptr) return fallback_.wait_for(lock, d);
  return wait_until_ns(lock, deadline_after(d)) ? std::cv_status::no_timeout : std::cv_status::timeout;
}

// Thread ---------------------------------------------------------------------

Thread& Thread::operator=(Thread&& other) noexcept {
  if (thread_.joinable()) std::terminate();
  thread_ = std::move(other.thread_);
  record_ = std::move(other.record_);
  return *this;
}

Thread::~Thread() {
  if (thread_.joinable()) std::terminate();
}

void Thread::start(std::function<void()> body) {
  if (tl_rec == nullptr) {
    thread_ = std::thread(std::move(body));
    return;
  }
  BOC_SYSTEMATIC_YIELD("thread.start");
  record_ = std::make_shared<Record>();
  {
    Internal in;
    Sched& s = sched();
    std::lock_guard lock(s.mu);
    if (s.active) register_locked(s, record_.get());
  }
  thread_ = std::thread([rec = record_, body = std::move(body)] {
    {
      Internal in;
      Sched& s = sched();
      std::unique_lock lock(s.mu);
      if (s.active) {
        tl_rec = rec.get();
        rec->cv.wait(lock, [&] { return s.holder == rec.get() || !s.active; });
        if (!s.active) tl_rec = nullptr;
        progress_locked(s);  // starts real work (see hand_over_locked)
      }
    }
    body();
    Rec* me = tl_rec;
    tl_rec = nullptr;
    if (me == nullptr) return;
    Internal in;
    Sched& s = sched();
    std::unique_lock lock(s.mu);
    if (!s.active) return;
    count_step_locked(s, me, "thread.exit");
    me->state = State::kFinished;
    // Wake the joiner (blocked on the record).
    for (Rec* r : s.threads) {
      if (r->state == State::kBlocked && r->channel == me) wake_locked(r, false);
    }
    progress_locked(s);
    Rec* next = pick_leaving_locked(s, me);
    unregister_locked(s, me);
    hand_over_locked(s, me, next, lock);
  });
}

void Thread::join() {
  if (record_ != nullptr && tl_rec != nullptr) {
    BOC_SYSTEMATIC_YIELD("thread.join");
    for (;;) {
      bool done;
      {
        Internal in;
        Sched& s = sched();
        std::lock_guard lock(s.mu);
        done = !s.active || record_->state == State::kFinished;
      }
      if (done) break;
      (void)block(record_.get(), kNever, "thread.join");
    }
    spin_done();
  }
  // The thread has left the scheduler: this join is short.
  thread_.join();
  record_.reset();
}

}  // namespace boc::systematic

#endif  // BOC_SYSTEMATIC
