// Where a simulation writes the boids it wants drawn: the GL instance buffer.
//
// Main thread only (the GL context is current there). BoidsRenderer implements it; tests
// and the bench can substitute a CPU-side sink. A Python-backed driver wraps the sink in
// the PinnedCown its write-back behavior names, so the write can only ever happen inside
// pump() on the main thread.
#pragma once

#include <cstddef>

namespace boc::demo {

class InstanceSink {
 public:
  virtual ~InstanceSink();

  // Replaces the whole batch with `count` instances of 4 floats (x, y, vx, vy).
  virtual void write_instances(const float* xyvv, std::size_t count) = 0;

  // Overwrites instances [first, first + count) of the current batch, growing the batch if
  // needed. This is what the per-item anti-pattern uses (one pinned behavior per boid).
  virtual void write_instance_range(std::size_t first, const float* xyvv, std::size_t count) = 0;

  // Instances the next draw will show.
  virtual std::size_t instance_count() const = 0;
};

}  // namespace boc::demo
