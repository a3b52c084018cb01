#include "app/demo_stats.h"

#include <cstdio>
#include <string>

namespace boc::demo {

namespace {

// Exponential smoothing for fps and behaviors/s (the fps text and plot show the same series).
constexpr double kSmoothing = 0.1;

double smooth(double previous, double sample, bool first) {
  return first ? sample : previous + kSmoothing * (sample - previous);
}

}  // namespace

void record_frame(DemoStats& stats, const PumpFrame& pump, bool pump_skipped, const RuntimeSnapshot& runtime,
                  const FrameTimings& timings, double dt_s) {
  const bool first = stats.frame == 0;
  const std::uint64_t previous_total = first ? runtime.behaviors_total : stats.runtime.behaviors_total;
  // The total is monotonic, but a driver reset may restart it: treat a drop as a restart.
  stats.behaviors_this_frame =
      runtime.behaviors_total >= previous_total ? runtime.behaviors_total - previous_total : runtime.behaviors_total;

  stats.pump = pump;
  stats.pump_skipped = pump_skipped;
  stats.runtime = runtime;
  stats.timings = timings;
  stats.time_s += dt_s;

  const double frame_ms = timings.frame_ms > 0.0 ? timings.frame_ms : dt_s * 1000.0;
  const double fps = frame_ms > 0.0 ? 1000.0 / frame_ms : 0.0;
  stats.fps = smooth(stats.fps, fps, first);
  const double per_second = frame_ms > 0.0 ? static_cast<double>(stats.behaviors_this_frame) * 1000.0 / frame_ms : 0.0;
  stats.behaviors_per_second = smooth(stats.behaviors_per_second, per_second, first);

  stats.depth_history.push(static_cast<float>(runtime.pinned_depth));
  stats.age_history.push(static_cast<float>(runtime.pinned_age_ms));
  stats.frame_ms_history.push(static_cast<float>(frame_ms));
  stats.fps_history.push(static_cast<float>(stats.fps));
  stats.step_ms_history.push(static_cast<float>(runtime.step_ms));
  stats.behaviors_history.push(static_cast<float>(stats.behaviors_this_frame));
  stats.errors_this_frame = stats.errors_accum;
  stats.errors_accum = 0;
  stats.errors_history.push(static_cast<float>(stats.errors_this_frame));
  ++stats.frame;
}

std::string run_summary(const DemoStats& stats, double wall_seconds) {
  char buf[512];
  std::string out;
  const double fps = wall_seconds > 0.0 ? static_cast<double>(stats.frame) / wall_seconds : 0.0;
  std::snprintf(buf, sizeof buf,
                "boids_demo: %llu frames in %.2f s (%.1f frames/s), driver %s, %zu boids, %zu workers\n",
                static_cast<unsigned long long>(stats.frame), wall_seconds, fps, stats.driver_name.c_str(),
                stats.runtime.boids, stats.runtime.workers);
  out += buf;
  std::snprintf(
      buf, sizeof buf,
      "  pump (last frame): executed %zu, deadline reached %s, raised %zu; pinned queue depth %zu, age %.0f ms\n",
      stats.pump.executed, stats.pump.deadline_reached ? "yes" : "no", stats.pump.raised, stats.runtime.pinned_depth,
      stats.runtime.pinned_age_ms);
  out += buf;
  const double per_frame =
      stats.frame > 0 ? static_cast<double>(stats.runtime.behaviors_total) / static_cast<double>(stats.frame) : 0.0;
  std::snprintf(buf, sizeof buf, "  behaviors: %llu completed (%.1f per frame)\n",
                static_cast<unsigned long long>(stats.runtime.behaviors_total), per_frame);
  out += buf;
  std::snprintf(buf, sizeof buf, "  watchdog: %llu report(s); errors: %llu\n",
                static_cast<unsigned long long>(stats.watchdog_total),
                static_cast<unsigned long long>(stats.errors_total));
  out += buf;
  for (const WatchdogEvent& e : stats.watchdog_log) {
    std::snprintf(buf, sizeof buf, "    watchdog at %.2f s: queue non-empty %.0f ms, depth %zu\n", e.time_s, e.age_ms,
                  e.depth);
    out += buf;
  }
  for (const ErrorEntry& e : stats.errors) out += "    error: " + e.message + "\n";
  return out;
}

void append_watchdog_events(DemoStats& stats, const std::vector<WatchdogEvent>& events) {
  for (const WatchdogEvent& e : events) {
    stats.watchdog_log.push_back(e);
    ++stats.watchdog_total;
    if (stats.watchdog_log.size() > DemoStats::kWatchdogLogMax) {
      stats.watchdog_log.pop_front();
    }
  }
}

void append_errors(DemoStats& stats, std::vector<ErrorEntry> errors) {
  for (ErrorEntry& e : errors) {
    stats.errors.push_back(std::move(e));
    ++stats.errors_total;
    ++stats.errors_accum;
    if (stats.errors.size() > DemoStats::kErrorsMax) {
      stats.errors.pop_front();
    }
  }
}

void clear_errors(DemoStats& stats) { stats.errors.clear(); }

StarvationStatus starvation_status(const RuntimeSnapshot& runtime, double warn_ms) {
  StarvationStatus s;
  s.depth = runtime.pinned_depth;
  s.age_ms = runtime.pinned_depth > 0 ? runtime.pinned_age_ms : 0.0;
  s.starving = runtime.pinned_depth > 0 && runtime.pinned_age_ms >= warn_ms;
  return s;
}

std::string starvation_banner_text(const StarvationStatus& status) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "PUMP STARVING: pinned queue non-empty for %.0f ms, depth %zu", status.age_ms,
                status.depth);
  return buf;
}

}  // namespace boc::demo

namespace boc::demo {

ErrorsStatus errors_status(const DemoStats& stats) {
  ErrorsStatus s;
  const std::size_t n = stats.errors_history.size();
  for (std::size_t i = n > kErrorWindowFrames ? n - kErrorWindowFrames : 0; i < n; ++i)
    s.recent += static_cast<std::uint64_t>(stats.errors_history.at(i));
  s.raising = s.recent > 0;
  return s;
}

std::string errors_banner_text(const ErrorsStatus& status) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "FLOCK FROZEN BY ERRORS: %llu behavior error(s) in the last %zu frames; the boids of a failing "
                "tile keep their state (see the Errors panel)",
                static_cast<unsigned long long>(status.recent), kErrorWindowFrames);
  return buf;
}

}  // namespace boc::demo
