#include "fake_starvation_driver.h"

#include <string>

namespace boc::demo {

FakeStarvationDriver::FakeStarvationDriver(std::unique_ptr<SimulationDriver> inner) : inner_(std::move(inner)) {}

void FakeStarvationDriver::configure_watchdog(const WatchdogSettings& settings)
{
    watchdog_ = settings;
    inner_->configure_watchdog(settings);
}

void FakeStarvationDriver::step(const StepRequest& request)
{
    inner_->step(request);
    time_s_ += request.dt;
    if (time_s_ - episode_start_s_ >= kBusyS + kIdleS)
    {
        episode_start_s_ = time_s_;
        busy_steps_ = 0;
        warned_ = false;
        ++episode_;
    }
    const double busy_for_s = time_s_ - episode_start_s_;
    if (busy_for_s < kBusyS)
    {
        ++busy_steps_;
        const RuntimeSnapshot s = snapshot();
        if (watchdog_.enabled && !warned_ && s.pinned_age_ms >= watchdog_.warn_ms)
        {
            warned_ = true;
            pending_.push_back(WatchdogEvent{time_s_, s.pinned_age_ms, s.pinned_depth});
            pending_errors_.push_back(ErrorEntry{
                "RuntimeError: synthetic error for episode " + std::to_string(episode_) + " (--debug-fake-starvation)",
                "Traceback (most recent call last):\n"
                "  File \"python_scripts/boids.py\", line 1, in write_back\n"
                "RuntimeError: synthetic error for episode " +
                    std::to_string(episode_) + " (--debug-fake-starvation)"});
        }
    }
}

RuntimeSnapshot FakeStarvationDriver::snapshot() const
{
    RuntimeSnapshot s = inner_->snapshot();
    const double busy_for_s = time_s_ - episode_start_s_;
    if (busy_for_s < kBusyS)
    {
        s.pinned_depth += 1 + static_cast<std::size_t>(busy_steps_ / kFramesPerItem);
        s.pinned_age_ms = busy_for_s * 1000.0;
    }
    return s;
}

std::vector<WatchdogEvent> FakeStarvationDriver::drain_watchdog_events()
{
    std::vector<WatchdogEvent> out = inner_->drain_watchdog_events();
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
    return out;
}

std::vector<ErrorEntry> FakeStarvationDriver::drain_errors()
{
    std::vector<ErrorEntry> out = inner_->drain_errors();
    for (ErrorEntry& e : pending_errors_)
        out.push_back(std::move(e));
    pending_errors_.clear();
    return out;
}

}  // namespace boc::demo
