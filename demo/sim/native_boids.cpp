#include "sim/native_boids.h"

#include <algorithm>
#include <cmath>

namespace boc::demo {

namespace {

constexpr float kTwoPi = 6.28318530717958647692f;

// Grid cells are neighbour_radius / kCellsPerRadius wide, so every neighbour lies within
// kCellsPerRadius cells in x and y. Half-radius cells scan a 2.5r x 2.5r area instead of
// 3r x 3r: about 30 % fewer candidates than radius-sized cells.
constexpr int kCellsPerRadius = 2;

// Clamps v's length into [lo, hi]; a zero vector becomes (lo, 0).
void clamp_speed(float& vx, float& vy, float lo, float hi) {
  const float speed = std::sqrt(vx * vx + vy * vy);
  if (speed <= 1e-6f) {
    vx = lo;
    vy = 0.0f;
    return;
  }
  if (speed > hi) {
    const float s = hi / speed;
    vx *= s;
    vy *= s;
  } else if (speed < lo) {
    const float s = lo / speed;
    vx *= s;
    vy *= s;
  }
}

// Acceleration pushing a coordinate back inside [0, extent] once it is within `margin` of
// an edge; grows linearly from 0 at the margin to `turn` at the edge and beyond.
float soft_bound(float p, float extent, float margin, float turn) {
  if (margin <= 0.0f) {
    return p < 0.0f ? turn : (p > extent ? -turn : 0.0f);
  }
  if (p < margin) {
    return turn * std::min(1.0f, (margin - p) / margin);
  }
  if (p > extent - margin) {
    return -turn * std::min(1.0f, (p - (extent - margin)) / margin);
  }
  return 0.0f;
}

}  // namespace

XorShift64::XorShift64(std::uint64_t seed)
    // A zero state would stay zero forever; mix the --seed value so 0, 1, 2 ... all differ well.
    : state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
  if (state_ == 0) {
    state_ = 0x2545F4914F6CDD1Dull;
  }
}

std::uint64_t XorShift64::next_u64() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545F4914F6CDD1Dull;
}

float XorShift64::next_unit() {
  // Top 24 bits -> exact float in [0, 1).
  return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f);
}

void NativeBoids::reset(std::size_t count, std::uint64_t seed, const FlockParams& params) {
  count_ = count;
  current_.assign(count * kStride, 0.0f);
  next_.assign(count * kStride, 0.0f);
  XorShift64 rng(seed);
  const float inset_x = std::min(params.bounds_margin, params.world_w * 0.25f);
  const float inset_y = std::min(params.bounds_margin, params.world_h * 0.25f);
  for (std::size_t i = 0; i < count; ++i) {
    float* b = &current_[i * kStride];
    b[0] = inset_x + rng.next_unit() * (params.world_w - 2.0f * inset_x);
    b[1] = inset_y + rng.next_unit() * (params.world_h - 2.0f * inset_y);
    const float angle = rng.next_unit() * kTwoPi;
    const float speed = params.min_speed + rng.next_unit() * (params.max_speed - params.min_speed);
    b[2] = std::cos(angle) * speed;
    b[3] = std::sin(angle) * speed;
  }
}

void NativeBoids::build_grid(const FlockParams& params) {
  cell_size_ = std::max(params.neighbour_radius / static_cast<float>(kCellsPerRadius), 1.0f);
  grid_w_ = std::max(1, static_cast<int>(std::ceil(params.world_w / cell_size_)));
  grid_h_ = std::max(1, static_cast<int>(std::ceil(params.world_h / cell_size_)));
  const std::size_t cells = static_cast<std::size_t>(grid_w_) * static_cast<std::size_t>(grid_h_);

  cell_of_.resize(count_);
  cell_start_.assign(cells + 1, 0);
  cell_boids_.resize(count_);

  // Boids outside the box (soft bounds allow an overshoot) are binned into the edge cells.
  for (std::size_t i = 0; i < count_; ++i) {
    const float* b = &current_[i * kStride];
    const int cx = std::clamp(static_cast<int>(std::floor(b[0] / cell_size_)), 0, grid_w_ - 1);
    const int cy = std::clamp(static_cast<int>(std::floor(b[1] / cell_size_)), 0, grid_h_ - 1);
    const auto cell = static_cast<std::uint32_t>(cy * grid_w_ + cx);
    cell_of_[i] = cell;
    ++cell_start_[cell + 1];
  }
  for (std::size_t c = 0; c < cells; ++c) {
    cell_start_[c + 1] += cell_start_[c];
  }
  // Stable fill: boids of one cell keep index order.
  cursor_.assign(cell_start_.begin(), cell_start_.end() - 1);
  for (std::size_t i = 0; i < count_; ++i) {
    cell_boids_[cursor_[cell_of_[i]]++] = static_cast<std::uint32_t>(i);
  }
}

void NativeBoids::step(const FlockParams& params, float dt) {
  if (count_ == 0) {
    return;
  }
  build_grid(params);

  // Gather the state into cell order (structure of arrays): the 2 * kCellsPerRadius + 1
  // cells of one grid row are then one contiguous range, scanned without indirection.
  sorted_.resize(count_ * kStride);
  float* sx = sorted_.data();
  float* sy = sx + count_;
  float* svx = sy + count_;
  float* svy = svx + count_;
  for (std::size_t k = 0; k < count_; ++k) {
    const float* b = &current_[static_cast<std::size_t>(cell_boids_[k]) * kStride];
    sx[k] = b[0];
    sy[k] = b[1];
    svx[k] = b[2];
    svy[k] = b[3];
  }

  const float r2 = params.neighbour_radius * params.neighbour_radius;
  const float sep2 = params.separation_radius * params.separation_radius;
  const float k_coh = params.cohesion * FlockParams::kCohesionGain;
  const float k_ali = params.alignment * FlockParams::kAlignmentGain;
  const float k_sep = params.separation * FlockParams::kSeparationGain;
  const float lo = std::min(params.min_speed, params.max_speed);
  const float hi = std::max(params.min_speed, params.max_speed);

  for (std::size_t k = 0; k < count_; ++k) {
    const std::size_t i = cell_boids_[k];
    const float px = sx[k];
    const float py = sy[k];
    const float vx = svx[k];
    const float vy = svy[k];
    const int cell = static_cast<int>(cell_of_[i]);
    const int cx = cell % grid_w_;
    const int cy = cell / grid_w_;
    const int gx0 = std::max(cx - kCellsPerRadius, 0);
    const int gx1 = std::min(cx + kCellsPerRadius, grid_w_ - 1);

    float sum_px = 0.0f, sum_py = 0.0f, sum_vx = 0.0f, sum_vy = 0.0f;
    float sep_x = 0.0f, sep_y = 0.0f;
    float neighbours = 0.0f;
    for (int gy = std::max(cy - kCellsPerRadius, 0); gy <= std::min(cy + kCellsPerRadius, grid_h_ - 1); ++gy) {
      const std::size_t first = cell_start_[static_cast<std::size_t>(gy * grid_w_ + gx0)];
      const std::size_t last = cell_start_[static_cast<std::size_t>(gy * grid_w_ + gx1) + 1];
      for (std::size_t m = first; m < last; ++m) {
        const float dx = sx[m] - px;
        const float dy = sy[m] - py;
        const float d2 = dx * dx + dy * dy;
        // Branch-free: about half of the candidates are neighbours, which a branch
        // would mispredict. The boid itself (m == k) is masked out.
        const float near = (d2 < r2 && m != k) ? 1.0f : 0.0f;
        const float close = (d2 < sep2 && m != k) ? 1.0f : 0.0f;
        neighbours += near;
        sum_px += near * sx[m];
        sum_py += near * sy[m];
        sum_vx += near * svx[m];
        sum_vy += near * svy[m];
        sep_x -= close * dx;
        sep_y -= close * dy;
      }
    }

    float ax = k_sep * sep_x;
    float ay = k_sep * sep_y;
    if (neighbours > 0.0f) {
      const float inv = 1.0f / neighbours;
      ax += k_coh * (sum_px * inv - px) + k_ali * (sum_vx * inv - vx);
      ay += k_coh * (sum_py * inv - py) + k_ali * (sum_vy * inv - vy);
    }
    ax += soft_bound(px, params.world_w, params.bounds_margin, params.bounds_turn);
    ay += soft_bound(py, params.world_h, params.bounds_margin, params.bounds_turn);

    float nvx = vx + ax * dt;
    float nvy = vy + ay * dt;
    clamp_speed(nvx, nvy, lo, hi);
    float* out = &next_[i * kStride];
    out[0] = px + nvx * dt;
    out[1] = py + nvy * dt;
    out[2] = nvx;
    out[3] = nvy;
  }
  current_.swap(next_);
}

}  // namespace boc::demo
