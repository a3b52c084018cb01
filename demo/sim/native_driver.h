// SimulationDriver over the serial C++ NativeBoids simulation.
//
// No runtime is involved: pump() always returns zeros (nothing is pinned), step() computes
// the next state on the main thread and writes it straight into the sink. The dispatch mode
// is accepted and ignored (there is no pinned queue to starve).
#pragma once

#include "sim/native_boids.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

class NativeDriver final : public SimulationDriver {
 public:
  NativeDriver() = default;

  std::string_view name() const override { return "native"; }
  void attach_sink(InstanceSink* sink) override;
  void reset(const FlockSetup& setup) override;
  void configure_watchdog(const WatchdogSettings& settings) override;
  PumpFrame pump(const PumpSettings& settings) override;
  void step(const StepRequest& request) override;
  RuntimeSnapshot snapshot() const override;
  bool final_state(std::vector<double>& xyvv) override;

  const NativeBoids& boids() const { return boids_; }

 private:
  void publish();

  NativeBoids boids_;
  InstanceSink* sink_ = nullptr;
  double step_ms_ = 0.0;
};

}  // namespace boc::demo
