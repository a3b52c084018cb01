// Parameters of the boids flock: rule weights, radii, speed limits and the world box.
//
// Plain data shared by the native simulation, the Tuning panel and any simulation driver. The one
// place for the defaults: the Python driver passes every field, gains included, to
// python_scripts/boids.py (python_driver.cpp, params_dict).
// Units: world units (the default world is 1280 x 720, y up) and seconds.
#pragma once

#include <utility>

namespace boc::demo {

struct FlockParams {
  // World box [0, world_w] x [0, world_h]. Boids steer back softly near its edges.
  float world_w = 1280.0f;
  float world_h = 720.0f;

  // Radii (world units). neighbour_radius also sets the spatial grid (cells of half of it).
  float neighbour_radius = 40.0f;   // cohesion and alignment look this far
  float separation_radius = 12.0f;  // separation pushes away inside this distance

  // Rule weights.
  float cohesion = 1.0f;    // acceleration towards the neighbours' centre: cohesion * kCohesionGain * offset
  float alignment = 1.0f;   // acceleration towards the neighbours' mean velocity: alignment * kAlignmentGain * dv
  float separation = 1.0f;  // acceleration away from too-close neighbours: separation * kSeparationGain * sum(offset)

  // Soft bounds: inside `bounds_margin` of an edge, accelerate back with `bounds_turn` (world units / s^2).
  float bounds_margin = 80.0f;
  float bounds_turn = 600.0f;

  // Speed limits (world units / s), applied after every step.
  float min_speed = 80.0f;
  float max_speed = 200.0f;

  // Gains that turn a weight of 1.0 into a pleasant flock at the default speeds.
  static constexpr float kCohesionGain = 2.0f;     // 1 / s^2
  static constexpr float kAlignmentGain = 3.0f;    // 1 / s
  static constexpr float kSeparationGain = 60.0f;  // 1 / s^2
};

// The tunable fields by name (Tuning panel, scenarios' set_knob, the recorder, the Python driver).
inline constexpr std::pair<const char*, float FlockParams::*> kFlockKnobs[] = {
    {"cohesion", &FlockParams::cohesion},
    {"alignment", &FlockParams::alignment},
    {"separation", &FlockParams::separation},
    {"neighbour_radius", &FlockParams::neighbour_radius},
    {"separation_radius", &FlockParams::separation_radius},
    {"min_speed", &FlockParams::min_speed},
    {"max_speed", &FlockParams::max_speed},
    {"bounds_margin", &FlockParams::bounds_margin},
    {"bounds_turn", &FlockParams::bounds_turn},
};

}  // namespace boc::demo
