// Our port of verona-rt's test/perf/schedule workload onto boc::when, written
// from its description, with the same arguments:
//   --cores N   workers
//   --cowns K   2^K cowns
//   --loops N   behaviors each cown schedules on itself, one after another
//   --writes N  random writes into a shared array per behavior (default 0)
//   --size K    that array has 2^K cells
// Twenty rounds, each with a fresh runtime, as the peer does. Prints the wall
// time and behaviors per second; compare_peers.sh times the whole process.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "boc/boc.h"
#include "peer_args.h"

namespace {

// calloc'd: zero pages the kernel maps only when touched, so with --writes 0
// (the default) the array costs nothing, as the peer's uninitialised one.
std::size_t* g_array = nullptr;
std::size_t g_array_size = 0;
std::size_t g_writes = 0;

struct Loop {
  std::size_t count;
  bench::Rng rng;
};

void work(Loop& s) {
  for (std::size_t i = 0; i < g_writes; ++i) {
    std::atomic_ref<std::size_t> cell(g_array[s.rng.next() & (g_array_size - 1)]);
    // Acquire/release as in the workload: each cell is a shared counter.
    const std::size_t x = cell.load(std::memory_order_acquire);
    cell.store(x + 7, std::memory_order_release);
  }
}

// The running behavior holds the cown (its queue holds the reference), so
// the raw pointer is borrowed, as the peer's schedule_lambda(this, ...).
void go(boc::Cown<Loop>* c) {
  Loop& s = c->value();
  if (s.count == 0) return;
  --s.count;
  boc::when_detached(c, [c](Loop& v) {
    work(v);
    go(c);
  });
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  const std::size_t cores = args.get("--cores", 4);
  const std::size_t cowns = std::size_t{1} << args.get("--cowns", 8);
  g_array_size = std::size_t{1} << args.get("--size", 22);
  const std::size_t loops = args.get("--loops", 100);
  g_writes = args.get("--writes", 0);
  g_array = static_cast<std::size_t*>(std::calloc(g_array_size, sizeof(std::size_t)));
  if (g_array == nullptr) return 1;

  const auto t0 = std::chrono::steady_clock::now();
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    boc::RuntimeOptions o;
    o.worker_count = cores;
    boc::Runtime rt(o);
    for (std::size_t i = 0; i < cowns; ++i) {
      auto c = boc::make_cown<Loop>(Loop{loops, bench::Rng(i + 200)});
      // The first step runs as a behavior too, so the count is read under the cown.
      boc::when_detached(c, [p = c.get()](Loop&) { go(p); });
    }
    rt.quiesce();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::free(g_array);
  std::printf("schedule cores=%zu cowns=%zu loops=%zu time=%.3fs behaviors_per_s=%.0f\n", cores, cowns, loops, s,
              static_cast<double>(kRounds) * static_cast<double>(cowns * loops) / s);
  return 0;
}
