// The scheduling contract: mutual exclusion per cown, FIFO per cown for
// behaviors scheduled from one thread, result cowns, duplicates, groups, and
// the C++ when() sugar. Parameterised over worker counts.
#include <random>
#include <thread>

#include "test_support.h"

namespace boc::test {
namespace {

class ProtocolTest : public WorkersTest {};

TEST_P(ProtocolTest, MutualExclusionPerCown) {
  Runtime rt(options());
  std::vector<CownPtr<Slot>> cowns;
  for (int i = 0; i < 8; ++i) cowns.push_back(make_cown<Slot>());
  std::atomic<int> violations{0};
  std::mt19937 rng(42);
  constexpr int kBehaviors = sized(20000, 300);
  for (int n = 0; n < kBehaviors; ++n) {
    std::vector<CownBase*> set;
    std::vector<Slot*> slots;
    const int k = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < k; ++j) {
      auto& c = cowns[rng() % cowns.size()];
      set.push_back(c.get());
      slots.push_back(&c->value());
    }
    std::sort(slots.begin(), slots.end());
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    schedule_fn(rt, set, [slots, &violations] {
      for (Slot* s : slots) {
        if (s->holders.fetch_add(1) != 0) violations.fetch_add(1);
      }
      for (Slot* s : slots) ++s->value;
      for (Slot* s : slots) s->holders.fetch_sub(1);
    });
  }
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(120)));
  EXPECT_EQ(violations.load(), 0);
}

TEST_P(ProtocolTest, FifoPerCownFromOneThread) {
  Runtime rt(options());
  auto a = make_cown<Slot>();
  auto b = make_cown<Slot>();
  constexpr int kCount = sized(5000, 150);
  for (int i = 0; i < kCount; ++i) {
    // Alternate single and two-cown requests: order on each cown must hold.
    if (i % 3 == 0) {
      when(a, b, [i](Slot& x, Slot& y) {
        x.log.push_back(i);
        y.log.push_back(i);
      });
    } else if (i % 3 == 1) {
      when(a, [i](Slot& x) { x.log.push_back(i); });
    } else {
      when(b, [i](Slot& y) { y.log.push_back(i); });
    }
  }
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(60)));
  for (Slot* s : {&a->value(), &b->value()}) {
    EXPECT_TRUE(std::is_sorted(s->log.begin(), s->log.end()));
  }
  std::size_t expect_a = 0, expect_b = 0;
  for (int i = 0; i < kCount; ++i) {
    expect_a += (i % 3 != 2);
    expect_b += (i % 3 != 1);
  }
  EXPECT_EQ(a->value().log.size(), expect_a);
  EXPECT_EQ(b->value().log.size(), expect_b);
}

TEST_P(ProtocolTest, ResultCownHoldsValueAndOrdersSuccessor) {
  Runtime rt(options());
  auto x = make_cown<int>(20);
  auto r = when(x, [](int& v) { return v + 22; });
  auto seen = make_cown<int>(0);
  // Scheduling on the result cown runs strictly after the producer.
  auto r2 = when(r, seen, [](int& produced, int& s) {
    s = produced;
    return produced * 2;
  });
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(30)));
  EXPECT_EQ(r->value(), 42);
  EXPECT_EQ(seen->value(), 42);
  EXPECT_EQ(r2->value(), 84);
  EXPECT_FALSE(r->error());
}

TEST_P(ProtocolTest, BodyErrorLandsOnResultCown) {
  Runtime rt(options());
  auto x = make_cown<int>(1);
  auto r = when(x, [](int&) -> int { throw std::runtime_error("boom"); });
  auto after = when(x, [](int& v) { return ++v; });  // the cown is released despite the error
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(30)));
  ASSERT_TRUE(r->error());
  EXPECT_THROW(std::rethrow_exception(r->error()), std::runtime_error);
  EXPECT_EQ(after->value(), 2);
}

TEST_P(ProtocolTest, DuplicatesCollapseIntoOneRequest) {
  Runtime rt(options());
  auto a = make_cown<Slot>();
  std::atomic<int> runs{0};
  constexpr int kCount = sized(100, 20);
  for (int i = 0; i < kCount; ++i) {
    schedule_fn(rt, {a.get(), a.get(), a.get()}, [&runs, &a] {
      ++a->value().value;
      runs.fetch_add(1);
    });
  }
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(30)));
  EXPECT_EQ(runs.load(), kCount);
  EXPECT_EQ(a->value().value, kCount);
}

TEST_P(ProtocolTest, NestedSchedulingFromBodies) {
  Runtime rt(options());
  auto counter = make_cown<long>(0);
  constexpr int kDepth = sized(2000, 100);
  std::function<void(int)> step = [&](int n) {
    if (n == 0) return;
    when(counter, [n, &step](long& c) {
      ++c;
      step(n - 1);
    });
  };
  step(kDepth);
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(60)));
  EXPECT_EQ(counter->value(), kDepth);
}

TEST_P(ProtocolTest, DisjointBehaviorsRunInParallelWhenWorkersAllow) {
  if (GetParam() < 2) GTEST_SKIP() << "needs two workers";
  Runtime rt(options());
  auto a = make_cown<int>(0);
  auto b = make_cown<int>(0);
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  auto body = [&](int&) {
    inside.fetch_add(1);
    if (wait_until([&] { return overlapped.load() || inside.load() == 2; }, std::chrono::seconds(5))) {
      overlapped.store(true);
    }
    inside.fetch_sub(1);
  };
  when(a, body);
  when(b, body);
  ASSERT_TRUE(rt.quiesce(std::chrono::seconds(30)));
  EXPECT_TRUE(overlapped.load());
}

TEST_P(ProtocolTest, WorkerHooksRunOnEachWorkerThread) {
  std::mutex mu;
  std::vector<std::size_t> started, stopped;
  {
    RuntimeOptions o = options();
    o.on_worker_start = [&](std::size_t i) {
      std::lock_guard l(mu);
      started.push_back(i);
    };
    o.on_worker_stop = [&](std::size_t i) {
      std::lock_guard l(mu);
      stopped.push_back(i);
    };
    Runtime rt(o);
    auto c = make_cown<int>(0);
    when(c, [](int& v) { ++v; });
    ASSERT_TRUE(rt.quiesce(std::chrono::seconds(30)));
  }
  std::sort(started.begin(), started.end());
  std::sort(stopped.begin(), stopped.end());
  ASSERT_EQ(started.size(), GetParam());
  EXPECT_EQ(started, stopped);
}

INSTANTIATE_TEST_SUITE_P(Workers, ProtocolTest, ::testing::Values(1, 2, 4, 8), workers_name);

// The contract, observed from outside: a default runtime starts
// default_worker_count() worker threads, at least one, and leaves the main
// thread a hardware thread of its own whenever there is more than one.
TEST(DefaultWorkers, AtLeastOneAndLeavesACoreForMain) {
  const std::size_t n = default_worker_count();
  EXPECT_GE(n, 1u);
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 1) {
    EXPECT_LT(n, hw);
  }
  EXPECT_EQ(RuntimeOptions{}.worker_count, n);
  std::mutex mu;
  std::vector<std::thread::id> started;
  {
    RuntimeOptions o;
    o.on_worker_start = [&](std::size_t) {
      std::lock_guard l(mu);
      started.push_back(std::this_thread::get_id());
    };
    Runtime rt(o);
    EXPECT_EQ(rt.worker_count(), n);
  }
  std::sort(started.begin(), started.end());
  EXPECT_EQ(std::unique(started.begin(), started.end()), started.end()) << "one thread per worker";
  EXPECT_EQ(started.size(), n);
}

}  // namespace
}  // namespace boc::test
