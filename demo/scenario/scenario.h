// Scripted, deterministic runs of boids_demo: `--scenario python_scripts/scenarios/<name>.py`.
//
// A Python script run by the embedded interpreter against the control module `boids_scenario`:
// setup(...) at module level, on_frame(frame) at the start of every frame, before pump(). How it
// is deterministic, its vocabulary and its JSON Lines log: README, "Starvation scenarios".
#pragma once

#include <Python.h>

#include <cstdint>
#include <memory>
#include <string>

#include "boc/clock.h"
#include "app/cli.h"
#include "app/frame_loop.h"

namespace boc::demo {

class ScenarioRunner final : public FrameScript {
 public:
  ~ScenarioRunner() override;

  // Runs the script: its setup() fills `options` (scenario_log, screenshot_dir: outputs), then
  // installs the manual clock. False with error() "path:line: message" and traceback().
  bool load(const std::string& path, CliOptions& options);
  std::unique_ptr<SimulationDriver> wrap_driver(std::unique_ptr<SimulationDriver> driver);
  // Opens the log (its header); applies setup()'s dispatch to the initial controls.
  bool start(const std::string& driver_name, std::size_t workers, DemoControls& controls);
  ManualClock* clock() { return clock_.get(); }
  // FrameScript: logs the previous frame, then runs on_frame(frame).
  FramePlan frame(std::uint64_t frame, DemoControls& controls, const DemoStats& stats) override;
  // Logs the last frame; false if the run failed or fell short.
  bool finish(std::uint64_t frames_rendered, const DemoControls& controls, const DemoStats& stats);
  const std::string& error() const { return error_; }
  const std::string& traceback() const { return traceback_; }

  struct State;  // shared with the control module and the wrapped driver (scenario.cpp)

 private:
  void log_frame(std::uint64_t frame, const DemoControls& controls, const DemoStats& stats);
  void fail_from_python();

  std::shared_ptr<State> state_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::int64_t clock_origin_ns_ = clock_->now_ns();
  CliOptions options_;  // as setup() left them
  PyObject* module_ = nullptr;
  PyObject* on_frame_ = nullptr;
  std::string error_, traceback_;
};

}  // namespace boc::demo
