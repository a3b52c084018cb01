#include "app/demo_controls.h"

#include <algorithm>
#include <limits>

namespace boc::demo {

DemoControls controls_from_cli(const CliOptions& options) {
  DemoControls c;
  c.deadline_unbounded = !options.deadline_ms.has_value();
  if (options.deadline_ms) {
    c.deadline_ms = static_cast<float>(*options.deadline_ms);
  }
  c.max_behaviors_unbounded = !options.max_behaviors.has_value();
  if (options.max_behaviors) {
    c.max_behaviors = static_cast<int>(std::min<std::size_t>(*options.max_behaviors, std::numeric_limits<int>::max()));
  }
  c.watchdog_enabled = options.watchdog_ms.has_value();
  if (options.watchdog_ms) {
    c.watchdog_warn_ms = static_cast<float>(*options.watchdog_ms);
  }
  c.stall_ms = options.stall_ms;
  c.boid_count = static_cast<int>(options.boids);
  c.boids_slider_max = std::max(c.boids_slider_max, c.boid_count);
  // World box: 720 units tall, as wide as the framebuffer's aspect ratio.
  c.flock.world_h = 720.0f;
  c.flock.world_w = 720.0f * static_cast<float>(options.width) / static_cast<float>(options.height);
  c.flock_defaults = c.flock;
  return c;
}

void restore_flock_defaults(DemoControls& controls) {
  const float w = controls.flock.world_w;
  const float h = controls.flock.world_h;
  controls.flock = controls.flock_defaults;
  controls.flock.world_w = w;
  controls.flock.world_h = h;
}

PumpSettings pump_settings(const DemoControls& controls) {
  PumpSettings s;
  if (controls.deadline_unbounded)
    s.deadline_ms.reset();
  else
    s.deadline_ms = controls.deadline_ms;
  if (controls.max_behaviors_unbounded)
    s.max_behaviors.reset();
  else
    s.max_behaviors = static_cast<std::size_t>(std::max(controls.max_behaviors, 1));
  s.wait_poll_ms = std::max(controls.wait_poll_ms, 1.0f);
  return s;
}

WatchdogSettings watchdog_settings(const DemoControls& controls) {
  return WatchdogSettings{controls.watchdog_enabled, controls.watchdog_warn_ms};
}

}  // namespace boc::demo
