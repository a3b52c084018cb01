// DemoStats bookkeeping and the starvation banner logic the Pump panel shows.
#include <gtest/gtest.h>

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "app/history.h"

namespace boc::demo {
namespace {

TEST(History, RingOrderAndPlotOffset) {
  History<4> h;
  EXPECT_EQ(h.latest(), 0.0f);
  for (int i = 1; i <= 6; ++i) h.push(static_cast<float>(i));
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.latest(), 6.0f);
  EXPECT_EQ(h.max(), 6.0f);
  EXPECT_EQ(h.at(0), 3.0f);  // oldest kept
  EXPECT_EQ(h.at(3), 6.0f);
  // PlotLines starts at data()[plot_offset()]: the oldest value.
  EXPECT_EQ(h.data()[h.plot_offset()], 3.0f);
}

TEST(Starvation, BannerOnlyWhenNonEmptyLongerThanWarn) {
  RuntimeSnapshot r;
  r.pinned_depth = 0;
  r.pinned_age_ms = 900.0;  // stale age with an empty queue: not starving
  EXPECT_FALSE(starvation_status(r, 250.0).starving);

  r.pinned_depth = 3;
  r.pinned_age_ms = 249.0;
  EXPECT_FALSE(starvation_status(r, 250.0).starving);

  r.pinned_age_ms = 250.0;
  const StarvationStatus s = starvation_status(r, 250.0);
  EXPECT_TRUE(s.starving);
  EXPECT_EQ(s.depth, 3u);
  EXPECT_EQ(starvation_banner_text(s), "PUMP STARVING: pinned queue non-empty for 250 ms, depth 3");
}

TEST(DemoStats, RecordsFramesAndBehaviorRates) {
  DemoStats stats;
  RuntimeSnapshot r;
  r.behaviors_total = 100;
  FrameTimings t;
  t.frame_ms = 10.0;
  record_frame(stats, PumpFrame{2, true, 1, {}, 0.0}, false, r, t, 0.01);
  EXPECT_EQ(stats.frame, 1u);
  EXPECT_EQ(stats.behaviors_this_frame, 0u);  // first frame has no baseline
  EXPECT_EQ(stats.pump.executed, 2u);
  EXPECT_TRUE(stats.pump.deadline_reached);

  r.behaviors_total = 150;
  record_frame(stats, PumpFrame{}, false, r, t, 0.01);
  EXPECT_EQ(stats.behaviors_this_frame, 50u);
  EXPECT_EQ(stats.behaviors_history.latest(), 50.0f);
  EXPECT_NEAR(stats.fps, 100.0, 1e-9);
  EXPECT_NEAR(stats.time_s, 0.02, 1e-12);
}

TEST(DemoStats, WatchdogLogAndErrorsAreBounded) {
  DemoStats stats;
  std::vector<WatchdogEvent> events(DemoStats::kWatchdogLogMax + 5, WatchdogEvent{1.0, 300.0, 2});
  append_watchdog_events(stats, events);
  EXPECT_EQ(stats.watchdog_log.size(), DemoStats::kWatchdogLogMax);
  EXPECT_EQ(stats.watchdog_total, DemoStats::kWatchdogLogMax + 5);

  append_errors(stats, {ErrorEntry{"ValueError: x", "Traceback ..."}});
  EXPECT_EQ(stats.errors.size(), 1u);
  clear_errors(stats);
  EXPECT_TRUE(stats.errors.empty());
  EXPECT_EQ(stats.errors_total, 1u);
}

TEST(DemoControls, PumpAndWatchdogSettingsFollowTheControls) {
  CliOptions o;
  o.deadline_ms.reset();
  o.max_behaviors = 8;
  o.watchdog_ms.reset();
  o.width = 640;
  o.height = 360;
  DemoControls c = controls_from_cli(o);
  EXPECT_FALSE(pump_settings(c).deadline_ms.has_value());
  EXPECT_EQ(*pump_settings(c).max_behaviors, 8u);
  EXPECT_FALSE(watchdog_settings(c).enabled);
  EXPECT_FLOAT_EQ(c.flock.world_w, 1280.0f);  // 720 tall, 16:9
  c.max_behaviors_unbounded = true;
  EXPECT_FALSE(pump_settings(c).max_behaviors.has_value());
}

}  // namespace
}  // namespace boc::demo
