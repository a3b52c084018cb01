// when_detached (no result cown) and the runtime's split counters and
// per-thread pools: invariants over random request sets and worker counts.
// No timing assertions: only exclusivity, order, counts and leaks.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "test_support.h"

namespace boc::test {
namespace {

using namespace std::chrono_literals;

struct DetachedParam {
  std::size_t workers;
  unsigned seed;
};

class DetachedStressTest : public LeakCheckedTest, public ::testing::WithParamInterface<DetachedParam> {
 protected:
  RuntimeOptions options() const {
    RuntimeOptions o;
    o.worker_count = GetParam().workers;
    return o;
  }
};

// Records one visit of a behavior to a slot and checks it holds the slot alone.
void visit(Slot& s, int id, std::atomic<int>& violations) {
  if (s.holders.fetch_add(1) != 0) ++violations;
  s.log.push_back(id);
  ++s.value;
  s.holders.fetch_sub(1);
}

// Random sets of 1-3 cowns (duplicates allowed) from the main thread, some
// spawning a nested detached behavior from the worker: every body runs once,
// alone on its cowns, and the top-level ones reach each cown in schedule order.
TEST_P(DetachedStressTest, RandomSetsRunOnceExclusivelyInScheduleOrder) {
  Runtime rt(options());
  constexpr int kCowns = 16;
  constexpr int kBehaviors = sized(4000, 200);
  std::vector<CownPtr<Slot>> cowns;
  for (int i = 0; i < kCowns; ++i) cowns.push_back(make_cown<Slot>());
  std::mt19937 rng(GetParam().seed);
  std::vector<long> expected(kCowns, 0);
  std::atomic<int> violations{0};
  std::atomic<int> nested_ran{0};
  int nested_expected = 0;
  for (int n = 0; n < kBehaviors; ++n) {
    const int arity = 1 + static_cast<int>(rng() % 3);
    int idx[3];
    for (int j = 0; j < arity; ++j) idx[j] = static_cast<int>(rng() % kCowns);
    std::vector<int> distinct(idx, idx + arity);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int i : distinct) ++expected[i];
    const bool nested = rng() % 8 == 0;
    const int extra = static_cast<int>(rng() % kCowns);
    if (nested) {
      ++expected[extra];
      ++nested_expected;
    }
    std::vector<Slot*> slots;
    for (int i : distinct) slots.push_back(&cowns[i]->value());
    auto body = [slots, n, nested, extra, &cowns, &violations, &nested_ran] {
      for (Slot* s : slots) visit(*s, n, violations);
      if (nested) {
        when_detached(cowns[extra], [&violations, &nested_ran](Slot& s) {
          visit(s, -1, violations);
          ++nested_ran;
        });
      }
    };
    if (arity == 1) {
      when_detached(cowns[idx[0]], [body](Slot&) { body(); });
    } else if (arity == 2) {
      when_detached(cowns[idx[0]], cowns[idx[1]], [body](Slot&, Slot&) { body(); });
    } else {
      when_detached(cowns[idx[0]], cowns[idx[1]], cowns[idx[2]], [body](Slot&, Slot&, Slot&) { body(); });
    }
  }
  ASSERT_TRUE(rt.quiesce(300s)) << "deadlock or lost wake-up";
  EXPECT_EQ(rt.in_flight(), 0u);
  EXPECT_EQ(rt.worker_active(), 0u);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(nested_ran.load(), nested_expected);
  const RuntimeStats stats = rt.stats();
  EXPECT_EQ(stats.scheduled, stats.completed);
  EXPECT_EQ(stats.scheduled, static_cast<std::uint64_t>(kBehaviors + nested_expected));
  for (int i = 0; i < kCowns; ++i) {
    const Slot& s = cowns[i]->value();
    EXPECT_EQ(s.value, expected[i]) << "cown " << i;
    std::vector<int> top;
    for (int id : s.log)
      if (id >= 0) top.push_back(id);
    EXPECT_TRUE(std::is_sorted(top.begin(), top.end())) << "cown " << i << " saw behaviors out of order";
  }
}

// Work that spawns work from the workers (random fan-out trees of detached
// behaviors): quiesce() returns only once every one of them ran, so the
// split terminator never reads a false zero.
TEST_P(DetachedStressTest, SpawnTreesAreAllDoneWhenQuiesceReturns) {
  Runtime rt(options());
  constexpr int kCowns = 8;
  std::vector<CownPtr<long>> cowns;
  for (int i = 0; i < kCowns; ++i) cowns.push_back(make_cown<long>(0));
  std::atomic<long> ran{0};
  struct Tree {
    std::vector<CownPtr<long>>* cowns;
    std::atomic<long>* ran;
    void spawn(std::uint64_t state, int depth) const {
      const Tree self = *this;
      const std::size_t c = state % cowns->size();
      when_detached((*cowns)[c], [self, state, depth](long& v) {
        ++v;
        self.ran->fetch_add(1);
        if (depth == 0) return;
        // 0-3 children, deterministic from the state.
        const int children = static_cast<int>((state >> 7) % 4);
        for (int k = 0; k < children; ++k)
          self.spawn(state * 6364136223846793005ULL + 1442695040888963407ULL + k, depth - 1);
      });
    }
  };
  // Count the tree sizes with the same recurrence, sequentially.
  std::function<long(std::uint64_t, int)> size = [&](std::uint64_t state, int depth) -> long {
    if (depth == 0) return 1;
    long s = 1;
    const int children = static_cast<int>((state >> 7) % 4);
    for (int k = 0; k < children; ++k)
      s += size(state * 6364136223846793005ULL + 1442695040888963407ULL + k, depth - 1);
    return s;
  };
  std::mt19937_64 rng(GetParam().seed);
  constexpr int kDepth = sized(6, 3);
  for (int round = 0; round < sized(20, 2); ++round) {
    ran = 0;
    long expected = 0;
    Tree t{&cowns, &ran};
    for (int r = 0; r < 4; ++r) {
      const std::uint64_t seed = rng();
      expected += size(seed, kDepth);
      t.spawn(seed, kDepth);
    }
    ASSERT_TRUE(rt.quiesce(300s));
    EXPECT_EQ(ran.load(), expected) << "round " << round;
    EXPECT_EQ(rt.in_flight(), 0u);
  }
  long total = 0;
  for (auto& c : cowns) total += c->value();
  EXPECT_EQ(total, static_cast<long>(rt.stats().completed));
}

// Behaviors scheduled from short-lived host threads that exit before their
// behaviors run: memory from an exited thread's pool is freed on workers and
// reused; nothing leaks and every body runs.
TEST_P(DetachedStressTest, HostThreadsThatExitEarly) {
  const std::size_t cowns_before = CownBase::live_count();
  {
    Runtime rt(options());
    auto counter = make_cown<long>(0);
    constexpr int kThreads = sized(8, 3);
    constexpr int kPerThread = sized(2000, 30);
    constexpr int kRounds = sized(3, 1);
    for (int round = 0; round < kRounds; ++round) {
      std::vector<Thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&rt, counter] {
          for (int i = 0; i < kPerThread; ++i) {
            auto temp = make_cown<int>(i);  // a cown made here and freed on a worker
            when_detached_in(rt, counter, temp, [](long& c, int&) { ++c; });
          }
        });
      }
      for (auto& th : threads) th.join();
    }
    ASSERT_TRUE(rt.quiesce(300s));
    EXPECT_EQ(counter->value(), static_cast<long>(kRounds) * kThreads * kPerThread);
  }
  EXPECT_EQ(CownBase::live_count(), cowns_before);
}

std::vector<DetachedParam> detached_params() {
  std::vector<DetachedParam> out;
  for (std::size_t w : {1, 2, 3, 8})
    for (unsigned seed : {3u, 99u}) out.push_back({w, seed});
  return out;
}

INSTANTIATE_TEST_SUITE_P(WorkersAndSeeds, DetachedStressTest, ::testing::ValuesIn(detached_params()),
                         [](const ::testing::TestParamInfo<DetachedParam>& p) {
                           return "workers" + std::to_string(p.param.workers) + "_seed" + std::to_string(p.param.seed);
                         });

class DetachedTest : public LeakCheckedTest {};

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(BOC_SYSTEMATIC)
// Resident bytes of this process (/proc/self/statm's second field, in pages).
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size_pages = 0;
  std::size_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A backlog's behaviors and cowns come from the pools' slabs; once it drained
// and the workers stayed idle, one of them gives the slabs back to the system
// (runtime/core/small_alloc.cpp), so the process's resident memory returns to
// where it was, not to the backlog's peak. (Sanitizers keep freed memory, and
// the pools are bypassed under ASan.)
TEST_F(DetachedTest, ADrainedBacklogGivesItsMemoryBack) {
  RuntimeOptions o;
  o.worker_count = 2;
  Runtime rt(o);
  auto gate = make_cown<int>(0);
  ASSERT_TRUE(rt.quiesce(60s));
  const std::size_t before = resident_bytes();
  constexpr int kBacklog = sized(200000, 2000);
  std::atomic<int> ran{0};        // relaxed adds: quiesce() orders them before the read
  std::atomic<bool> open{false};  // seq_cst (default): a test's one-off flag
  // The first behavior holds the gate until the whole backlog is queued.
  when_detached(gate, [&open](int&) {
    while (!open.load()) std::this_thread::yield();
  });
  for (int i = 0; i < kBacklog; ++i) {
    when_detached(gate, make_cown<int>(i), [&ran](int&, int&) { ran.fetch_add(1, std::memory_order_relaxed); });
  }
  const std::size_t peak = resident_bytes();
  open.store(true);
  ASSERT_TRUE(rt.quiesce(300s));
  EXPECT_EQ(ran.load(), kBacklog);
  ASSERT_GT(peak, before + (32u << 20)) << "the backlog should have taken tens of MB";
  // Workers release once they have been idle for a while; give them the chance.
  std::size_t after = resident_bytes();
  for (int i = 0; i < 1000 && after > before + (16u << 20); ++i) {
    std::this_thread::sleep_for(10ms);
    after = resident_bytes();
  }
  EXPECT_LE(after, before + (16u << 20)) << "peak " << (peak >> 20) << " MB, before " << (before >> 20) << " MB";
}
#endif

TEST_F(DetachedTest, MakesNoResultCown) {
  Runtime rt;
  auto c = make_cown<int>(0);
  const std::size_t before = CownBase::live_count();
  std::size_t inside_detached = 0;
  std::size_t inside_when = 0;
  when_detached(c, [&](int&) { inside_detached = CownBase::live_count(); });
  ASSERT_TRUE(rt.quiesce(60s));
  {
    auto r = when(c, [&](int&) { inside_when = CownBase::live_count(); });
  }
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(inside_detached, before);
  EXPECT_EQ(inside_when, before + 1);  // when() keeps a result cown alive while it runs
}

// A body that counts how often it is copied and moved.
struct CountingBody {
  std::atomic<int>* copies;
  std::atomic<int>* moves;
  CountingBody(std::atomic<int>* c, std::atomic<int>* m) : copies(c), moves(m) {}
  CountingBody(const CountingBody& o) : copies(o.copies), moves(o.moves) { ++*copies; }
  CountingBody(CountingBody&& o) noexcept : copies(o.copies), moves(o.moves) { ++*moves; }
  void operator()(int& v) const { ++v; }
};

// The body reaches the behavior with one move (a temporary) or one copy (an
// lvalue), not one per call layer: a lambda with a const capture copies on
// every move, and each copy of a captured CownPtr is an atomic retain and
// release (runtime/include/boc/when.h).
TEST_F(DetachedTest, TheBodyIsMovedOrCopiedOnceIntoTheBehavior) {
  Runtime rt;
  auto c = make_cown<int>(0);
  std::atomic<int> copies{0};
  std::atomic<int> moves{0};
  when_detached(c, CountingBody(&copies, &moves));
  EXPECT_EQ(copies.load(), 0);
  EXPECT_EQ(moves.load(), 1);
  const CountingBody body(&copies, &moves);
  copies = 0;
  moves = 0;
  when_detached(c, body);
  EXPECT_EQ(copies.load(), 1);
  EXPECT_EQ(moves.load(), 0);
  copies = 0;
  moves = 0;
  auto r = when(c, CountingBody(&copies, &moves));
  EXPECT_EQ(copies.load(), 0);
  EXPECT_EQ(moves.load(), 1);
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(c->value(), 3);
}

// A one-cown behavior whose body captures one pointer (peer_schedule's
// self-rescheduling step, tests/bench/peer_schedule.cpp) is one 64-byte pool
// class: its request lives inside it and its cown is read from there.
TEST_F(DetachedTest, AOneCownBehaviorWithAPointerBodyIsOneCacheLine) {
  int* target = nullptr;
  auto body = [target](int& v) { v += target == nullptr ? 1 : 0; };
  EXPECT_EQ(sizeof(detail::DetachedBehavior<decltype(body), int>), 64u);
  EXPECT_EQ(sizeof(Request), 16u);
  Runtime rt;
  auto c = make_cown<int>(0);
  when_detached(c, body);
  when_detached(c.get(), body);
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(c->value(), 2);
}

TEST_F(DetachedTest, ANullCownIsRefusedBeforeAnythingIsMade) {
  Runtime rt;
  auto c = make_cown<int>(0);
  const CownPtr<int> none;
  const std::size_t before = CownBase::live_count();
  bool ran = false;
  EXPECT_THROW(when_detached(none, [&ran](int&) { ran = true; }), std::invalid_argument);
  EXPECT_THROW(when_detached(c, none, [&ran](int&, int&) { ran = true; }), std::invalid_argument);
  EXPECT_THROW((void)when(none, [&ran](int&) { ran = true; }), std::invalid_argument);
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_FALSE(ran);
  EXPECT_EQ(CownBase::live_count(), before) << "a refused when() left a result cown behind";
}

TEST_F(DetachedTest, RunsAfterAResultItRequests) {
  Runtime rt;
  auto a = make_cown<long>(5);
  long seen = 0;
  auto r = when(a, [](long& x) { return x * 2; });
  when_detached(r, a, [&seen](long& twice, long& x) { seen = twice + x; });
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(seen, 15);
}

TEST_F(DetachedTest, DuplicateCownsFoldIntoOneRequest) {
  Runtime rt;
  auto a = make_cown<long>(0);
  const std::size_t before = CownBase::live_count();
  constexpr int kCount = sized(100, 20);
  for (int i = 0; i < kCount; ++i)
    when_detached(a, a, [](long& x, long& y) {
      ++x;
      ++y;
    });
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(a->value(), 2 * kCount);
  a.reset();
  EXPECT_EQ(CownBase::live_count(), before - 1) << "a duplicate's reference was kept";
}

TEST_F(DetachedTest, PinnedErrorsStillReachPump) {
  Runtime rt;
  auto p = make_pinned_cown<int>(0);
  when_detached(p, [](int&) { throw std::runtime_error("boom"); });
  when_detached(p, [](int& v) { v = 7; });
  PumpResult r = rt.pump();
  EXPECT_EQ(r.executed, 2u);
  EXPECT_EQ(r.raised, 1u);
  EXPECT_EQ(p->value(), 7);
  when_detached(p, [](int&) { throw FatalError("stop"); });
  EXPECT_THROW(rt.pump(), FatalError);
  ASSERT_TRUE(rt.quiesce(60s));
}

TEST_F(DetachedTest, RefusedAfterShutdownWithoutLeaking) {
  Runtime rt;
  auto c = make_cown<int>(0);
  const std::size_t before = CownBase::live_count();
  rt.shutdown();
  EXPECT_THROW(when_detached_in(rt, c, [](int&) {}), PumpError);
  EXPECT_EQ(CownBase::live_count(), before);
  c.reset();
  EXPECT_EQ(CownBase::live_count(), before - 1);
}

}  // namespace
}  // namespace boc::test
