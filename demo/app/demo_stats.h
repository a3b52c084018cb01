// What the panels show: this frame's pump result, runtime snapshot, timings, plot histories,
// the watchdog log and the error list. The frame loop fills it (record_frame and friends);
// the panels only read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "app/history.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

// Wall-clock cost of one frame's phases, in milliseconds.
struct FrameTimings {
  double pump_ms = 0.0;
  double stall_ms = 0.0;
  double step_ms = 0.0;    // driver.step() as seen by the frame loop
  double render_ms = 0.0;  // boids + panels (previous frame: measured after the panels are drawn)
  double frame_ms = 0.0;   // start of the previous frame to the start of this one
};

struct DemoStats {
  static constexpr std::size_t kHistory = 240;        // plot length (4 s at 60 fps)
  static constexpr std::size_t kWatchdogLogMax = 64;  // newest kept
  static constexpr std::size_t kErrorsMax = 200;      // newest kept

  std::string driver_name;
  bool nominal_timings = false;  // deterministic mode: timings are the nominal 1/60 s, not measured

  std::uint64_t frame = 0;  // frames recorded so far
  double time_s = 0.0;      // simulated time (sum of dt)

  // This frame.
  PumpFrame pump;
  bool pump_skipped = false;  // Starvation lab paused the pump
  RuntimeSnapshot runtime;
  FrameTimings timings;
  std::uint64_t behaviors_this_frame = 0;
  double behaviors_per_second = 0.0;  // smoothed
  double fps = 0.0;                   // smoothed; fps_history holds the same series

  // Histories for the plots.
  History<kHistory> depth_history;
  History<kHistory> age_history;
  History<kHistory> frame_ms_history;
  History<kHistory> fps_history;
  History<kHistory> step_ms_history;
  History<kHistory> behaviors_history;
  History<kHistory> errors_history;  // errors reported per frame

  std::deque<WatchdogEvent> watchdog_log;  // oldest first
  std::uint64_t watchdog_total = 0;        // including entries dropped from the log
  std::deque<ErrorEntry> errors;           // oldest first
  std::uint64_t errors_total = 0;
  std::uint64_t errors_this_frame = 0;  // reported with the last recorded frame
  std::uint64_t errors_accum = 0;       // appended since the last record_frame

  // Scenario recording (Starvation lab; recorder.h).
  bool recording = false;
  std::uint64_t recorded_frames = 0;
  std::size_t recorded_changes = 0;
  std::string last_saved;  // path of the last saved scenario, or an error message
};

// Records one frame (after step() and snapshot()).
void record_frame(DemoStats& stats, const PumpFrame& pump, bool pump_skipped, const RuntimeSnapshot& runtime,
                  const FrameTimings& timings, double dt_s);

void append_watchdog_events(DemoStats& stats, const std::vector<WatchdogEvent>& events);

// The end-of-run summary a headless run prints (frames, rate, pump, behaviors, watchdog,
// errors), one line per topic.
std::string run_summary(const DemoStats& stats, double wall_seconds);
void append_errors(DemoStats& stats, std::vector<ErrorEntry> errors);
void clear_errors(DemoStats& stats);

// The banner condition: the pinned queue has been non-empty for at least warn_ms.
struct StarvationStatus {
  bool starving = false;
  double age_ms = 0.0;
  std::size_t depth = 0;
};

StarvationStatus starvation_status(const RuntimeSnapshot& runtime, double warn_ms);

// The errors banner: behaviors raised in the last kErrorWindowFrames frames (a tile whose
// behavior raised keeps its boids' state, so a behavior that raises every frame freezes them).
inline constexpr std::size_t kErrorWindowFrames = 60;
struct ErrorsStatus {
  bool raising = false;
  std::uint64_t recent = 0;  // errors in the window
};
ErrorsStatus errors_status(const DemoStats& stats);
// "FLOCK FROZEN BY ERRORS: 60 behavior errors in the last 60 frames; ..."
std::string errors_banner_text(const ErrorsStatus& status);

// "PUMP STARVING: pinned queue non-empty for 1234 ms, depth 5"
std::string starvation_banner_text(const StarvationStatus& status);

}  // namespace boc::demo
