// Who keeps a cown alive (behavior.h, Request): a cown's queue owns one
// reference while it is not empty, so behaviors borrow their cowns once
// scheduled and a cown outlives its last handle until its queue drains.
// No timing assertions: only counts, order and destruction.
#include <algorithm>
#include <atomic>
#include <functional>
#include <random>

#include "test_support.h"

namespace boc::test {
namespace {

using namespace std::chrono_literals;

// A value that reports its destruction and how many behaviors it saw.
struct Tracked {
  Tracked(std::atomic<int>* destroyed_count, std::atomic<long>* visits_at_death)
      : destroyed(destroyed_count), seen_at_death(visits_at_death) {}
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() {
    if (seen_at_death != nullptr) seen_at_death->store(visits);
    destroyed->fetch_add(1);
  }
  std::atomic<int>* destroyed;
  std::atomic<long>* seen_at_death;
  long visits = 0;
  std::vector<int> log;
};

using CownRefsTest = WorkersTest;

// Four behaviors queued on a cown whose last handle is dropped: the queue
// keeps it alive, all four run in order, and it is freed once, after them.
TEST_P(CownRefsTest, QueueKeepsTheCownAliveAfterTheLastHandleIsDropped) {
  Runtime rt(options());
  std::atomic<int> destroyed{0};
  std::atomic<bool> open{false};
  std::vector<int> seen;
  {
    auto c = make_cown<Tracked>(&destroyed, nullptr);
    when_detached(c, [&open](Tracked& t) {
      wait_until([&open] { return open.load(); });
      t.log.push_back(0);
    });
    for (int i = 1; i <= 3; ++i) {
      when_detached(c, [i, &seen](Tracked& t) {
        t.log.push_back(i);
        if (i == 3) seen = t.log;
      });
    }
  }
  EXPECT_EQ(destroyed.load(), 0) << "freed while behaviors were still queued on it";
  open = true;
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(destroyed.load(), 1);
}

// A behavior schedules on the cowns it holds through borrowed raw pointers
// (when.h's Cown<T>* form, as verona-rt's schedule_lambda(this, ...)): every
// step runs, and the cowns are freed once, when the last step is done.
TEST_P(CownRefsTest, BorrowedPointersFromAHoldingBehavior) {
  Runtime rt(options());
  std::atomic<int> destroyed{0};
  std::atomic<long> a_seen{-1};
  std::atomic<long> b_seen{-1};
  constexpr long kSteps = sized(2000, 40);
  {
    auto a = make_cown<Tracked>(&destroyed, &a_seen);
    auto b = make_cown<Tracked>(&destroyed, &b_seen);
    struct Step {
      Cown<Tracked>* a;
      Cown<Tracked>* b;
      long left;
      void operator()(Tracked& x, Tracked& y) const {
        ++x.visits;
        ++y.visits;
        if (left == 0) return;
        // Both borrowed from this behavior, which holds a and b: a one-cown
        // step on every odd `left`, and the next two-cown step.
        if (left % 2 == 1) when_detached(a, [](Tracked& x2) { ++x2.visits; });
        when_detached(a, b, Step{a, b, left - 1});
      }
    };
    when_detached(a, b, Step{a.get(), b.get(), kSteps});
  }
  ASSERT_TRUE(rt.quiesce(120s));
  EXPECT_EQ(destroyed.load(), 2);
  // kSteps + 1 two-cown steps, and a one-cown step on `a` for every odd `left`.
  EXPECT_EQ(b_seen.load(), kSteps + 1);
  EXPECT_EQ(a_seen.load(), kSteps + 1 + kSteps / 2);
}

// A behavior built with the retaining constructor and never scheduled gives
// its references back when it is destroyed.
TEST_P(CownRefsTest, UnscheduledBehaviorReleasesItsReferences) {
  Runtime rt(options());
  std::atomic<int> destroyed{0};
  {
    auto a = make_cown<Tracked>(&destroyed, nullptr);
    auto b = make_cown<Tracked>(&destroyed, nullptr);
    FnBehavior never({a.get(), b.get(), a.get()}, [] {});
    a.reset();
    b.reset();
    EXPECT_EQ(destroyed.load(), 0) << "the unscheduled behavior's references were not held";
  }
  EXPECT_EQ(destroyed.load(), 2);
  ASSERT_TRUE(rt.quiesce(10s));
}

struct RandomParam {
  std::size_t workers;
  unsigned seed;
};

class CownRefsRandomTest : public LeakCheckedTest, public ::testing::WithParamInterface<RandomParam> {};

// Random request sets of 1-3 cowns (duplicates allowed), half through when.h
// (borrowing) and half through FnBehavior (retaining), with every handle
// dropped before quiesce: each cown is freed exactly once, and only after
// every behavior that named it ran.
TEST_P(CownRefsRandomTest, EveryCownIsFreedOnceAfterItsLastBehavior) {
  RuntimeOptions o;
  o.worker_count = GetParam().workers;
  Runtime rt(o);
  constexpr int kCowns = 12;
  const int kBehaviors = sized(3000, 120);
  std::mt19937 rng(GetParam().seed);
  std::atomic<int> destroyed{0};
  std::vector<std::atomic<long>> seen_at_death(kCowns);
  for (auto& s : seen_at_death) s = -1;
  std::vector<long> expected(kCowns, 0);
  {
    std::vector<CownPtr<Tracked>> cowns;
    for (int i = 0; i < kCowns; ++i) cowns.push_back(make_cown<Tracked>(&destroyed, &seen_at_death[i]));
    for (int n = 0; n < kBehaviors; ++n) {
      const int arity = 1 + static_cast<int>(rng() % 3);
      std::vector<int> idx;
      for (int j = 0; j < arity; ++j) idx.push_back(static_cast<int>(rng() % kCowns));
      std::vector<int> distinct = idx;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      for (int i : distinct) ++expected[i];
      std::vector<Tracked*> values;
      for (int i : distinct) values.push_back(&cowns[i]->value());
      const auto body = [values] {
        for (Tracked* t : values) ++t->visits;
      };
      if (rng() % 2 == 0) {
        std::vector<CownBase*> set;
        for (int i : idx) set.push_back(cowns[i].get());
        schedule_fn(rt, set, body);
      } else if (arity == 1) {
        when_detached(cowns[idx[0]], [body](Tracked&) { body(); });
      } else if (arity == 2) {
        when_detached(cowns[idx[0]].get(), cowns[idx[1]], [body](Tracked&, Tracked&) { body(); });
      } else {
        when_detached(cowns[idx[0]], cowns[idx[1]], cowns[idx[2]].get(),
                      [body](Tracked&, Tracked&, Tracked&) { body(); });
      }
    }
  }  // every handle dropped while behaviors are still queued
  ASSERT_TRUE(rt.quiesce(300s)) << "deadlock or lost wake-up";
  EXPECT_EQ(destroyed.load(), kCowns);
  for (int i = 0; i < kCowns; ++i) EXPECT_EQ(seen_at_death[i].load(), expected[i]) << "cown " << i;
}

std::vector<RandomParam> random_params() {
  std::vector<RandomParam> out;
  for (std::size_t w : {1, 2, 4})
    for (unsigned seed = 1; seed <= static_cast<unsigned>(sized(4, 1)); ++seed) out.push_back({w, seed * 7919u + 3});
  return out;
}

std::string random_name(const ::testing::TestParamInfo<RandomParam>& info) {
  return "workers" + std::to_string(info.param.workers) + "_seed" + std::to_string(info.param.seed);
}

// Asks, inside its body, whether it is the sole holder of its one cown
// (Behavior::sole_holder_of: nothing could acquire the cown after it). It
// owns no reference of its own once scheduled (the queue took it).
class SoleHolderProbe final : public Behavior {
 public:
  SoleHolderProbe(CownBase* const& cown, std::function<void()> before, std::atomic<int>& seen)
      : Behavior(std::span<CownBase* const>(&cown, 1)), cown_(cown), before_(std::move(before)), seen_(seen) {}
  BodyResult run() override {
    before_();
    // Release: read by the test thread after quiesce.
    seen_.store(sole_holder_of(cown_, 0) ? 1 : 0, std::memory_order_release);
    return {};
  }
  void cancel(std::string_view) override {}

 private:
  CownBase* cown_;
  std::function<void()> before_;
  std::atomic<int>& seen_;
};

// The probe runs once `dropped` is set; `keep` and `queue_behind` decide who
// else refers to the cown by then. Returns what the probe saw (1 = sole).
int probe_sole_holder(Runtime& rt, bool keep, bool queue_behind) {
  std::atomic<bool> dropped{false};
  std::atomic<int> seen{-1};
  CownPtr<int> kept;
  {
    auto c = make_cown<int>(0);
    CownBase* raw = c.get();
    rt.schedule(std::make_unique<SoleHolderProbe>(
        raw, [&] { wait_until([&] { return dropped.load(std::memory_order_acquire); }); }, seen));
    // Borrowing, as when.h does: only the queue keeps the cown for it.
    if (queue_behind) when_detached_in(rt, c, [](int& v) { ++v; });
    if (keep) kept = c;
  }
  dropped.store(true, std::memory_order_release);
  EXPECT_TRUE(rt.quiesce(5s));
  return seen.load(std::memory_order_acquire);
}

TEST_P(CownRefsTest, SoleHolderOnlyWhenNoHandleAndNoSuccessorRemain) {
  Runtime rt(options());
  EXPECT_EQ(probe_sole_holder(rt, false, false), 1);
  EXPECT_EQ(probe_sole_holder(rt, true, false), 0);  // a handle could schedule again
  EXPECT_EQ(probe_sole_holder(rt, false, true), 0);  // a behavior waits behind
  EXPECT_EQ(probe_sole_holder(rt, true, true), 0);
}

INSTANTIATE_TEST_SUITE_P(Workers, CownRefsTest, ::testing::Values(1, 2, 4), workers_name);
INSTANTIATE_TEST_SUITE_P(Random, CownRefsRandomTest, ::testing::ValuesIn(random_params()), random_name);

}  // namespace
}  // namespace boc::test
