// The starvation watchdog: silent by default, once per non-empty episode with
// the right age and depth, re-armed by a drain, replaceable sink, swallowed
// sink failures, and the monitor thread that reports a loop that never pumps.
#include <thread>

#include "test_support.h"

namespace boc::test {
namespace {

using namespace std::chrono_literals;

// No monitor thread at all (a zero period): samples happen only where the test
// takes them. (A long period still let configure()'s wake-up sample once, at a
// moment the test does not control.)
constexpr auto kNoMonitor = std::chrono::milliseconds(0);

class WatchdogTest : public LeakCheckedTest {
 protected:
  RuntimeOptions opts() {
    RuntimeOptions o;
    o.worker_count = 1;
    o.clock = clock;
    return o;
  }
  Watchdog::Sink capture() {
    return [this](const StarvationReport& r) {
      std::lock_guard l(mu);
      reports.push_back(r);
    };
  }
  std::size_t report_count() {
    std::lock_guard l(mu);
    return reports.size();
  }
  void queue_pinned(Runtime& rt, int n) {
    for (int i = 0; i < n; ++i) {
      pins.push_back(make_pinned_cown<int>(0));
      when_in(rt, pins.back(), [](int& v) { ++v; });
    }
    wait_until([&] { return rt.pinned_depth() >= static_cast<std::size_t>(n); });
    ASSERT_EQ(rt.pinned_depth(), static_cast<std::size_t>(n));
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::mutex mu;
  std::vector<StarvationReport> reports;
  std::vector<CownPtr<int>> pins;
};

TEST_F(WatchdogTest, SilentUntilConfigured) {
  Runtime rt(opts());
  queue_pinned(rt, 2);
  clock->advance(60s);
  EXPECT_FALSE(rt.watchdog().sample());
  EXPECT_EQ(rt.pump().executed, 2u);
  EXPECT_EQ(rt.watchdog().reports(), 0u);
  EXPECT_FALSE(rt.watchdog().warn_threshold());
}

TEST_F(WatchdogTest, FiresOncePerEpisodeWithAgeAndDepth) {
  Runtime rt(opts());
  rt.watchdog().configure(100ms, capture(), kNoMonitor);
  queue_pinned(rt, 3);
  clock->advance(99ms);
  EXPECT_FALSE(rt.watchdog().sample());  // below the threshold
  clock->advance(51ms);
  EXPECT_TRUE(rt.watchdog().sample());
  EXPECT_FALSE(rt.watchdog().sample());  // same episode: no second report
  clock->advance(10s);
  EXPECT_FALSE(rt.watchdog().sample());
  ASSERT_EQ(report_count(), 1u);
  EXPECT_EQ(reports[0].age_ms, 150);
  EXPECT_EQ(reports[0].depth, 3u);
  EXPECT_EQ(reports[0].message, "pinned-cown queue non-empty for 150 ms with no pump() progress (depth=3)");
  EXPECT_FALSE(reports[0].from_monitor);
}

TEST_F(WatchdogTest, PumpEntrySamplesAndDrainReArms) {
  Runtime rt(opts());
  rt.watchdog().configure(100ms, capture(), kNoMonitor);
  queue_pinned(rt, 2);
  clock->advance(200ms);
  PumpOptions one;
  one.max_behaviors = 1;
  EXPECT_EQ(rt.pump(one).executed, 1u);  // sampled at entry: report #1
  ASSERT_EQ(report_count(), 1u);
  EXPECT_EQ(reports[0].depth, 2u);
  clock->advance(200ms);
  EXPECT_EQ(rt.pump(one).executed, 1u);  // still the same episode: silent
  EXPECT_EQ(report_count(), 1u);
  // The queue drained: a new episode can report again.
  queue_pinned(rt, 1);
  clock->advance(120ms);
  EXPECT_EQ(rt.pump().executed, 1u);
  ASSERT_EQ(report_count(), 2u);
  EXPECT_EQ(reports[1].age_ms, 120);
  EXPECT_EQ(reports[1].depth, 1u);
  EXPECT_GT(reports[1].episode, reports[0].episode);
}

TEST_F(WatchdogTest, SinkReplacementAndDisable) {
  Runtime rt(opts());
  std::atomic<int> first{0};
  rt.watchdog().configure(
      10ms, [&](const StarvationReport&) { ++first; }, kNoMonitor);
  rt.watchdog().configure(10ms, capture(), kNoMonitor);
  queue_pinned(rt, 1);
  clock->advance(20ms);
  EXPECT_TRUE(rt.watchdog().sample());
  EXPECT_EQ(first.load(), 0);
  EXPECT_EQ(report_count(), 1u);
  EXPECT_EQ(rt.pump().executed, 1u);
  rt.watchdog().configure(std::nullopt);
  queue_pinned(rt, 1);
  clock->advance(1h);
  EXPECT_FALSE(rt.watchdog().sample());
  EXPECT_EQ(rt.pump().executed, 1u);
}

TEST_F(WatchdogTest, ThrowingSinkIsSwallowedAndCounted) {
  Runtime rt(opts());
  rt.watchdog().configure(
      10ms, [](const StarvationReport&) { throw std::runtime_error("sink broke"); }, kNoMonitor);
  queue_pinned(rt, 2);
  clock->advance(50ms);
  PumpResult r;
  EXPECT_NO_THROW(r = rt.pump());
  EXPECT_EQ(r.executed, 2u);
  EXPECT_EQ(rt.watchdog().sink_failures(), 1u);
  EXPECT_EQ(rt.watchdog().reports(), 1u);
}

TEST_F(WatchdogTest, MonitorReportsALoopThatNeverPumps) {
  Runtime rt(opts());
  rt.watchdog().configure(50ms, capture(), 2ms);
  queue_pinned(rt, 4);
  clock->advance(75ms);
  // Nobody pumps: only the monitor thread can notice.
  wait_until([&] { return report_count() > 0; });
  ASSERT_EQ(report_count(), 1u);
  EXPECT_TRUE(reports[0].from_monitor);
  EXPECT_EQ(reports[0].age_ms, 75);
  EXPECT_EQ(reports[0].depth, 4u);
  // Once per episode, monitor included: wait (for events, not for time) until
  // the monitor has sampled the same episode twice more, then no new report.
  const std::uint64_t after_report = rt.watchdog().monitor_samples();
  ASSERT_TRUE(wait_until([&] { return rt.watchdog().monitor_samples() >= after_report + 2; }));
  EXPECT_EQ(report_count(), 1u);
  EXPECT_EQ(rt.pump().executed, 4u);
}

TEST(StarvationMessage, MatchesBocpyFormat) {
  EXPECT_EQ(format_starvation_message(1234, 7),
            "pinned-cown queue non-empty for 1234 ms with no pump() progress (depth=7)");
}

}  // namespace
}  // namespace boc::test
