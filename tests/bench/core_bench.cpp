// Core runtime benchmarks (Google Benchmark). Run:
//   build/release/tests/bench/core_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <random>
#include <vector>

#include "boc/boc.h"

namespace boc {
namespace {

// Empty behaviors over 1 or 3 random cowns of 64, scheduled from one thread.
void BM_EmptyBehaviors(benchmark::State& state) {
  RuntimeOptions o;
  o.worker_count = static_cast<std::size_t>(state.range(0));
  const int per_behavior = static_cast<int>(state.range(1));
  Runtime rt(o);
  std::vector<CownPtr<int>> cowns;
  for (int i = 0; i < 64; ++i) cowns.push_back(make_cown<int>(0));
  std::mt19937 rng(1);
  constexpr int kBatch = 20000;
  for (auto _ : state) {
    for (int n = 0; n < kBatch; ++n) {
      if (per_behavior == 1) {
        when(cowns[rng() % 64], [](int&) {});
      } else {
        when(cowns[rng() % 64], cowns[rng() % 64], cowns[rng() % 64], [](int&, int&, int&) {});
      }
    }
    rt.quiesce();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_EmptyBehaviors)
    ->ArgsProduct({{1, 2}, {1, 3}})
    ->ArgNames({"workers", "cowns"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Chain-ring: chains walk a ring of cowns; each behavior holds two adjacent
// ring cowns and schedules its successor from the worker.
struct Ring {
  std::vector<CownPtr<long>> cowns;
  std::atomic<long> remaining{0};
};

void step(Ring* ring, std::size_t pos) {
  const std::size_t n = ring->cowns.size();
  when(ring->cowns[pos], ring->cowns[(pos + 1) % n], [ring, pos, n](long& a, long& b) {
    ++a;
    ++b;
    // Relaxed: only counts down the benchmark's budget.
    if (ring->remaining.fetch_sub(1, std::memory_order_relaxed) > 1) step(ring, (pos + 1) % n);
  });
}

void BM_ChainRing(benchmark::State& state) {
  RuntimeOptions o;
  o.worker_count = static_cast<std::size_t>(state.range(0));
  Runtime rt(o);
  Ring ring;
  for (int i = 0; i < 128; ++i) ring.cowns.push_back(make_cown<long>(0));
  constexpr long kBehaviors = 200000;
  constexpr int kChains = 8;
  for (auto _ : state) {
    ring.remaining = kBehaviors;
    for (int c = 0; c < kChains; ++c) step(&ring, static_cast<std::size_t>(c) * 16);
    rt.quiesce();
  }
  state.SetItemsProcessed(state.iterations() * (kBehaviors + kChains));
}
BENCHMARK(BM_ChainRing)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

// Pinned drain: cost per behavior of pump() draining runnable pinned behaviors.
void BM_PinnedDrain(benchmark::State& state) {
  RuntimeOptions o;
  o.worker_count = 1;
  Runtime rt(o);
  constexpr int kQueued = 1000;
  std::vector<CownPtr<int>> pins;
  for (int i = 0; i < kQueued; ++i) pins.push_back(make_pinned_cown<int>(0));
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& p : pins) when(p, [](int& v) { ++v; });
    while (rt.pinned_depth() < kQueued) {
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(rt.pump());
  }
  state.SetItemsProcessed(state.iterations() * kQueued);
}
BENCHMARK(BM_PinnedDrain)->UseRealTime();

// An empty pump(): the per-frame cost of a main loop with nothing pinned.
void BM_EmptyPump(benchmark::State& state) {
  RuntimeOptions o;
  o.worker_count = 1;
  Runtime rt(o);
  for (auto _ : state) benchmark::DoNotOptimize(rt.pump());
}
BENCHMARK(BM_EmptyPump);

}  // namespace
}  // namespace boc

BENCHMARK_MAIN();
