// Scripted, deterministic runs of boids_demo: `--scenario python_scripts/scenarios/<name>.py`.
//
// A scenario file is plain Python data (py_literal.h):
//
//   SCENARIO = {
//       "boids": 400, "seed": 7, "size": (640, 360), "frames": 150, "workers": 2,
//       "watchdog_ms": 200,
//       "actions": {60: [("pause_pump", True)], 100: [("pause_pump", False)]},
//       "screenshots": [90, 149],
//   }
//
// The runner (ScenarioRunner, a FrameHooks for the frame loop) drives the demo frame by frame:
//
//   * one fixed step (1/60 s) per frame, headless, deterministic panel layout, parked mouse;
//   * the runtime's clock is a boc::ManualClock (installed before the driver starts the
//     runtime) that advances by exactly 1/60 s at the start of every frame; a stall advances
//     it by the stall instead of sleeping, so every age and deadline is exact;
//   * the watchdog has no monitor thread; the runner samples it once per frame at a fixed
//     point (after the step has settled), in addition to the runtime's sample at pump() entry;
//   * after step() the runner waits until the worker pool is idle (every worker behavior that
//     can run has run), so what the pinned queue holds at the snapshot and at the next pump()
//     does not depend on thread timing;
//   * actions listed for frame f are applied at the start of frame f, before its pump();
//     screenshots listed for frame f capture frame f's image (after its stats are recorded).
//
// It writes a text log (--scenario-log; one line per frame, action, watchdog report and
// screenshot) and the listed PNGs (--screenshot-dir); README "Visual tests" documents both.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boc/clock.h"
#include "cli.h"
#include "frame_loop.h"
#include "py_literal.h"

namespace boc::demo {

// One scripted change. `verb` is canonical (short forms are expanded by the parser):
//   pause_pump <bool>          skip pump() from this frame on (Starvation lab checkbox)
//   stall_ms <int>             stall every frame by N virtual ms from now on (0 = off)
//   stall_once <int>           stall this frame only by N virtual ms
//   dispatch <str>             "coarse" (one pinned write-back per frame) or "per_item"
//   pause_sim <bool>           stop stepping the flock (the pump keeps running)
//   step                       one step while paused
//   set <knob> <value>         deadline_ms, max_behaviors, watchdog_ms (number or None),
//                              wait_poll_ms, boids (resets the flock), and the flock's
//                              cohesion, alignment, separation, neighbour_radius,
//                              separation_radius, min_speed, max_speed, bounds_margin, bounds_turn
//   clear_errors               empty the Errors panel
//   note <str>                 a marker line in the log
struct ScenarioAction
{
    std::string verb;
    std::string knob;       // for "set"
    PyLiteral value;        // the argument (None for verbs without one)
    int line = 0;           // in the scenario file, for messages
    std::string text() const;  // as logged: "pause_pump True", "set max_behaviors 1", ...
};

struct Scenario
{
    std::string path;
    std::string name;         // "name", default: the file's stem
    std::string description;  // one line, printed at start
    std::size_t boids = 400;
    std::uint64_t seed = 1;
    int width = 640;
    int height = 360;
    std::uint64_t frames = 150;
    std::size_t workers = 2;  // --workers N (N > 0) overrides it
    std::optional<std::string> script;  // simulation script; default: the CLI's --script
    std::optional<std::optional<double>> deadline_ms;        // unset: the CLI's; inner nullopt: unbounded
    std::optional<std::optional<std::size_t>> max_behaviors;  // unset: the CLI's; inner nullopt: unbounded
    std::optional<std::optional<double>> watchdog_ms;        // unset: the CLI's; inner nullopt: off
    std::optional<std::string> dispatch;                      // "coarse" / "per_item"
    std::map<std::uint64_t, std::vector<ScenarioAction>> actions;
    std::vector<std::uint64_t> screenshots;  // ascending, unique, each < frames
    std::uint64_t golden_frame = 0;          // the frame --screenshot writes ("golden", default: last screenshot)
};

struct ScenarioLoad
{
    Scenario scenario;
    std::string error;  // "path:line:col: message" or "path: message"
    bool ok() const { return error.empty(); }
};

// Parses the text of a scenario file. `path` names it in messages and gives the default name.
ScenarioLoad parse_scenario(std::string_view source, const std::string& path);
// Reads and parses a file.
ScenarioLoad load_scenario(const std::string& path);

// The command line a scenario implies: boids, seed, size, frames, workers (unless --workers N > 0
// was given), script, pump/watchdog settings; headless and fixed dt (deterministic mode).
void apply_scenario(const Scenario& scenario, CliOptions& options);

// What a scenario run writes.
struct ScenarioOutputs
{
    std::string log_path;        // --scenario-log; empty: <screenshot_dir>/<name>.log if a dir is given
    std::string screenshot_dir;  // --screenshot-dir; PNGs <dir>/<name>_f<frame>.png (frame zero-padded to 4)
    std::string golden_path;     // --screenshot; the golden frame's PNG
};

class ScenarioRunner final : public FrameHooks
{
public:
    ScenarioRunner(Scenario scenario, ScenarioOutputs outputs, std::FILE* echo);
    ~ScenarioRunner() override;

    // Before the driver is created: the runtime's manual clock, no watchdog monitor thread.
    void install_runtime_hooks();
    // Initial controls from the scenario (dispatch); call after controls_from_cli.
    void apply_initial_controls(DemoControls& controls) const;
    // Writes the header (driver name known now). False (see error()) if the log cannot be opened.
    bool start(const std::string& driver_name, std::size_t workers);
    // After the loop: closes the log; false if a listed screenshot was not written.
    bool finish(std::uint64_t frames_rendered);
    const std::string& error() const { return error_; }

    // FrameHooks.
    void begin_frame(std::uint64_t frame, DemoControls& controls) override;
    void after_pump(std::uint64_t frame) override;
    bool stall(int stall_ms) override;
    void after_step(std::uint64_t frame) override;
    void frame_recorded(std::uint64_t frame, const DemoControls& controls, const DemoStats& stats) override;
    std::vector<std::string> screenshot_paths(std::uint64_t frame) override;
    void screenshot_written(std::uint64_t frame, const std::string& path) override;

    static constexpr std::int64_t kFrameNs = 16'666'667;  // 1/60 s, rounded to the nanosecond

private:
    void apply(const ScenarioAction& action, DemoControls& controls);
    void line(const std::string& text);
    double clock_ms() const;

    Scenario scenario_;
    ScenarioOutputs outputs_;
    std::FILE* echo_;  // events (not frame lines) are echoed here; may be null
    std::FILE* log_ = nullptr;
    std::shared_ptr<ManualClock> clock_;
    std::int64_t clock_origin_ns_ = 0;
    std::string error_;

    int stall_once_ms_ = 0;
    std::uint64_t watchdog_seen_ = 0;  // DemoStats::watchdog_total already logged
    // Observation points of the frame (for the log).
    std::int64_t episode_at_pump_ = -1;
    std::int64_t age_at_pump_ms_ = 0;
    std::size_t depth_at_pump_ = 0;
    std::size_t depth_after_pump_ = 0;
    std::int64_t episode_at_sample_ = -1;
    std::uint64_t reports_at_begin_ = 0;
    std::uint64_t reports_before_sample_ = 0;
    std::uint64_t reports_after_sample_ = 0;
    std::vector<std::uint64_t> written_;
};

}  // namespace boc::demo
