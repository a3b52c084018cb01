// The worker's pending slot and sharing (runtime/core/worker_pool.h): a
// worker runs its own dispatches in the order they were made, while another
// worker is idle it hands that one its newest dispatch rather than its older
// ones, and with long behaviors it keeps half of its waiting list stealable.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.h"

namespace boc::test {
namespace {

constexpr int kChildren = 8;

void busy_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

struct ChildRun {
  int id;
  std::thread::id thread;
};

// A behavior that dispatches kChildren behaviors on fresh cowns and records
// which thread it ran on; the children record their id and thread, then keep
// their worker busy for `child_work`.
struct Fanout {
  std::mutex mu;
  std::vector<ChildRun> runs;
  std::thread::id parent;

  void schedule(std::chrono::microseconds child_work = {}) {
    auto parent_cown = make_cown<int>(0);
    when_detached(parent_cown, [this, child_work](int&) {
      parent = std::this_thread::get_id();
      for (int i = 0; i < kChildren; ++i) {
        when_detached(make_cown<int>(i), [this, i, child_work](int&) {
          {
            std::lock_guard lock(mu);
            runs.push_back({i, std::this_thread::get_id()});
          }
          busy_for(child_work);
        });
      }
    });
  }
};

class PendingSlotTest : public LeakCheckedTest {};

TEST_F(PendingSlotTest, OneWorkerRunsItsOwnDispatchesInOrder) {
  RuntimeOptions o;
  o.worker_count = 1;
  Runtime rt(o);
  Fanout f;
  f.schedule();
  rt.quiesce();
  ASSERT_EQ(f.runs.size(), static_cast<std::size_t>(kChildren));
  for (int i = 0; i < kChildren; ++i) EXPECT_EQ(f.runs[i].id, i) << "position " << i;
}

// With the other worker parked (idle), the dispatcher hands its newest child
// to it and runs its oldest itself. The children take 1 ms each, so the idle
// worker has woken by the time the dispatcher could take the child back;
// whether it was still idle at the hand-off is up to the OS, so the newest
// child is asked to run elsewhere in one of several trials. A pool that
// keeps the slot for its owner never runs child kChildren-1 elsewhere.
TEST_F(PendingSlotTest, WithAnIdleWorkerTheNewestDispatchGoesToIt) {
  if (kSystematic) GTEST_SKIP() << "a scheduling-policy check; the systematic scheduler decides idleness itself";
  RuntimeOptions o;
  o.worker_count = 2;
  Runtime rt(o);
  int newest_elsewhere = 0;
  constexpr int kTrials = 10;
  for (int trial = 0; trial < kTrials; ++trial) {
    // Out of work, both workers spin briefly and park: give them the time.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Fanout f;
    f.schedule(std::chrono::milliseconds(1));
    rt.quiesce();
    ASSERT_EQ(f.runs.size(), static_cast<std::size_t>(kChildren));
    for (const ChildRun& r : f.runs) {
      if (r.id == 0) {
        EXPECT_EQ(r.thread, f.parent) << "the oldest child left its dispatcher in trial " << trial;
      }
      if (r.id == kChildren - 1 && r.thread != f.parent) ++newest_elsewhere;
    }
  }
  EXPECT_GT(newest_elsewhere, 0) << "in " << kTrials << " trials";
}

// A worker whose behaviors are long keeps half of its list in its shared
// queue, so a worker that runs out while the owner is in the middle of one
// takes it at once. Worker A runs a chain of 5 µs steps (long enough for the
// pool to call its pops long) and then makes three 20 ms children (long
// beside a time slice: ctest runs other tests beside it); worker B
// runs a behavior that lasts until the first child has started, so B runs
// out while A is inside that child. A pool that shares only with a worker
// that is idle at the owner's pop starts the second child after the first
// one ends.
TEST_F(PendingSlotTest, WithLongBehaviorsAWorkerThatRunsOutStealsFromABusyOnesList) {
  if (kSystematic) GTEST_SKIP() << "a scheduling-policy check on the real clock";
  RuntimeOptions o;
  o.worker_count = 2;
  Runtime rt(o);
  constexpr int kSteps = 200;
  constexpr auto kChild = std::chrono::milliseconds(20);
  int overlapped = 0;
  // Many trials, stopping at the first overlap: under ctest -j2 another test's
  // threads can hold the second CPU through a whole trial; the previous pool
  // never overlaps, however many trials.
  constexpr int kTrials = 40;
  for (int trial = 0; trial < kTrials && overlapped == 0; ++trial) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    using Clock = std::chrono::steady_clock;
    std::atomic<bool> first_started{false};
    std::atomic<Clock::rep> first_end{0};
    std::atomic<Clock::rep> second_start{0};
    std::atomic<bool> second_elsewhere{false};
    auto chain = make_cown<int>(0);
    // The last step makes the children on its own worker's list.
    std::function<void(int&)> step;
    step = [&](int& n) {
      busy_for(std::chrono::microseconds(5));
      if (++n < kSteps) {
        when_detached(chain, [&](int& m) { step(m); });
        return;
      }
      const auto parent = std::this_thread::get_id();
      for (int i = 0; i < 3; ++i) {
        when_detached(make_cown<int>(i), [&, i, parent](int&) {
          if (i == 0) first_started = true;
          if (i == 1) {
            second_start = Clock::now().time_since_epoch().count();
            second_elsewhere = std::this_thread::get_id() != parent;
          }
          busy_for(kChild);
          if (i == 0) first_end = Clock::now().time_since_epoch().count();
        });
      }
    };
    when_detached(chain, [&](int& n) { step(n); });
    // Worker B: busy until the first child runs (bounded, in case both
    // behaviors landed on one worker this trial).
    when_detached(make_cown<int>(0), [&](int&) {
      const auto give_up = Clock::now() + std::chrono::milliseconds(200);
      while (!first_started && Clock::now() < give_up) {
      }
    });
    rt.quiesce();
    if (second_elsewhere && second_start < first_end) ++overlapped;
  }
  EXPECT_GT(overlapped, 0) << "the second child never started on the other worker before the first one ended, in "
                           << kTrials << " trials";
}

}  // namespace
}  // namespace boc::test
