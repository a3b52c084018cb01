// What the user can change from the panels. The panels write here; the frame loop reads it.
//
// Fields named *_requested / *_changed are one-shot: a panel sets them, the frame loop acts
// and clears them.
#pragma once

#include "app/cli.h"
#include "sim/flock_params.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

struct DemoControls {
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
  int boids_slider_max = 20000;  // at least --boids, so the slider never shows a value past its end
  FlockParams flock;
  FlockParams flock_defaults;   // what "defaults" restores (the start-up parameters)
  bool paused = false;          // stop stepping (the pump keeps running)
  bool step_requested = false;  // one step while paused

  // Starvation lab.
  bool pump_paused = false;  // skip pump() entirely: pinned work piles up
  int stall_ms = 0;          // burn this long on the main thread every frame
  int stall_once_ms = 0;     // one-shot: an extra stall of this frame only (a scenario's stall_once)
  DispatchMode dispatch = DispatchMode::kCoarse;

  // Recording (Starvation lab): one-shot requests; the frame loop's ScenarioRecorder acts.
  bool record_toggle_requested = false;
  bool save_scenario_requested = false;

  // Errors.
  bool clear_errors_requested = false;

  // Layout: Tab / F1 hide every panel; "reset layout" re-anchors them (panel_layout.h).
  bool panels_hidden = false;
  bool reset_layout_requested = false;
};

// Initial controls from the command line.
DemoControls controls_from_cli(const CliOptions& options);

// The "defaults" button: the start-up flock weights, radii and speeds; the world box stays.
void restore_flock_defaults(DemoControls& controls);

PumpSettings pump_settings(const DemoControls& controls);
WatchdogSettings watchdog_settings(const DemoControls& controls);

}  // namespace boc::demo
