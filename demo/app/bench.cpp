#include "app/bench.h"

#include <algorithm>
#include <chrono>

#include "app/frame_loop.h"

namespace boc::demo {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

BenchRow bench_one(const BenchConfig& config, const BenchDriverEntry& entry, std::size_t boids, BoidsRenderer& renderer,
                   CaptureTarget& target) {
  std::unique_ptr<SimulationDriver> driver = entry.make();
  driver->attach_sink(&renderer);
  driver->configure_watchdog(WatchdogSettings{false, 0.0});
  driver->reset(FlockSetup{boids, config.seed, config.params});

  std::vector<double> pump_ms;
  std::vector<double> step_ms;
  std::vector<double> render_ms;
  pump_ms.reserve(config.frames);
  step_ms.reserve(config.frames);
  render_ms.reserve(config.frames);
  const StepRequest request{config.params, kFixedDt, DispatchMode::kCoarse};

  Clock::time_point measured_start;
  for (std::uint64_t f = 0; f < config.warmup + config.frames; ++f) {
    if (f == config.warmup) measured_start = Clock::now();
    const Clock::time_point t0 = Clock::now();
    driver->pump(config.pump);
    const Clock::time_point t1 = Clock::now();
    driver->step(request);
    const Clock::time_point t2 = Clock::now();
    target.bind();
    render_scene(renderer, config.params);
    glFinish();  // count the GPU (llvmpipe) work in this frame
    const Clock::time_point t3 = Clock::now();
    if (f >= config.warmup) {
      pump_ms.push_back(ms_between(t0, t1));
      step_ms.push_back(ms_between(t1, t2));
      render_ms.push_back(ms_between(t2, t3));
    }
  }
  const double total_ms = ms_between(measured_start, Clock::now());
  driver->shutdown();
  driver->attach_sink(nullptr);

  BenchRow row;
  row.driver = entry.name;
  row.boids = boids;
  row.frames = config.frames;
  row.frame_ms = config.frames > 0 ? total_ms / static_cast<double>(config.frames) : 0.0;
  row.fps = total_ms > 0.0 ? 1000.0 * static_cast<double>(config.frames) / total_ms : 0.0;
  row.pump_ms = median(std::move(pump_ms));
  row.step_ms = median(std::move(step_ms));
  row.render_ms = median(std::move(render_ms));
  return row;
}

}  // namespace

std::vector<BenchRow> run_bench(const BenchConfig& config, std::span<const BenchDriverEntry> drivers,
                                BoidsRenderer& renderer, CaptureTarget& target, std::FILE* progress) {
  std::vector<BenchRow> rows;
  for (const BenchDriverEntry& entry : drivers) {
    for (const std::size_t boids : config.boid_counts) {
      if (progress != nullptr) {
        std::fprintf(progress, "bench: %s, %zu boids ...\n", entry.name.c_str(), boids);
        std::fflush(progress);
      }
      rows.push_back(bench_one(config, entry, boids, renderer, target));
    }
  }
  return rows;
}

void print_bench_table(std::FILE* out, std::span<const BenchRow> rows) {
  // The baseline is the first driver's row for the same boid count (the native one).
  auto baseline_fps = [&rows](std::size_t boids) -> double {
    for (const BenchRow& r : rows) {
      if (r.driver == rows.front().driver && r.boids == boids) return r.fps;
    }
    return 0.0;
  };
  std::fprintf(out, "| driver       |  boids | frames/s | vs %-6s | frame ms | pump ms | step ms | render ms |\n",
               rows.empty() ? "first" : rows.front().driver.substr(0, 6).c_str());
  std::fprintf(out, "|--------------|-------:|---------:|----------:|---------:|--------:|--------:|----------:|\n");
  for (const BenchRow& r : rows) {
    const double base = baseline_fps(r.boids);
    std::fprintf(out, "| %-12s | %6zu | %8.1f | %8.2fx | %8.3f | %7.3f | %7.3f | %9.3f |\n", r.driver.c_str(), r.boids,
                 r.fps, base > 0.0 ? r.fps / base : 0.0, r.frame_ms, r.pump_ms, r.step_ms, r.render_ms);
  }
  std::fprintf(out,
               "(pump/step/render: medians per frame; frames/s and frame ms: wall time of %llu frames, "
               "fixed dt 1/60, no ImGui; vs: frames/s relative to the first driver at the same boid count)\n",
               rows.empty() ? 0ull : static_cast<unsigned long long>(rows.front().frames));
}

}  // namespace boc::demo
