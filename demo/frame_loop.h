// One frame of boids_demo, in the order the BOC design needs:
//
//   poll -> driver.pump()  FIRST, before the minimised-window skip, so pinned work never waits
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

#include "boids_renderer.h"
#include "capture.h"
#include "demo_controls.h"
#include "demo_stats.h"
#include "gl_includes.h"
#include "simulation_driver.h"

namespace boc::demo {

// Optional per-frame hooks, used by scripted scenarios (scenario.h). Each defaults to nothing;
// `frame` is the 0-based index of the frame being run.
class FrameHooks
{
public:
    virtual ~FrameHooks() = default;
    // Start of the frame, before pump(): scripted control changes, a virtual clock's tick.
    virtual void begin_frame(std::uint64_t /*frame*/, DemoControls& /*controls*/) {}
    // Right after pump() (or where it would have run when the pump is paused).
    virtual void after_pump(std::uint64_t /*frame*/) {}
    // The Starvation-lab stall. Return true when handled (e.g. virtual time): no sleep then.
    virtual bool stall(int /*stall_ms*/) { return false; }
    // After step(), before snapshot(): e.g. wait until the step's worker behaviors ran.
    virtual void after_step(std::uint64_t /*frame*/) {}
    // After the frame's stats are recorded, before rendering.
    virtual void frame_recorded(std::uint64_t /*frame*/, const DemoControls& /*controls*/, const DemoStats& /*stats*/)
    {
    }
    // PNGs to write of this frame (rendered into the FBO), besides --screenshot's last frame.
    virtual std::vector<std::string> screenshot_paths(std::uint64_t /*frame*/) { return {}; }
    virtual void screenshot_written(std::uint64_t /*frame*/, const std::string& /*path*/) {}
};

struct FrameLoopConfig
{
    bool headless = false;       // render every frame into the FBO, never swap
    bool deterministic = false;  // fixed layout, parked mouse, nominal timings
    bool fixed_dt = false;       // dt = 1/60
    std::optional<std::uint64_t> frames;
    std::string screenshot;  // PNG of the last frame, if not empty
    std::uint64_t seed = 1;
    bool with_imgui = true;
    FrameHooks* hooks = nullptr;  // not owned; scenario mode
};

inline constexpr double kFixedDt = 1.0 / 60.0;
inline constexpr float kClearColour[4] = {0.055f, 0.063f, 0.086f, 1.0f};

class FrameLoop
{
public:
    FrameLoop(const FrameLoopConfig& config, GLFWwindow* window, SimulationDriver& driver, BoidsRenderer& renderer,
              CaptureTarget& capture, DemoControls& controls, DemoStats& stats);

    // Runs one frame. Returns false when the loop should stop (frame limit, window closed,
    // or an error: see error()).
    bool run_frame();

    std::uint64_t frames_rendered() const { return frames_rendered_; }
    const std::string& error() const { return error_; }
    bool screenshot_written() const { return screenshot_written_; }

private:
    using Clock = std::chrono::steady_clock;

    void apply_control_changes();
    void draw_ui(bool to_fbo);

    FrameLoopConfig config_;
    GLFWwindow* window_;
    SimulationDriver& driver_;
    BoidsRenderer& renderer_;
    CaptureTarget& capture_;
    DemoControls& controls_;
    DemoStats& stats_;

    std::uint64_t frames_rendered_ = 0;
    std::optional<Clock::time_point> last_frame_start_;
    double last_render_ms_ = 0.0;
    bool screenshot_written_ = false;
    std::string error_;
};

// Boids only: clear + instanced draw into the currently bound framebuffer.
void render_scene(const BoidsRenderer& renderer, const FlockParams& world);

}  // namespace boc::demo
