// Every pump rule of the pinned-cown contract (boc/pump.h), with a manual clock.
#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>

#include "test_support.h"

namespace boc::test {
namespace {

using namespace std::chrono_literals;

class PumpTest : public WorkersTest {
 protected:
  RuntimeOptions manual_options() {
    RuntimeOptions o = options();
    o.clock = clock;
    return o;
  }
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
};

// Waits until the pinned queue holds `depth` behaviors.
void await_depth(Runtime& rt, std::size_t depth) {
  wait_until([&] { return rt.pinned_depth() >= depth; });
  ASSERT_EQ(rt.pinned_depth(), depth);
}

TEST_P(PumpTest, EmptyPumpReturnsZeros) {
  Runtime rt(manual_options());
  EXPECT_EQ(rt.pump(), (PumpResult{0, false, 0}));
}

TEST_P(PumpTest, PinnedBodiesRunOnlyOnThePumpingThread) {
  Runtime rt(manual_options());
  auto canvas = make_pinned_cown<std::vector<std::uint64_t>>();
  auto plain = make_cown<int>(0);
  for (int i = 0; i < 50; ++i) {
    // Mixed request sets go to the main thread too.
    if (i % 2) {
      when(canvas, [](auto& v) { v.push_back(this_thread_key()); });
    } else {
      when(canvas, plain, [](auto& v, int& p) {
        ++p;
        v.push_back(this_thread_key());
      });
    }
  }
  await_depth(rt, 1);  // one pinned cown: its behaviors queue on the cown, one at a time
  std::size_t total = 0;
  while (total < 50) total += rt.pump().executed;
  EXPECT_EQ(canvas->value().size(), 50u);
  for (auto key : canvas->value()) EXPECT_EQ(key, this_thread_key());
  EXPECT_EQ(plain->value(), 25);
  ASSERT_TRUE(rt.quiesce(5s));
}

TEST_P(PumpTest, MaxBehaviorsCheckedBeforeEachDequeue) {
  Runtime rt(manual_options());
  std::vector<CownPtr<int>> pins;
  for (int i = 0; i < 5; ++i) {
    pins.push_back(make_pinned_cown<int>(0));
    when(pins.back(), [](int& v) { ++v; });
  }
  await_depth(rt, 5);
  PumpOptions o;
  o.max_behaviors = 2;
  EXPECT_EQ(rt.pump(o), (PumpResult{2, false, 0}));
  EXPECT_EQ(rt.pinned_depth(), 3u);
  EXPECT_EQ(rt.pump(), (PumpResult{3, false, 0}));
}

TEST_P(PumpTest, DeadlineCheckedAfterEachBehaviorNeverPreempts) {
  Runtime rt(manual_options());
  std::vector<CownPtr<int>> pins;
  for (int i = 0; i < 5; ++i) {
    pins.push_back(make_pinned_cown<int>(0));
    when(pins.back(), [this](int& v) {
      ++v;
      clock->advance(3ms);  // each body "takes" 3 ms on the runtime's clock
    });
  }
  await_depth(rt, 5);
  PumpOptions o;
  o.deadline = 5ms;
  // 3 ms < 5 ms: go on; 6 ms >= 5 ms: stop after the second.
  EXPECT_EQ(rt.pump(o), (PumpResult{2, true, 0}));
  // A body longer than the whole budget still runs: the deadline never preempts.
  o.deadline = 1ms;
  EXPECT_EQ(rt.pump(o), (PumpResult{1, true, 0}));
  // deadline_reached is true even when that last behavior emptied the queue.
  o.deadline = 1ms;
  PumpOptions two;
  two.max_behaviors = 1;
  EXPECT_EQ(rt.pump(two), (PumpResult{1, false, 0}));
  EXPECT_EQ(rt.pinned_depth(), 1u);
  EXPECT_EQ(rt.pump(o), (PumpResult{1, true, 0}));
  EXPECT_EQ(rt.pinned_depth(), 0u);
}

TEST_P(PumpTest, WorkEnqueuedDuringTheCallIsPickedUp) {
  Runtime rt(manual_options());
  auto pin = make_pinned_cown<int>(0);
  auto pin2 = make_pinned_cown<int>(0);
  when(pin, [&pin2](int& v) {
    ++v;
    when(pin2, [](int& w) { ++w; });  // becomes runnable at once, on the main queue
  });
  await_depth(rt, 1);
  EXPECT_EQ(rt.pump().executed, 2u);
  EXPECT_EQ(pin2->value(), 1);
}

TEST_P(PumpTest, BodyErrorsAreCapturedAndCounted) {
  Runtime rt(manual_options());
  auto a = make_pinned_cown<int>(0);
  auto b = make_pinned_cown<int>(0);
  auto c = make_pinned_cown<int>(0);
  auto ra = when(a, [](int&) -> int { throw std::runtime_error("first"); });
  auto rb = when(b, [](int& v) { return ++v; });
  auto rc = when(c, [](int&) -> int { throw std::runtime_error("second"); });
  await_depth(rt, 3);
  EXPECT_EQ(rt.pump(), (PumpResult{3, false, 2}));
  ASSERT_TRUE(ra->error());
  EXPECT_FALSE(rb->error());
  ASSERT_TRUE(rc->error());
}

TEST_P(PumpTest, RaiseOnErrorStopsAtTheFirstErrorAndLeavesTheRestQueued) {
  Runtime rt(manual_options());
  auto a = make_pinned_cown<int>(0);
  auto b = make_pinned_cown<int>(0);
  auto c = make_pinned_cown<int>(0);
  when(a, [](int& v) { ++v; });
  auto rb = when(b, [](int&) -> int { throw std::runtime_error("stop here"); });
  when(c, [](int& v) { ++v; });
  await_depth(rt, 3);
  PumpOptions o;
  o.raise_on_error = true;
  try {
    rt.pump(o);
    FAIL() << "expected the body's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "stop here");
  }
  EXPECT_TRUE(rb->error());  // also left on the result cown
  EXPECT_EQ(a->value(), 1);
  EXPECT_EQ(rt.pinned_depth(), 1u);
  EXPECT_EQ(rt.pump(), (PumpResult{1, false, 0}));
  EXPECT_EQ(c->value(), 1);
}

TEST_P(PumpTest, FatalErrorPropagatesAfterCleanupWithQueueIntact) {
  Runtime rt(manual_options());
  auto a = make_pinned_cown<int>(0);
  auto b = make_pinned_cown<int>(0);
  auto ra = when(a, [](int&) -> int { throw FatalError("interrupt"); });
  auto rb = when(b, [](int& v) { return ++v; });
  await_depth(rt, 2);
  EXPECT_THROW(rt.pump(), FatalError);
  EXPECT_TRUE(ra->error());
  EXPECT_EQ(rt.pinned_depth(), 1u);
  // The fatal behavior's cowns were released: a successor on `a` can run.
  auto again = when(a, [](int& v) { return ++v; });
  EXPECT_EQ(rt.pump().executed, 2u);
  EXPECT_EQ(again->value(), 1);
  EXPECT_EQ(rb->value(), 1);
}

TEST_P(PumpTest, PumpOffTheMainThreadFails) {
  Runtime rt(manual_options());
  std::optional<PumpError::Kind> kind;
  Thread([&] {
    try {
      rt.pump();
    } catch (const PumpError& e) {
      kind = e.kind();
    }
  }).join();
  ASSERT_TRUE(kind);
  EXPECT_EQ(*kind, PumpError::Kind::kWrongThread);
}

TEST_P(PumpTest, PumpInsideAPinnedBodyIsRejected) {
  Runtime rt(manual_options());
  auto pin = make_pinned_cown<int>(0);
  std::string message;
  when(pin, [&rt, &message](int&) {
    EXPECT_TRUE(Runtime::in_pump_body());
    try {
      rt.pump();
    } catch (const PumpError& e) {
      EXPECT_EQ(e.kind(), PumpError::Kind::kReentrant);
      message = e.what();
    }
  });
  await_depth(rt, 1);
  EXPECT_EQ(rt.pump().executed, 1u);
  EXPECT_NE(message.find("not reentrant"), std::string::npos);
  EXPECT_FALSE(Runtime::in_pump_body());
}

TEST_P(PumpTest, ConcurrentSecondPumperIsRejected) {
  RuntimeOptions o = manual_options();
  o.pump_from_any_thread = true;
  Runtime rt(o);
  auto pin = make_pinned_cown<int>(0);
  std::atomic<bool> inside{false};
  std::atomic<bool> second_done{false};
  when(pin, [&](int&) {
    inside = true;
    wait_until([&] { return second_done.load(); }, std::nullopt);
  });
  await_depth(rt, 1);
  Thread first([&] { EXPECT_EQ(rt.pump().executed, 1u); });
  wait_until([&] { return inside.load(); }, std::nullopt);
  std::optional<PumpError::Kind> kind;
  try {
    rt.pump();
  } catch (const PumpError& e) {
    kind = e.kind();
  }
  second_done = true;
  first.join();
  ASSERT_TRUE(kind);
  EXPECT_EQ(*kind, PumpError::Kind::kConcurrentPumper);
  // The gate is cleared on exit: this thread may pump now.
  EXPECT_EQ(rt.pump().executed, 0u);
}

TEST_P(PumpTest, WorkersIdleOnceWorkerBehaviorsAndTheirPinnedSuccessorsAreQueued) {
  Runtime rt(manual_options());
  auto pin = make_pinned_cown<int>(0);
  auto plain = make_cown<int>(0);
  for (int i = 0; i < 50; ++i) {
    when(plain, [&pin](int& p) {
      ++p;
      when(pin, [](int& v) { ++v; });  // runnable at once: goes to the pinned queue
    });
  }
  ASSERT_TRUE(rt.wait_workers_idle(std::chrono::seconds(30)));
  EXPECT_EQ(rt.worker_active(), 0u);
  EXPECT_EQ(plain->value(), 50);
  EXPECT_EQ(rt.pinned_depth(), 1u);  // one pinned cown: its behaviors queue one at a time
  std::size_t total = 0;
  while (total < 50) total += rt.pump().executed;
  EXPECT_EQ(pin->value(), 50);
  ASSERT_TRUE(rt.quiesce(5s));
}

TEST_P(PumpTest, HugeDeadlineSaturatesInsteadOfOverflowing) {
  Runtime rt(manual_options());
  auto pin = make_pinned_cown<int>(0);
  when(pin, [](int& v) { ++v; });
  await_depth(rt, 1);
  PumpOptions o;
  o.deadline = std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max() / 1'000'000);
  EXPECT_EQ(rt.pump(o), (PumpResult{1, false, 0}));
}

TEST_P(PumpTest, InvalidBoundsAreRejected) {
  Runtime rt(manual_options());
  PumpOptions o;
  o.max_behaviors = 0;
  EXPECT_THROW(rt.pump(o), PumpError);
  PumpOptions d;
  d.deadline = 0ms;
  EXPECT_THROW(rt.pump(d), PumpError);
}

TEST_P(PumpTest, QuiesceAutoPumpsPinnedWork) {
  Runtime rt(manual_options());
  rt.set_wait_pump_poll(5ms);
  auto pin = make_pinned_cown<int>(0);
  auto plain = make_cown<int>(0);
  constexpr int kRounds = sized(200, 30);
  // Worker behaviors schedule pinned behaviors; nobody calls pump() explicitly.
  for (int i = 0; i < kRounds; ++i) {
    when(plain, [&pin](int& p) {
      ++p;
      when(pin, [](int& v) { ++v; });
    });
  }
  ASSERT_TRUE(rt.quiesce(60s));
  EXPECT_EQ(pin->value(), kRounds);
  EXPECT_EQ(rt.stats().pinned_executed, static_cast<std::uint64_t>(kRounds));
}

TEST_P(PumpTest, QuiesceTimesOutWhenPinnedWorkCannotBePumpedHere) {
  Runtime rt(manual_options());
  auto pin = make_pinned_cown<int>(0);
  when(pin, [](int& v) { ++v; });
  bool finished = true;
  Thread([&] { finished = rt.quiesce(50ms); }).join();  // not the main thread: it only waits
  EXPECT_FALSE(finished);
  EXPECT_TRUE(rt.quiesce(5s));
  EXPECT_EQ(pin->value(), 1);
}

TEST_P(PumpTest, ShutdownFailsQueuedPinnedBehaviorsWithoutRunningThem) {
  auto pin = make_pinned_cown<int>(0);
  auto plain = make_cown<int>(0);
  CownPtr<std::monostate> r1, r2;
  {
    Runtime rt(manual_options());
    r1 = when(pin, [](int& v) { v = 100; });
    r2 = when(pin, plain, [](int& v, int& p) { v = p = 200; });  // waits behind r1 on `pin`
    auto worker_after = when(plain, [](int& p) { return ++p; });
    await_depth(rt, 1);
    rt.shutdown();
    EXPECT_EQ(rt.stats().cancelled, 2u);
    EXPECT_EQ(rt.in_flight(), 0u);
  }
  EXPECT_EQ(pin->value(), 0);
  ASSERT_TRUE(r1->error());
  ASSERT_TRUE(r2->error());
  try {
    std::rethrow_exception(r1->error());
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "behavior drained at shutdown without executing");
  }
  EXPECT_EQ(plain->value(), 1);  // the worker behavior behind the cancelled one still ran
}

TEST_P(PumpTest, OrphansAreTakenOnlyOnceStoppingAndHandOnTheirCowns) {
  auto pin = make_pinned_cown<int>(0);
  auto plain = make_cown<int>(0);
  Runtime rt(manual_options());
  auto r1 = when(pin, [](int& v) { v = 100; });
  auto r2 = when(pin, plain, [](int& v, int& p) { v = p = 200; });  // runnable once r1 is out of the way
  await_depth(rt, 1);
  EXPECT_EQ(rt.take_pinned_orphan(), nullptr);  // running: queued pinned work is pump()'s
  rt.request_stop();
  EXPECT_THROW(when_in(rt, plain, [](int& p) { ++p; }), PumpError);
  std::size_t taken = 0;
  while (Behavior* b = rt.take_pinned_orphan()) {  // r1, then r2 once r1's cowns are handed on
    b->cancel("orphaned");
    rt.complete_unrun(b);
    ++taken;
    EXPECT_EQ(rt.in_flight(), 2u - taken);
  }
  EXPECT_EQ(taken, 2u);
  EXPECT_EQ(rt.stats().cancelled, 2u);
  EXPECT_EQ(pin->value(), 0);
  ASSERT_TRUE(r2->error());
  try {
    std::rethrow_exception(r2->error());
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "orphaned");
  }
  rt.shutdown();
}

TEST_P(PumpTest, ScheduleAfterShutdownIsRefused) {
  Runtime rt(manual_options());
  rt.shutdown();
  auto c = make_cown<int>(0);
  EXPECT_THROW(when_in(rt, c, [](int& v) { ++v; }), PumpError);
}

INSTANTIATE_TEST_SUITE_P(Workers, PumpTest, ::testing::Values(1, 2, 4, 8), workers_name);

// A loop polling pump() while the workers are busy and fill every core gives
// them the CPU: an empty pump less than 200 us after another empty one yields
// (Runtime::yield_if_polling).
class PollingPumpTest : public LeakCheckedTest {
 protected:
  // Runs `check` while one worker spins in a behavior (the others idle).
  template <class F>
  void with_busy_worker(Runtime& rt, F check) {
    std::atomic<bool> started{false};
    std::atomic<bool> finish{false};
    auto c = make_cown<int>(0);
    when_detached_in(rt, c, [&](int&) {
      // Release/acquire: the test thread waits for the body to be running.
      started.store(true, std::memory_order_release);
      // wait_until, not a bare spin: under the systematic scheduler a body
      // must give way for the test thread to run.
      wait_until([&] { return finish.load(std::memory_order_acquire); });
    });
    wait_until([&] { return started.load(std::memory_order_acquire); });
    check();
    finish.store(true, std::memory_order_release);
    ASSERT_TRUE(rt.quiesce(5s));
  }
  static std::size_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }
};

TEST_F(PollingPumpTest, BackToBackEmptyPumpsYieldWhileWorkersAreBusy) {
#ifdef BOC_SYSTEMATIC
  GTEST_SKIP() << "the systematic scheduler runs one thread at a time: pump never yields";
#endif
  RuntimeOptions o;
  o.worker_count = cores();
  Runtime rt(o);
  with_busy_worker(rt, [&] {
    EXPECT_EQ(rt.pump().executed, 0u);
    EXPECT_EQ(rt.stats().pump_yields, 0u);  // the first empty pump has nothing to follow
    for (int i = 0; i < 100; ++i) rt.pump();
    const std::uint64_t polled = rt.stats().pump_yields;
    EXPECT_GE(polled, 1u);
    EXPECT_LE(polled, 100u);
    // A frame loop's pumps, a frame apart, do not.
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(1ms);
      rt.pump();
    }
    EXPECT_EQ(rt.stats().pump_yields, polled);
    // Nor does the first empty pump after one that ran pinned work.
    auto pin = make_pinned_cown<int>(0);
    when_detached_in(rt, pin, [](int& v) { ++v; });
    wait_until([&] { return rt.pinned_depth() == 1; });
    EXPECT_EQ(rt.pump().executed, 1u);
    rt.pump();
    EXPECT_EQ(rt.stats().pump_yields, polled);
  });
  // Nothing running: polling costs the workers nothing.
  const std::uint64_t before = rt.stats().pump_yields;
  for (int i = 0; i < 100; ++i) rt.pump();
  EXPECT_EQ(rt.stats().pump_yields, before);
}

TEST_F(PollingPumpTest, NeverYieldsWhenACoreIsLeftOver) {
  if (cores() < 2) GTEST_SKIP() << "one core: the workers always fill it";
  RuntimeOptions o;
  o.worker_count = cores() - 1;
  Runtime rt(o);
  with_busy_worker(rt, [&] {
    for (int i = 0; i < 100; ++i) rt.pump();
  });
  EXPECT_EQ(rt.stats().pump_yields, 0u);
}

}  // namespace
}  // namespace boc::test
