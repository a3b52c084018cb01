// The runtime's per-thread pools (boc/pooled.h, runtime/core/small_alloc.cpp):
// pooled blocks never share a cache line, a block made on one thread and
// freed on another comes back intact, whatever its size, and giving slabs
// back to the system never takes a block still in use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "boc/pooled.h"

namespace {

using boc::detail::kPooledMax;
using boc::detail::pooled_alloc;
using boc::detail::pooled_free;
using boc::detail::release_pool_surplus;

constexpr std::size_t kLine = 64;

struct Block {
  unsigned char* p;
  std::size_t size;
};

// A pattern that differs per block and per byte, so a block handed out twice
// or overwritten by a neighbour shows.
unsigned char pattern(std::size_t block, std::size_t i) { return static_cast<unsigned char>(block * 131 + i * 7 + 1); }

std::vector<Block> make_blocks(std::size_t n, std::uint32_t seed, std::size_t first_id) {
  std::mt19937 rng(seed);
  // Every size class, the edges of the pools (1, kPooledMax) and beyond them.
  std::uniform_int_distribution<std::size_t> size_of(1, kPooledMax + 512);
  std::vector<Block> blocks;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t size = k % 7 == 0 ? kPooledMax : size_of(rng);
    auto* p = static_cast<unsigned char*>(pooled_alloc(size));
    for (std::size_t i = 0; i < size; ++i) p[i] = pattern(first_id + k, i);
    blocks.push_back({p, size});
  }
  return blocks;
}

// Checks every byte of every block, then frees them all (on the calling thread).
void check_and_free(const std::vector<Block>& blocks, std::size_t first_id, std::size_t& bad) {
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    for (std::size_t i = 0; i < blocks[k].size; ++i) {
      if (blocks[k].p[i] != pattern(first_id + k, i)) ++bad;
    }
    pooled_free(blocks[k].p, blocks[k].size);
  }
}

TEST(PooledAlloc, PooledBlocksStartOnACacheLineAndNeverShareOne) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer builds bypass the pools (boc/small_alloc.h)";
#else
  std::vector<Block> blocks;
  for (std::size_t size = 1; size <= kPooledMax; size += 37) {
    for (int copies = 0; copies < 3; ++copies) {
      blocks.push_back({static_cast<unsigned char*>(pooled_alloc(size)), size});
    }
  }
  for (const Block& b : blocks) EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.p) % kLine, 0u) << "size " << b.size;
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) { return a.p < b.p; });
  for (std::size_t k = 1; k < blocks.size(); ++k) {
    const std::uintptr_t end_line =
        (reinterpret_cast<std::uintptr_t>(blocks[k - 1].p) + blocks[k - 1].size + kLine - 1) / kLine;
    EXPECT_LE(end_line, reinterpret_cast<std::uintptr_t>(blocks[k].p) / kLine)
        << "a block of " << blocks[k - 1].size << " bytes shares a line with the next one";
  }
  for (const Block& b : blocks) pooled_free(b.p, b.size);
#endif
}

TEST(PooledAlloc, BlocksMadeOnOneThreadAndFreedOnAnotherComeBackIntact) {
#if defined(BOC_SYSTEMATIC)
  GTEST_SKIP() << "plain threads, no scheduling to explore";
#endif
  // Producer/consumer as between two workers: every round one thread makes
  // blocks (reusing what the other freed into the shared depot) and the other
  // checks and frees them; then they swap.
  constexpr std::size_t kBlocks = 600;  // several batches of every class
  constexpr int kRounds = 8;
  std::size_t bad = 0;
  std::vector<Block> in_flight;
  for (int round = 0; round < kRounds; ++round) {
    const std::size_t first_id = static_cast<std::size_t>(round) * kBlocks;
    std::thread maker([&] { in_flight = make_blocks(kBlocks, static_cast<std::uint32_t>(round + 1), first_id); });
    maker.join();
    std::size_t bad_here = 0;
    std::thread freer([&] { check_and_free(in_flight, first_id, bad_here); });
    freer.join();
    bad += bad_here;
    // This thread too: what the exited threads left in the depot is handed out again.
    std::vector<Block> local = make_blocks(kBlocks / 4, static_cast<std::uint32_t>(1000 + round), first_id);
    check_and_free(local, first_id, bad);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(PooledAlloc, ARunThatGivesSlabsBackKeepsEveryBlockStillInUse) {
#if defined(BOC_SYSTEMATIC) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "plain threads; AddressSanitizer builds bypass the pools";
#else
  // Tens of MB of blocks made on one thread; every 50th of the first nine
  // tenths stays in use, the rest is freed on another thread and so lands in
  // the shared depot, well past the size at which a release pass starts. The
  // pass may give back only slabs whose every block is in the depot (here
  // those of the last tenth); a slab given back while one of its blocks was
  // in use would read as zeros there (MADV_DONTNEED).
  constexpr std::size_t kSize = 192;
  constexpr std::size_t kBlocks = 200000;  // ~38 MB
  const auto in_use = [](std::size_t k) { return k < kBlocks / 10 * 9 && k % 50 == 0; };
  std::vector<unsigned char*> blocks(kBlocks);
  std::thread maker([&] {
    for (std::size_t k = 0; k < kBlocks; ++k) {
      blocks[k] = static_cast<unsigned char*>(pooled_alloc(kSize));
      for (std::size_t i = 0; i < kSize; ++i) blocks[k][i] = pattern(k, i);
    }
  });
  maker.join();
  std::thread freer([&] {
    for (std::size_t k = 0; k < kBlocks; ++k) {
      if (!in_use(k)) pooled_free(blocks[k], kSize);
    }
  });
  freer.join();
  release_pool_surplus();
  release_pool_surplus();  // a second pass finds less than a cap's worth more: nothing to do
  std::size_t bad = 0;
  for (std::size_t k = 0; k < kBlocks; ++k) {
    if (!in_use(k)) continue;
    for (std::size_t i = 0; i < kSize; ++i) bad += blocks[k][i] != pattern(k, i) ? 1 : 0;
  }
  EXPECT_EQ(bad, 0u) << "blocks in use changed across a release pass";
  // What was given back or kept is handed out again whole.
  std::vector<Block> again = make_blocks(kBlocks / 20, 7, kBlocks);
  std::size_t bad_again = 0;
  check_and_free(again, kBlocks, bad_again);
  EXPECT_EQ(bad_again, 0u);
  for (std::size_t k = 0; k < kBlocks; ++k) {
    if (in_use(k)) pooled_free(blocks[k], kSize);
  }
#endif
}

TEST(PooledAlloc, PoolAllocatorContainersGrowOnOneThreadAndDieOnAnother) {
#if defined(BOC_SYSTEMATIC)
  GTEST_SKIP() << "plain threads, no scheduling to explore";
#endif
  using Doubles = std::vector<double, boc::detail::PoolAllocator<double>>;
  std::vector<Doubles> made(16);
  std::thread maker([&] {
    for (std::size_t v = 0; v < made.size(); ++v) {
      // Grows through several pooled capacities, then past kPooledMax.
      for (std::size_t i = 0; i < 64 * (v + 1); ++i) made[v].push_back(static_cast<double>(v * 1000 + i));
    }
  });
  maker.join();
  bool intact = true;
  std::thread freer([&] {
    for (std::size_t v = 0; v < made.size(); ++v) {
      for (std::size_t i = 0; i < made[v].size(); ++i)
        intact = intact && made[v][i] == static_cast<double>(v * 1000 + i);
    }
    made.clear();
  });
  freer.join();
  EXPECT_TRUE(intact);
  EXPECT_TRUE(made.empty());
}

}  // namespace
