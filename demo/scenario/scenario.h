// Scripted, deterministic runs of boids_demo: `--scenario python_scripts/scenarios/<name>.py`.
//
// A scenario is a Python script run by the demo's embedded interpreter. It imports the control
// module `boids_scenario`, calls setup(...) once at module level (boids, seed, size, frames,
// workers, pump and watchdog settings) and defines on_frame(frame), which the frame loop calls
// at the start of every frame, before pump(): it changes the controls (pause the pump, stall,
// set a knob, ...) and asks for screenshots. README, "Starvation scenarios", has the vocabulary.
//
// Determinism: the runtime's clock is a boc::ManualClock (installed before the driver starts the
// runtime) advanced by exactly 1/60 s per frame and by a stall instead of sleeping; the watchdog
// has no monitor thread; the driver is wrapped (wrap_driver) so that step() returns when every
// worker behavior it scheduled has run, and snapshot() samples the watchdog once per frame (the
// "monitor" sample) at that fixed point.
//
// The log (--scenario-log, or <screenshot-dir>/<name>.log) is JSON Lines, one object per line,
// "kind" first: header, action, frame, watchdog, screenshot, end.
#pragma once

#include <Python.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "boc/clock.h"
#include "cli.h"
#include "frame_loop.h"

namespace boc::demo {

struct ScenarioOutputs
{
    std::string log_path;        // --scenario-log; empty: <screenshot_dir>/<name>.log if a dir is given
    std::string screenshot_dir;  // --screenshot-dir; screenshot() writes <dir>/<name>_f<frame>.png
};

class ScenarioRunner final : public FrameScript
{
public:
    ScenarioRunner() = default;
    ~ScenarioRunner() override;
    ScenarioRunner(const ScenarioRunner&) = delete;
    ScenarioRunner& operator=(const ScenarioRunner&) = delete;

    // Runs the script (setup() fills `options`); false with error() "path:line: message" when
    // the script cannot be read or raises. Installs the manual clock and no watchdog monitor.
    bool load(const std::string& path, CliOptions& options, ScenarioOutputs outputs);
    // The driver, wrapped for the fixed observation points (above).
    std::unique_ptr<SimulationDriver> wrap_driver(std::unique_ptr<SimulationDriver> driver);
    // setup()'s dispatch; call after controls_from_cli.
    void apply_initial_controls(DemoControls& controls) const;
    // Opens the log and writes its header; false (see error()) when it cannot.
    bool start(const std::string& driver_name, std::size_t workers);
    ManualClock* clock() { return clock_.get(); }

    // FrameScript: logs the previous frame, then runs on_frame(frame).
    FramePlan frame(std::uint64_t frame, DemoControls& controls, const DemoStats& stats) override;
    // After the loop: logs the last frame, closes the log; false if the run fell short.
    bool finish(std::uint64_t frames_rendered, const DemoControls& controls, const DemoStats& stats);
    const std::string& error() const { return error_; }
    const std::string& traceback() const { return traceback_; }  // of a script error, may be empty

    static constexpr std::int64_t kFrameNs = 16'666'667;  // 1/60 s, rounded to the nanosecond

    // What the control module and the wrapped driver share with the runner.
    struct State;

private:
    void log_frame(std::uint64_t frame, const DemoControls& controls, const DemoStats& stats);
    void fail_from_python();
    double clock_ms() const;

    std::shared_ptr<State> state_;
    std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
    std::int64_t clock_origin_ns_ = clock_->now_ns();
    CliOptions options_;           // as setup() left them
    std::string log_path_;
    PyObject* module_ = nullptr;    // the script's module
    PyObject* on_frame_ = nullptr;  // its on_frame, or nullptr
    std::string error_;
    std::string traceback_;
};

// The control module (scenario/control_module.cpp): creates `boids_scenario` in sys.modules,
// bound to `state`. Main interpreter, GIL held; false with a Python error set.
bool install_control_module(ScenarioRunner::State* state);

}  // namespace boc::demo

namespace boc::demo {

struct ScenarioRunner::State
{
    std::string path;
    std::string name;  // setup(name=...), default: the file's stem
    std::string description;
    std::string screenshot_dir;
    CliOptions* options = nullptr;  // while the script's module level runs: setup() writes here
    std::size_t workers_from_cli = 0;  // --workers N > 0 overrides setup(workers=)
    bool setup_done = false;
    std::optional<DispatchMode> dispatch;
    DemoControls* controls = nullptr;  // while on_frame runs: the actions write here
    std::uint64_t frame = 0;
    std::vector<std::string> shots;
    std::FILE* log = nullptr;
    std::FILE* echo = stdout;  // everything but frame records is echoed here
    // The frame's observation points: pump() entry, right after it, the monitor sample.
    std::int64_t episode_at_pump = -1;
    std::int64_t age_at_pump_ms = 0;
    std::size_t depth_at_pump = 0;
    std::size_t depth_after_pump = 0;
    std::int64_t episode_at_sample = -1;
    std::uint64_t reports_at_begin = 0;
    std::uint64_t reports_before_sample = 0;
    bool sample_due = false;
    std::uint64_t watchdog_seen = 0;
    std::string error;

    void write(const nlohmann::ordered_json& line);
};

}  // namespace boc::demo
