// SimulationDriver over the bocpy runtime and the Python simulation script (--script,
// python_scripts/boids.py by default).
//
// The driver imports the script as a module in the main interpreter (python_host.h), starts
// the runtime with --workers worker interpreters and creates the script's
// `Simulation(n, seed, params, gl)`, where `gl` is a boids_gl.GlBuffer around the attached
// InstanceSink. Each frame:
//
//   pump()   bocpy.pump(deadline_ms rounded up to whole ms, max_behaviors): runs last frame's
//            pinned write-back, which writes the batch into the sink through `gl`.
//            Lockstep mode (fixed dt, the bench): first waits (without pumping) until the
//            step in flight has finished on the workers, so the frame's single pump() runs its
//            write-back and every frame advances the flock by exactly one step (reproducible
//            runs, as long as the budget lets the write-back run: its first behavior always does).
//   step()   sim.step(dt, params, per_item): tile behaviors on the workers + one pinned
//            write-back (or one per boid); skipped while a step is in flight.
//
// Watchdog reports arrive through BocpyRuntime's report observer (any thread, queued under
// a mutex); behavior errors through the script's error list and exceptions from step().
// Nothing here is fatal once the script imported: errors go to the Errors panel.
#pragma once

#include <Python.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/gl_handle_module.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

struct PythonDriverOptions {
  std::string script = "python_scripts/boids.py";  // resolved with resolve_script_path()
  std::size_t workers = 0;                         // 0: one per hardware thread
  // Every pump() first waits for the workers of the step in flight: one simulation step per
  // frame, so the state after N frames is reproducible. Off: a frame whose step has not
  // come back yet skips stepping (step_pending).
  bool lockstep = false;
};

// The script could not be found, imported or does not define Simulation. what() is a one-line
// summary; traceback() the formatted Python traceback (may be empty).
class ScriptError : public std::runtime_error {
 public:
  ScriptError(const std::string& message, std::string traceback)
      : std::runtime_error(message), traceback_(std::move(traceback)) {}
  const std::string& traceback() const { return traceback_; }

 private:
  std::string traceback_;
};

class PythonDriver final : public SimulationDriver {
 public:
  // Starts the embedded interpreter if needed and imports the script. Throws ScriptError.
  explicit PythonDriver(PythonDriverOptions options);
  ~PythonDriver() override;

  std::string_view name() const override { return name_; }
  void attach_sink(InstanceSink* sink) override;
  void reset(const FlockSetup& setup) override;
  void configure_watchdog(const WatchdogSettings& settings) override;
  PumpFrame pump(const PumpSettings& settings) override;
  void step(const StepRequest& request) override;
  RuntimeSnapshot snapshot() const override;
  std::vector<WatchdogEvent> drain_watchdog_events() override;
  std::vector<ErrorEntry> drain_errors() override;
  void shutdown() override;
  bool final_state(std::vector<double>& xyvv) override;

  std::size_t worker_count() const { return workers_; }

 private:
  struct Events;

  bool ensure_runtime();
  void drain_in_flight();
  void refresh_pending();
  void record_python_error(const char* context);
  PyObject* params_dict(const FlockParams& params) const;  // new ref or nullptr

  PythonDriverOptions options_;
  std::string name_;
  std::size_t workers_ = 1;
  std::unique_ptr<GlHandle> gl_;
  PyObject* module_ = nullptr;      // the script
  PyObject* simulation_ = nullptr;  // its Simulation, or nullptr before reset / after a failure
  PyObject* bocpy_ = nullptr;       // the bocpy module
  std::shared_ptr<Events> events_;  // shared with the watchdog observer
  std::vector<ErrorEntry> errors_;

  std::size_t boids_ = 0;
  bool pending_ = false;
  double step_ms_ = 0.0;
  double wait_poll_ms_ = 0.0;  // last value given to set_wait_pump_poll
  std::uint64_t completed_base_ = 0;
  bool shut_down_ = false;
};

}  // namespace boc::demo
