// FrameLoop against a recording driver, in a hidden GLFW window rendering into the FBO.
// Checks the order the BOC design relies on: pump() first every frame, then step(); the
// Starvation lab and Tuning controls reach the driver; reports reach DemoStats.
// Skipped when there is no X display (run ctest under xvfb-run).
#include <gtest/gtest.h>

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "render/boids_renderer.h"
#include "render/capture.h"
#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "app/frame_loop.h"
#include "sim/native_driver.h"
#include "app/window.h"

namespace boc::demo {
namespace {

// Records every call; delegates the simulation to a NativeDriver so something is drawn.
class RecordingDriver final : public SimulationDriver {
 public:
  std::string_view name() const override { return "recording"; }
  void attach_sink(InstanceSink* sink) override {
    calls.push_back(sink != nullptr ? "attach" : "detach");
    native.attach_sink(sink);
  }
  void reset(const FlockSetup& setup) override {
    calls.push_back("reset:" + std::to_string(setup.boids));
    native.reset(setup);
  }
  void configure_watchdog(const WatchdogSettings& s) override {
    calls.push_back(s.enabled ? "watchdog:on" : "watchdog:off");
  }
  PumpFrame pump(const PumpSettings& s) override {
    calls.push_back("pump");
    last_pump = s;
    return PumpFrame{3, true, 1, {}, 0.0};
  }
  void step(const StepRequest& r) override {
    calls.push_back("step");
    last_step = r;
    native.step(r);
  }
  RuntimeSnapshot snapshot() const override {
    RuntimeSnapshot s = native.snapshot();
    s.pinned_depth = 2;
    s.pinned_age_ms = 500.0;
    return s;
  }
  std::vector<WatchdogEvent> drain_watchdog_events() override { return std::exchange(pending_events, {}); }
  std::vector<ErrorEntry> drain_errors() override { return std::exchange(pending_errors, {}); }

  std::vector<std::string> calls;
  PumpSettings last_pump;
  StepRequest last_step;
  std::vector<WatchdogEvent> pending_events;
  std::vector<ErrorEntry> pending_errors;
  NativeDriver native;
};

class FrameLoopTest : public ::testing::Test {
 protected:
  static constexpr int kW = 320;
  static constexpr int kH = 180;

  void SetUp() override {
    install_glfw_error_callback();
    WindowOptions o;
    o.width = kW;
    o.height = kH;
    o.visible = false;
    o.vsync = false;
    WindowResult r = open_window(o);
    if (r.status == WindowStatus::kNoDisplay) GTEST_SKIP() << "no X display: run under xvfb-run";
    ASSERT_EQ(r.status, WindowStatus::kOk) << r.error;
    window_ = r.window;
    std::string error;
    renderer_ = BoidsRenderer::create(error);
    ASSERT_NE(renderer_, nullptr) << error;
    capture_ = CaptureTarget::create(kW, kH, error);
    ASSERT_NE(capture_, nullptr) << error;
    controls_.flock.world_w = 1280.0f;
    controls_.flock.world_h = 720.0f;
    driver_.attach_sink(renderer_.get());
    driver_.reset(FlockSetup{200, 1, controls_.flock});
    driver_.calls.clear();
  }

  void TearDown() override {
    if (window_ == nullptr) return;
    driver_.attach_sink(nullptr);
    capture_.reset();
    renderer_.reset();
    close_window(window_);
  }

  // Without an ImGui context the loop draws no panels.
  FrameLoopConfig config(std::uint64_t frames) {
    FrameLoopConfig c;
    c.headless = true;
    c.deterministic = true;
    c.fixed_dt = true;
    c.frames = frames;
    return c;
  }

  GLFWwindow* window_ = nullptr;
  std::unique_ptr<BoidsRenderer> renderer_;
  std::unique_ptr<CaptureTarget> capture_;
  RecordingDriver driver_;
  DemoControls controls_;
  DemoStats stats_;
};

TEST_F(FrameLoopTest, PumpComesFirstThenStepEveryFrame) {
  FrameLoop loop(config(3), window_, driver_, *renderer_, *capture_, controls_, stats_);
  int frames = 0;
  while (loop.run_frame()) ++frames;
  EXPECT_EQ(frames + 1, 3);
  EXPECT_EQ(loop.frames_rendered(), 3u);
  EXPECT_EQ(driver_.calls, (std::vector<std::string>{"pump", "step", "pump", "step", "pump", "step"}));
  EXPECT_EQ(stats_.pump.executed, 3u);
  EXPECT_TRUE(stats_.pump.deadline_reached);
  EXPECT_EQ(stats_.runtime.pinned_depth, 2u);
  EXPECT_EQ(stats_.frame, 3u);
  EXPECT_DOUBLE_EQ(driver_.last_step.dt, kFixedDt);
}

TEST_F(FrameLoopTest, ControlsReachTheDriver) {
  controls_.deadline_unbounded = true;
  controls_.max_behaviors_unbounded = false;
  controls_.max_behaviors = 5;
  controls_.dispatch = DispatchMode::kPerItem;
  controls_.boid_count = 123;
  controls_.boid_count_changed = true;
  controls_.watchdog_enabled = false;
  controls_.watchdog_changed = true;
  FrameLoop loop(config(100), window_, driver_, *renderer_, *capture_, controls_, stats_);
  ASSERT_TRUE(loop.run_frame());
  EXPECT_FALSE(driver_.last_pump.deadline_ms.has_value());
  EXPECT_EQ(driver_.last_pump.max_behaviors, std::optional<std::size_t>(5));
  EXPECT_EQ(driver_.last_step.dispatch, DispatchMode::kPerItem);
  EXPECT_EQ(driver_.calls, (std::vector<std::string>{"pump", "watchdog:off", "reset:123", "step"}));
  EXPECT_FALSE(controls_.boid_count_changed);
  EXPECT_FALSE(controls_.watchdog_changed);

  // Starvation lab: pausing the pump skips pump() but still steps.
  driver_.calls.clear();
  controls_.pump_paused = true;
  ASSERT_TRUE(loop.run_frame());
  EXPECT_EQ(driver_.calls, (std::vector<std::string>{"step"}));
  EXPECT_TRUE(stats_.pump_skipped);
  EXPECT_EQ(stats_.pump.executed, 0u);

  // Tuning: paused flock still pumps; Step runs exactly one step.
  driver_.calls.clear();
  controls_.pump_paused = false;
  controls_.paused = true;
  ASSERT_TRUE(loop.run_frame());
  controls_.step_requested = true;
  ASSERT_TRUE(loop.run_frame());
  ASSERT_TRUE(loop.run_frame());
  EXPECT_EQ(driver_.calls, (std::vector<std::string>{"pump", "pump", "step", "pump"}));
}

TEST_F(FrameLoopTest, ReportsLandInStatsAndClearWorks) {
  driver_.pending_events = {WatchdogEvent{0.5, 300.0, 4}};
  driver_.pending_errors = {ErrorEntry{"RuntimeError: boom", "Traceback ..."}};
  FrameLoop loop(config(100), window_, driver_, *renderer_, *capture_, controls_, stats_);
  ASSERT_TRUE(loop.run_frame());
  ASSERT_EQ(stats_.watchdog_log.size(), 1u);
  EXPECT_EQ(stats_.watchdog_log.front().depth, 4u);
  ASSERT_EQ(stats_.errors.size(), 1u);
  controls_.clear_errors_requested = true;
  ASSERT_TRUE(loop.run_frame());
  EXPECT_TRUE(stats_.errors.empty());
  EXPECT_FALSE(controls_.clear_errors_requested);
}

TEST_F(FrameLoopTest, HeadlessFrameWithPanelsDrawsBoidsAndWritesPng) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  ASSERT_TRUE(ImGui_ImplGlfw_InitForOpenGL(window_, true));
  ASSERT_TRUE(ImGui_ImplOpenGL3_Init("#version 330 core"));

  FrameLoopConfig c = config(3);
  c.screenshot = ::testing::TempDir() + "frame_loop_test.png";
  {
    FrameLoop loop(c, window_, driver_, *renderer_, *capture_, controls_, stats_);
    while (loop.run_frame()) {
    }
    EXPECT_TRUE(loop.error().empty()) << loop.error();
    EXPECT_TRUE(loop.screenshot_written());
  }
  const std::vector<std::uint8_t> rgb = capture_->read_rgb();
  ASSERT_EQ(rgb.size(), static_cast<std::size_t>(kW * kH * 3));
  // Boids are saturated colours on a near-black background: some pixel must be bright.
  int bright = 0;
  for (std::size_t i = 0; i + 2 < rgb.size(); i += 3)
    if (rgb[i] > 150 || rgb[i + 1] > 150 || rgb[i + 2] > 150) ++bright;
  EXPECT_GT(bright, 50);

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
}

}  // namespace
}  // namespace boc::demo

namespace boc::demo {
namespace {

// Pretends the window is minimised for frames 3-6.
class MinimiseScript final : public FrameScript {
 public:
  FramePlan frame(std::uint64_t frame, DemoControls&, const DemoStats&) override {
    FramePlan plan;
    plan.minimised = frame >= 3 && frame < 7;
    return plan;
  }
};

TEST_F(FrameLoopTest, RenderTimeExcludesTheStall) {
  // Measured timings (not deterministic): frame_loop.cpp starts the render clock after the
  // stall, so a 300 ms stall shows under "stall" and not in "render" as well.
  FrameLoopConfig c = config(4);
  c.deterministic = false;
  controls_.stall_ms = 300;
  FrameLoop loop(c, window_, driver_, *renderer_, *capture_, controls_, stats_);
  while (loop.run_frame()) {
  }
  EXPECT_GE(stats_.timings.stall_ms, 300.0);
  EXPECT_GT(stats_.timings.render_ms, 0.0);
  EXPECT_LT(stats_.timings.render_ms, 300.0) << "render includes the stall";
}

TEST_F(FrameLoopTest, MinimisedFramesAreRecorded) {
  // The plots must not jump where the window was minimised: every frame, minimised or not,
  // pushes one sample (the driver's depth is 2 throughout).
  MinimiseScript script;
  FrameLoopConfig c = config(10);
  c.script = &script;
  FrameLoop loop(c, window_, driver_, *renderer_, *capture_, controls_, stats_);
  while (loop.run_frame()) {
  }
  EXPECT_EQ(loop.frames_rendered(), 10u);
  ASSERT_EQ(stats_.depth_history.size(), 10u);
  for (std::size_t i = 0; i < stats_.depth_history.size(); ++i)
    EXPECT_EQ(stats_.depth_history.at(i), 2.0f) << "sample " << i;
  // Minimised frames pump but do not step.
  EXPECT_EQ(std::count(driver_.calls.begin(), driver_.calls.end(), "pump"), 10);
  EXPECT_EQ(std::count(driver_.calls.begin(), driver_.calls.end(), "step"), 6);
}

}  // namespace
}  // namespace boc::demo
