// One frame of boids_demo, in the order the BOC design needs:
//
//   [record: controls changed since the last frame -> actions of this frame]
//   poll -> keys (queued: key_input.h; Esc / Ctrl+Q quit, Tab / F1 hide panels)
//        -> driver.pump()  FIRST, before the minimised-window skip, so pinned work never waits
//                          on the window state (a skipped pump would trip the watchdog)
//        -> [minimised: wait wait_poll_ms for events, done]
//        -> control changes (watchdog, boid count, clear errors)
//        -> optional main-thread stall (Starvation lab)
//        -> driver.step()  compute / schedule the next step
//        -> stats          snapshot, watchdog events, errors -> DemoStats
//        -> render         boids (+ ImGui panels) into the window or the offscreen FBO
//        -> capture        the last frame's PNG when --screenshot is set
//        -> swap
//
// The loop owns nothing GL: main.cpp creates the window, ImGui, renderer and capture target
// and tears them down in reverse order.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boc/clock.h"
#include "render/boids_renderer.h"
#include "render/capture.h"
#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "app/gl_includes.h"
#include "app/key_input.h"
#include "panels/panel_layout.h"
#include "scenario/recorder.h"
#include "sim/simulation_driver.h"
#include "panels/ui_log.h"

namespace boc::demo {

// What a scripted run (scenario/scenario.h) does with a frame: called once per frame, at its
// start, before pump(); `stats` are the previous frame's. It may change the controls.
struct FramePlan {
  std::vector<std::string> screenshots;  // PNGs of this frame, besides --screenshot's last frame
  std::optional<bool> minimised;         // tests: whether the window counts as minimised (nullopt: GLFW)
  bool stop = false;                     // end the run now (the script failed)
};

class FrameScript {
 public:
  virtual ~FrameScript() = default;
  virtual FramePlan frame(std::uint64_t frame, DemoControls& controls, const DemoStats& stats) = 0;
};

struct FrameLoopConfig {
  bool headless = false;       // render every frame into the FBO, never swap
  bool deterministic = false;  // fixed layout, parked mouse, nominal timings
  bool fixed_dt = false;       // dt = 1/60
  std::optional<std::uint64_t> frames;
  std::string screenshot;  // PNG of the last frame, if not empty
  std::uint64_t seed = 1;
  FrameScript* script = nullptr;  // not owned; scenario mode
  // Virtual time (scenarios): the Starvation lab's stall advances this clock instead of sleeping.
  ManualClock* virtual_clock = nullptr;
  std::string ui_log;  // --ui-log: one JSON line per frame (ui_log.h)
  // --record-scenario: record from frame 0 and save here when the loop ends; also where
  // "Save scenario" writes (empty: next_session_path()).
  std::string record_path;
  RecordSetup record_setup;
};

inline constexpr double kFixedDt = 1.0 / 60.0;
inline constexpr float kClearColour[4] = {0.055f, 0.063f, 0.086f, 1.0f};

class FrameLoop {
 public:
  FrameLoop(const FrameLoopConfig& config, GLFWwindow* window, SimulationDriver& driver, BoidsRenderer& renderer,
            CaptureTarget& capture, DemoControls& controls, DemoStats& stats);

  // Runs one frame. Returns false when the loop should stop (frame limit, window closed,
  // or an error: see error()).
  bool run_frame();

  std::uint64_t frames_rendered() const { return frames_rendered_; }
  const std::string& error() const { return error_; }
  bool screenshot_written() const { return screenshot_written_; }
  // After the last frame: saves the --record-scenario recording; false (see error()) on failure.
  bool finish();

 private:
  using WallClock = std::chrono::steady_clock;

  void apply_control_changes();
  void handle_keys();
  void record_controls(std::uint64_t frame);
  void save_recording(const std::string& path);
  void draw_ui(bool to_fbo);
  void record_stats(const PumpFrame& pump, bool pump_skipped, FrameTimings timings, double dt);

  FrameLoopConfig config_;
  GLFWwindow* window_;
  SimulationDriver& driver_;
  BoidsRenderer& renderer_;
  CaptureTarget& capture_;
  DemoControls& controls_;
  DemoStats& stats_;

  std::uint64_t frames_rendered_ = 0;
  std::optional<WallClock::time_point> last_frame_start_;
  double last_render_ms_ = 0.0;
  bool screenshot_written_ = false;
  std::string error_;

  LayoutMemory layout_memory_;
  std::vector<KeyEvent> frame_keys_;  // delivered this frame
  ScenarioRecorder recorder_;
  UiLog ui_log_;
  bool ui_log_open_ = false;
};

// Boids only: clear + instanced draw into the currently bound framebuffer.
void render_scene(const BoidsRenderer& renderer, const FlockParams& world);

}  // namespace boc::demo
