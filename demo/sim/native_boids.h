// A deterministic, serial C++ boids simulation over a uniform spatial grid.
//
// Two roles: the interim simulation behind NativeDriver, and the physical-limit baseline
// of `boids_demo --bench` (what one core does with no runtime in the way). It depends on
// nothing but the standard library so tests/demo can exercise it without GL.
//
// Determinism: the state after N steps depends only on (count, seed, params, dt sequence).
// Each step reads the previous state and writes a new one (double buffer), neighbours are
// visited in a fixed order (grid cells in row order, boids within a cell in index order),
// and the build uses -ffp-contract=off, so results are bit-identical across runs.
//
// Cost: O(N * neighbours). Cells are half the neighbour radius; each step gathers the boids
// into cell order (structure of arrays) so the five cells of a grid row are one contiguous
// range, and the inner loop is branch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/flock_params.h"

namespace boc::demo {

// xorshift64* — tiny, seedable, good enough for initial positions.
class XorShift64 {
 public:
  explicit XorShift64(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [0, 1).
  float next_unit();

 private:
  std::uint64_t state_;
};

class NativeBoids {
 public:
  // Floats per boid in state(): x, y, vx, vy — the instance buffer layout.
  static constexpr std::size_t kStride = 4;

  NativeBoids() = default;

  // Places `count` boids uniformly inside the world box (inset by the bounds margin) with
  // random headings at a speed between min_speed and max_speed.
  void reset(std::size_t count, std::uint64_t seed, const FlockParams& params);

  // Advances one step of `dt` seconds.
  void step(const FlockParams& params, float dt);

  std::size_t size() const { return count_; }
  // Interleaved x, y, vx, vy per boid (kStride floats each), ready for BoidsRenderer::upload.
  std::span<const float> state() const { return current_; }

 private:
  void build_grid(const FlockParams& params);

  std::size_t count_ = 0;
  std::vector<float> current_;
  std::vector<float> next_;

  // Uniform grid, cells of neighbour_radius / 2 (counting sort): boids of cell c are cell_boids_[cell_start_[c] ..
  // cell_start_[c+1]).
  float cell_size_ = 1.0f;
  int grid_w_ = 0;
  int grid_h_ = 0;
  std::vector<std::uint32_t> cell_of_;
  std::vector<std::uint32_t> cell_start_;
  std::vector<std::uint32_t> cell_boids_;
  std::vector<std::uint32_t> cursor_;  // scratch for the counting sort
  std::vector<float> sorted_;          // x[], y[], vx[], vy[] in cell order (scratch)
};

}  // namespace boc::demo
