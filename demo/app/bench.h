// `boids_demo --bench`: frames per second and the per-phase split (pump, step, render) for
// each simulation driver at 500, 2000, 5000 and 10000 boids, headless and without ImGui.
//
// The table code takes a list of driver factories, so the Python-backed driver adds its rows
// next to the native baseline (the physical limit: one core, no runtime) by appending an entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "render/boids_renderer.h"
#include "render/capture.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

struct BenchDriverEntry {
  std::string name;  // row label, e.g. "native" or "python x2"
  std::function<std::unique_ptr<SimulationDriver>()> make;
};

struct BenchConfig {
  std::vector<std::size_t> boid_counts{500, 2000, 5000, 10000};
  std::uint64_t frames = 300;  // measured frames per row
  std::uint64_t warmup = 30;   // frames run before measuring
  std::uint64_t seed = 1;
  FlockParams params;  // world box and rules
  PumpSettings pump;
};

struct BenchRow {
  std::string driver;
  std::size_t boids = 0;
  std::uint64_t frames = 0;
  double fps = 0.0;      // frames / wall time of the measured frames
  double pump_ms = 0.0;  // medians per frame
  double step_ms = 0.0;
  double render_ms = 0.0;  // boids into the FBO, glFinish included
  double frame_ms = 0.0;   // mean
};

// Runs every (driver, boid count) pair: pump -> step -> render (glFinish) per frame, fixed
// dt 1/60. Needs a current GL context; renders into `target`.
std::vector<BenchRow> run_bench(const BenchConfig& config, std::span<const BenchDriverEntry> drivers,
                                BoidsRenderer& renderer, CaptureTarget& target, std::FILE* progress = nullptr);

void print_bench_table(std::FILE* out, std::span<const BenchRow> rows);

}  // namespace boc::demo
