#include "app/frame_loop.h"

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <thread>
#include <utility>

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>  // never imgui_impl_opengl3_loader.h: it would rebind our gl* calls

#include "panels/panel_layout.h"
#include "panels/panels.h"
#include "panels/ui_probe.h"

namespace boc::demo {

namespace {

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

void render_scene(const BoidsRenderer& renderer, const FlockParams& world) {
  glDisable(GL_DEPTH_TEST);
  glDisable(GL_BLEND);
  glClearColor(kClearColour[0], kClearColour[1], kClearColour[2], kClearColour[3]);
  glClear(GL_COLOR_BUFFER_BIT);
  renderer.draw(world.world_w, world.world_h);
}

FrameLoop::FrameLoop(const FrameLoopConfig& config, GLFWwindow* window, SimulationDriver& driver,
                     BoidsRenderer& renderer, CaptureTarget& capture, DemoControls& controls, DemoStats& stats)
    : config_(config),
      window_(window),
      driver_(driver),
      renderer_(renderer),
      capture_(capture),
      controls_(controls),
      stats_(stats) {
  stats_.driver_name = std::string(driver_.name());
  stats_.nominal_timings = config_.deterministic;
  if (!config_.ui_log.empty()) {
    std::string err;
    ui_log_open_ = ui_log_.open(config_.ui_log, err);
    if (!ui_log_open_) error_ = err;
  }
}

void FrameLoop::handle_keys() {
  frame_keys_.clear();
  if (config_.headless || ImGui::GetCurrentContext() == nullptr) return;
  frame_keys_ = key_queue().take_frame();
  for (const KeyEvent& e : frame_keys_) ImGui_ImplGlfw_KeyCallback(window_, e.key, e.scancode, e.action, e.mods);
  const KeyActions actions = shortcut_actions(frame_keys_, ImGui::GetIO().WantTextInput);
  if (actions.quit) glfwSetWindowShouldClose(window_, GLFW_TRUE);  // the same path as the window's close button
  if (actions.toggle_panels) controls_.panels_hidden = !controls_.panels_hidden;
}

void FrameLoop::record_controls(std::uint64_t frame) {
  if (controls_.record_toggle_requested) {
    controls_.record_toggle_requested = false;
    if (recorder_.recording())
      recorder_.stop();
    else
      recorder_.start(frame, controls_, config_.record_setup);
  }
  recorder_.observe(frame, controls_);
  if (controls_.save_scenario_requested) {
    controls_.save_scenario_requested = false;
    save_recording(config_.record_path.empty() ? next_session_path() : config_.record_path);
  }
  stats_.recording = recorder_.recording();
  stats_.recorded_frames = recorder_.frames();
  stats_.recorded_changes = recorder_.changes();
}

void FrameLoop::save_recording(const std::string& path) {
  std::string err;
  if (recorder_.save(path, err)) {
    stats_.last_saved =
        "saved " + path + " (" + std::to_string(recorder_.frames()) + " frames); replay: boids_demo --scenario " + path;
    std::printf("boids_demo: %s\n", stats_.last_saved.c_str());
  } else {
    stats_.last_saved = "not saved: " + err;
    std::fprintf(stderr, "boids_demo: %s\n", stats_.last_saved.c_str());
  }
}

bool FrameLoop::finish() {
  if (config_.record_path.empty()) return error_.empty();
  std::string err;
  if (!recorder_.save(config_.record_path, err)) {
    error_ = "--record-scenario: " + err;
    return false;
  }
  std::printf("boids_demo: recorded %llu frames, %zu control change(s) to %s\n",
              static_cast<unsigned long long>(recorder_.frames()), recorder_.changes(), config_.record_path.c_str());
  return error_.empty();
}

void FrameLoop::record_stats(const PumpFrame& pump, bool pump_skipped, FrameTimings timings, double dt) {
  RuntimeSnapshot snapshot = driver_.snapshot();
  PumpFrame shown = pump;
  if (config_.deterministic) {
    // Screenshots must not depend on measured times (demo/README.md, "Determinism").
    timings = FrameTimings{0.0, static_cast<double>(controls_.stall_ms), 0.0, 0.0, kFixedDt * 1000.0};
    snapshot.step_ms = 0.0;
    shown.call_ms = 0.0;
  }
  append_watchdog_events(stats_, driver_.drain_watchdog_events());
  append_errors(stats_, driver_.drain_errors());
  record_frame(stats_, shown, pump_skipped, snapshot, timings, dt);
}

void FrameLoop::apply_control_changes() {
  if (controls_.watchdog_changed) {
    controls_.watchdog_changed = false;
    driver_.configure_watchdog(watchdog_settings(controls_));
  }
  if (controls_.boid_count_changed) {
    controls_.boid_count_changed = false;
    driver_.reset(FlockSetup{static_cast<std::size_t>(controls_.boid_count), config_.seed, controls_.flock});
  }
  if (controls_.clear_errors_requested) {
    controls_.clear_errors_requested = false;
    clear_errors(stats_);
  }
}

bool FrameLoop::run_frame() {
  if (!error_.empty()) return false;  // e.g. the --ui-log file could not be opened
  const WallClock::time_point frame_start = WallClock::now();
  FrameTimings timings;
  timings.frame_ms = last_frame_start_ ? ms_between(*last_frame_start_, frame_start) : 0.0;
  double dt = kFixedDt;
  if (!config_.fixed_dt && last_frame_start_) {
    dt = std::clamp(timings.frame_ms / 1000.0, 1e-4, 0.1);  // a stall must not explode the flock
  }
  last_frame_start_ = frame_start;

  const std::uint64_t frame = frames_rendered_;
  if (frame == 0 && !config_.record_path.empty())
    recorder_.start(frame, controls_, config_.record_setup);  // before frame 0's scripted actions
  const FramePlan plan = config_.script != nullptr ? config_.script->frame(frame, controls_, stats_) : FramePlan{};
  if (plan.stop) return false;
  // Changes made while drawing the previous frame, or by the scenario just now, take effect
  // in this frame: the recorder writes them as actions of this frame (recorder.h).
  record_controls(frame);
  if (controls_.reset_layout_requested) {
    controls_.reset_layout_requested = false;
    layout_memory_.reset();
  }

  // 1. Events; queued keys (one press per frame at least: key_input.h).
  glfwPollEvents();
  handle_keys();

  // 2. Pump FIRST: pinned behaviors run on this (the main) thread and nowhere else. This
  //    must come before the minimised-window skip below, or minimising starves the queue.
  const PumpSettings settings = pump_settings(controls_);
  PumpFrame pump;
  const bool pump_skipped = controls_.pump_paused;
  const WallClock::time_point pump_start = WallClock::now();
  if (!pump_skipped) {
    pump = driver_.pump(settings);
  }
  const WallClock::time_point after_pump = WallClock::now();
  timings.pump_ms = ms_between(pump_start, after_pump);

  // 3. Minimised: nothing to draw. Keep pumping at the wait-poll cadence, and keep recording
  //    the frame, so the plots have no cliff where the window was minimised.
  const bool minimised =
      plan.minimised ? *plan.minimised : !config_.headless && glfwGetWindowAttrib(window_, GLFW_ICONIFIED) != 0;
  if (minimised) {
    record_stats(pump, pump_skipped, timings, dt);
    if (!config_.headless) glfwWaitEventsTimeout(settings.wait_poll_ms / 1000.0);
    ++frames_rendered_;
    const bool last = config_.frames && frames_rendered_ >= *config_.frames;
    return !last && glfwWindowShouldClose(window_) == 0;
  }

  apply_control_changes();

  // 4. Step: compute (native) or schedule (Python) the next state.
  if (!controls_.paused || controls_.step_requested) {
    controls_.step_requested = false;
    driver_.step(StepRequest{controls_.flock, dt, controls_.dispatch});
  }
  const WallClock::time_point after_step = WallClock::now();
  timings.step_ms = ms_between(after_pump, after_step);

  // 5. Starvation lab: stall the main thread (sleep, so workers keep a core) AFTER the
  //    step, like a slow render or event handler: the step's write-back becomes ready
  //    meanwhile and waits in the pinned queue until the next frame's pump(), so its age
  //    grows by the stall. A scenario advances its virtual clock instead.
  const int stall_ms = std::max(0, controls_.stall_ms) + std::exchange(controls_.stall_once_ms, 0);
  if (config_.virtual_clock != nullptr)
    config_.virtual_clock->advance(std::chrono::milliseconds(stall_ms));
  else if (stall_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
  const WallClock::time_point after_stall = WallClock::now();
  timings.stall_ms = ms_between(after_step, after_stall);
  timings.render_ms = last_render_ms_;

  // 6. Stats for the panels.
  record_stats(pump, pump_skipped, timings, dt);

  // 7. Render target: the FBO when headless or when this frame is captured.
  const bool last_frame =
      (config_.frames && frames_rendered_ + 1 >= *config_.frames) || glfwWindowShouldClose(window_) != 0;
  std::vector<std::string> shots = plan.screenshots;
  if (last_frame && !config_.screenshot.empty()) shots.push_back(config_.screenshot);
  const bool capture_now = !shots.empty();
  const bool to_fbo = config_.headless || capture_now;
  // Render time starts here, after the stall: the stall has its own readout.
  const WallClock::time_point render_start = WallClock::now();
  int fb_w = 0;
  int fb_h = 0;
  glfwGetFramebufferSize(window_, &fb_w, &fb_h);
  if (to_fbo)
    capture_.bind();
  else
    bind_default_framebuffer(fb_w, fb_h);

  render_scene(renderer_, controls_.flock);
  if (ImGui::GetCurrentContext() != nullptr)  // none in tests of the loop alone
    draw_ui(to_fbo);

  // 8. Capture before the swap.
  for (const std::string& shot : shots) {
    std::string err;
    if (!capture_.write_png(shot, err)) {
      error_ = err;
      return false;
    }
    if (shot == config_.screenshot && last_frame) screenshot_written_ = true;
  }

  // 9. Present.
  if (!config_.headless) {
    if (to_fbo) capture_.blit_to_default(fb_w, fb_h);
    glfwSwapBuffers(window_);
  } else {
    // Headless frames have no swap to hand the frame's commands to the
    // driver: without this flush Mesa keeps queueing them, and a frame with
    // no buffer upload (pump paused) grows the heap by ~0.4 MB per frame.
    glFlush();
  }
  last_render_ms_ = ms_between(render_start, WallClock::now());
  ++frames_rendered_;
  return !last_frame;
}

void FrameLoop::draw_ui(bool to_fbo) {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGuiIO& io = ImGui::GetIO();
  // Overrides go after the backend NewFrame calls and before ImGui::NewFrame (A.5).
  if (to_fbo) {
    io.DisplaySize = ImVec2(static_cast<float>(capture_.width()), static_cast<float>(capture_.height()));
    io.DisplayFramebufferScale = ImVec2(1.0f, 1.0f);
  }
  if (config_.deterministic) {
    io.DeltaTime = static_cast<float>(kFixedDt);
  }
  if (config_.headless || (config_.deterministic && to_fbo)) {
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // Xvfb's pointer starts mid-screen: no hover colours
  }
  ImGui::NewFrame();

  UiProbe& probe = ui_probe();
  probe.clear();
  for (const KeyEvent& e : frame_keys_)
    if (e.action == GLFW_PRESS) probe.keys.emplace_back(key_label(e.key));
  for (const int key : {GLFW_KEY_ENTER, GLFW_KEY_TAB, GLFW_KEY_ESCAPE, GLFW_KEY_SPACE, GLFW_KEY_F1, GLFW_KEY_Q})
    if (ImGui::IsKeyPressed(key, false)) probe.imgui_keys.emplace_back(key_label(key));

  const PanelsLayout layout =
      compute_panels_layout(io.DisplaySize.x, io.DisplaySize.y, config_.deterministic, &layout_memory_);
  draw_panels(controls_, stats_, layout);
  if (ui_log_open_) {
    UiFrameInfo info;
    info.frame = frames_rendered_;
    glfwGetWindowSize(window_, &info.window_w, &info.window_h);
    info.display_w = io.DisplaySize.x;
    info.display_h = io.DisplaySize.y;
    ui_log_.write(ui_log_line(info, controls_, stats_, probe));
  }

  ImGui::Render();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace boc::demo
