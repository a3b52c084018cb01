// What the user can change from the panels. The panels write here; the frame loop reads it.
//
// Fields named *_requested / *_changed are one-shot: a panel sets them, the frame loop acts
// and clears them.
#pragma once

#include "cli.h"
#include "flock_params.h"
#include "simulation_driver.h"

namespace boc::demo {

struct DemoControls
{
    // Pump budget (Tuning).
    float deadline_ms = 4.0f;
    bool deadline_unbounded = false;
    int max_behaviors = 64;
    bool max_behaviors_unbounded = true;

    // Watchdog (Tuning).
    bool watchdog_enabled = true;
    float watchdog_warn_ms = 250.0f;
    bool watchdog_changed = false;

    // While the window is minimised the loop still pumps, then waits this long for events.
    float wait_poll_ms = 10.0f;

    // Flock (Tuning).
    int boid_count = 2000;
    bool boid_count_changed = false;
    FlockParams flock;
    bool paused = false;          // stop stepping (the pump keeps running)
    bool step_requested = false;  // one step while paused

    // Starvation lab.
    bool pump_paused = false;  // skip pump() entirely: pinned work piles up
    int stall_ms = 0;          // burn this long on the main thread every frame
    DispatchMode dispatch = DispatchMode::kCoarse;

    // Errors.
    bool clear_errors_requested = false;
};

// Initial controls from the command line.
DemoControls controls_from_cli(const CliOptions& options);

PumpSettings pump_settings(const DemoControls& controls);
WatchdogSettings watchdog_settings(const DemoControls& controls);

}  // namespace boc::demo
