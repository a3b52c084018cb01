// Debug decorator (--debug-fake-starvation): wraps a driver and overlays a synthetic pinned
// queue on its snapshot, so the starvation banner, the depth/age plots and the watchdog log
// can be seen and screenshot with a driver whose pump is always empty (NativeDriver).
//
// The synthetic queue runs in episodes measured in simulated time (the dt of each step, so
// fixed-dt runs are deterministic): non-empty for kBusyS seconds with the depth growing by
// one every kFramesPerItem steps, then empty for kIdleS seconds. One watchdog event is
// reported per episode once the age passes warn_ms, like the real watchdog, together with one
// synthetic error entry (so the Errors panel has something to show). Pausing the pump
// in the Starvation lab has no effect on it; it is not a model of the runtime.
#pragma once

#include <memory>

#include "simulation_driver.h"

namespace boc::demo {

class FakeStarvationDriver final : public SimulationDriver
{
public:
    static constexpr double kBusyS = 3.0;
    static constexpr double kIdleS = 1.0;
    static constexpr int kFramesPerItem = 4;

    explicit FakeStarvationDriver(std::unique_ptr<SimulationDriver> inner);

    std::string_view name() const override { return inner_->name(); }
    void attach_sink(InstanceSink* sink) override { inner_->attach_sink(sink); }
    void reset(const FlockSetup& setup) override { inner_->reset(setup); }
    void configure_watchdog(const WatchdogSettings& settings) override;
    PumpFrame pump(const PumpSettings& settings) override { return inner_->pump(settings); }
    void step(const StepRequest& request) override;
    RuntimeSnapshot snapshot() const override;
    std::vector<WatchdogEvent> drain_watchdog_events() override;
    std::vector<ErrorEntry> drain_errors() override;
    bool final_state(std::vector<double>& xyvv) override { return inner_->final_state(xyvv); }
    void shutdown() override { inner_->shutdown(); }

private:
    std::unique_ptr<SimulationDriver> inner_;
    WatchdogSettings watchdog_;
    double time_s_ = 0.0;
    double episode_start_s_ = 0.0;  // when the current busy period started
    int busy_steps_ = 0;
    bool warned_ = false;
    std::vector<WatchdogEvent> pending_;
    std::vector<ErrorEntry> pending_errors_;
    int episode_ = 1;
};

}  // namespace boc::demo
