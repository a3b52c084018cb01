#include "sim/native_driver.h"

#include <chrono>

namespace boc::demo {

void NativeDriver::attach_sink(InstanceSink* sink) {
  sink_ = sink;
  publish();  // show the current state at once (e.g. before the first step)
}

void NativeDriver::reset(const FlockSetup& setup) {
  boids_.reset(setup.boids, setup.seed, setup.params);
  publish();
}

void NativeDriver::configure_watchdog(const WatchdogSettings&) {
  // No pinned queue, nothing to watch.
}

PumpFrame NativeDriver::pump(const PumpSettings&) { return {}; }

void NativeDriver::step(const StepRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  boids_.step(request.params, static_cast<float>(request.dt));
  step_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  publish();
}

RuntimeSnapshot NativeDriver::snapshot() const {
  RuntimeSnapshot s;
  s.workers = 0;
  s.boids = boids_.size();
  s.behaviors_total = 0;
  s.step_ms = step_ms_;
  return s;
}

bool NativeDriver::final_state(std::vector<double>& xyvv) {
  const std::span<const float> state = boids_.state();
  xyvv.assign(state.begin(), state.end());
  return true;
}

void NativeDriver::publish() {
  if (sink_ != nullptr) {
    sink_->write_instances(boids_.state().data(), boids_.size());
  }
}

}  // namespace boc::demo
