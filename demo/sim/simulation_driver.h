// The interface between the frame loop and whatever computes the flock.
//
// The frame loop is simulation-agnostic. Each frame it calls, in this order:
//
//   pump(settings)      FIRST, before any minimised-window skip: drain the pinned queue
//                       (for the Python driver this runs last frame's pinned write-back,
//                       which fills the attached InstanceSink).
//   [optional stall]    Starvation lab: burn N ms on the main thread.
//   step(request)       compute (native) or schedule (Python: per-cell worker behaviors +
//                       ONE pinned write-back, or one per boid in the anti-pattern mode).
//   render              draw whatever the sink holds now.
//   snapshot()          queue depth / age, workers, counters -> DemoStats -> panels.
//
// Two implementations:
//   * NativeDriver (native_driver.h): serial C++ NativeBoids; pump() always returns zeros;
//     step() computes and writes the sink synchronously.
//   * PythonDriver (python_driver.h): pump() calls the BOC runtime's
//     pump(deadline_ms, max_behaviors); step() calls sim.step() of python_scripts/boids.py in
//     the main interpreter; the script's pinned write-back calls back into C++ to fill the
//     sink (boids_gl.GlBuffer, gl_handle_module.h); watchdog events and behavior errors are
//     queued by runtime callbacks and handed out by drain_watchdog_events() / drain_errors().
//
// All methods are called on the main thread, with the GL context current.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/flock_params.h"
#include "sim/instance_sink.h"

namespace boc::demo {

// Budget for one pump() call. nullopt means unbounded. Mirrors boc::PumpOptions (runtime/
// include/boc/pump.h); the runtime's deadline has millisecond granularity, so a runtime-backed
// driver rounds deadline_ms up to whole milliseconds (at least 1).
struct PumpSettings {
  std::optional<double> deadline_ms = 4.0;
  std::optional<std::size_t> max_behaviors;
  // How long a blocking wait for pinned work may park between pump checks. The frame loop
  // uses it while the window is minimised; a runtime-backed driver may pass it on
  // (boc::RuntimeOptions::wait_pump_poll).
  double wait_poll_ms = 10.0;
};

// What one pump() call did: bocpy's (executed, deadline_reached, raised), the same fields as
// boc::PumpResult.
struct PumpFrame {
  std::size_t executed = 0;       // pinned behaviors run by this call
  bool deadline_reached = false;  // stopped because the deadline passed with work left
  std::size_t raised = 0;         // behaviors whose body raised (reported via drain_errors)
  // The deadline pump() really ran with (the Python driver passes whole milliseconds to
  // bocpy.pump, python_driver.cpp), and how long the call itself took (wall clock; 0 when
  // the driver does not measure it).
  std::optional<double> effective_deadline_ms;
  double call_ms = 0.0;
};

struct WatchdogSettings {
  bool enabled = true;
  double warn_ms = 250.0;  // warn once per episode when the pinned queue stays non-empty this long
};

// One watchdog report: the pinned queue had been non-empty for age_ms with `depth` entries
// (from boc::StarvationReport, stamped with the driver's clock).
struct WatchdogEvent {
  double time_s = 0.0;  // runtime clock time of the report (seconds since the driver started)
  double age_ms = 0.0;
  std::size_t depth = 0;
};

// A behavior (or script) failure, for the Errors panel.
struct ErrorEntry {
  std::string message;    // one line, e.g. "ZeroDivisionError: division by zero"
  std::string traceback;  // full formatted traceback, may be empty
};

// Dispatch mode of the write-back (Starvation lab).
enum class DispatchMode {
  kCoarse,   // one pinned write-back per frame (the right way)
  kPerItem,  // one pinned behavior per boid (the anti-pattern that starves the pump)
};

// Everything step() needs for one simulation step.
struct StepRequest {
  FlockParams params;
  double dt = 1.0 / 60.0;
  DispatchMode dispatch = DispatchMode::kCoarse;
};

// The flock's size and initial state; applied by reset().
struct FlockSetup {
  std::size_t boids = 2000;
  std::uint64_t seed = 1;
  FlockParams params;  // world box and speeds used for the initial placement
};

// State of the runtime as seen by the panels, sampled once per frame after step().
struct RuntimeSnapshot {
  std::size_t workers = 0;            // worker threads / interpreters (0 for the native driver)
  std::size_t boids = 0;              // boids in the simulation
  std::size_t pinned_depth = 0;       // pinned queue depth now
  double pinned_age_ms = 0.0;         // how long the pinned queue has been non-empty (0 when empty)
  std::uint64_t behaviors_total = 0;  // behaviors completed since start (workers + pinned), monotonic
  double step_ms = 0.0;               // simulation cost of the last step (compute, or scheduling)
  bool step_pending = false;          // a scheduled step has not been written back yet
};

class SimulationDriver {
 public:
  virtual ~SimulationDriver();

  // Short name for logs and the bench table, e.g. "native" or "python x2".
  virtual std::string_view name() const = 0;

  // Where write-backs go. Called once the GL objects exist, and with nullptr before they are
  // destroyed (after which the driver must not write). A driver may write only on the main
  // thread, inside pump() or step().
  virtual void attach_sink(InstanceSink* sink) = 0;

  // (Re)creates the flock. Called before the first frame and when the Tuning panel changes
  // the boid count. A Python driver drains in-flight steps first.
  virtual void reset(const FlockSetup& setup) = 0;

  // Applied before the first frame and whenever the Tuning panel changes it.
  virtual void configure_watchdog(const WatchdogSettings& settings) = 0;

  // First thing each frame: run queued pinned behaviors within the budget.
  virtual PumpFrame pump(const PumpSettings& settings) = 0;

  // Compute or schedule the next step. A driver whose previous step is still in flight
  // may skip scheduling (it reports step_pending in the snapshot).
  virtual void step(const StepRequest& request) = 0;

  // Sampled once per frame, after step().
  virtual RuntimeSnapshot snapshot() const = 0;

  // Reports since the last call (watchdog warnings, behavior errors). Default: none.
  virtual std::vector<WatchdogEvent> drain_watchdog_events() { return {}; }
  virtual std::vector<ErrorEntry> drain_errors() { return {}; }

  // The flock after every scheduled step has been applied (in-flight work is drained first):
  // x, y, vx, vy per boid. False if the driver cannot tell. Used by --dump-state.
  virtual bool final_state(std::vector<double>& xyvv) {
    (void)xyvv;
    return false;
  }

  // Called once after the last frame, while the sink is still attached: drain or cancel
  // in-flight work (Python: runtime shutdown). Default: nothing to do.
  virtual void shutdown() {}
};

// A driver that forwards every call to another one: the base of decorators, which override
// what they add to (the scenario runner's fixed observation points: scenario/scenario.cpp).
class ForwardingDriver : public SimulationDriver {
 public:
  explicit ForwardingDriver(std::unique_ptr<SimulationDriver> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  void attach_sink(InstanceSink* sink) override { inner_->attach_sink(sink); }
  void reset(const FlockSetup& setup) override { inner_->reset(setup); }
  void configure_watchdog(const WatchdogSettings& settings) override { inner_->configure_watchdog(settings); }
  PumpFrame pump(const PumpSettings& settings) override { return inner_->pump(settings); }
  void step(const StepRequest& request) override { inner_->step(request); }
  RuntimeSnapshot snapshot() const override { return inner_->snapshot(); }
  std::vector<WatchdogEvent> drain_watchdog_events() override { return inner_->drain_watchdog_events(); }
  std::vector<ErrorEntry> drain_errors() override { return inner_->drain_errors(); }
  bool final_state(std::vector<double>& xyvv) override { return inner_->final_state(xyvv); }
  void shutdown() override { inner_->shutdown(); }

 private:
  std::unique_ptr<SimulationDriver> inner_;
};

}  // namespace boc::demo
