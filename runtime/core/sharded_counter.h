// A statistics counter spread over cache lines by thread, so worker threads
// counting on the hot path do not contend on one line. Reads sum the shards
// and are exact once the counting threads are quiet (e.g. after quiesce()).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace boc::detail {

std::size_t shard_index() noexcept;

class ShardedCounter {
 public:
  static constexpr std::size_t kShards = 16;

  void add(std::int64_t n) noexcept {
    // Relaxed: a statistic; readers only need eventual values.
    shards_[shard_index()].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::int64_t sum() const noexcept {
    std::int64_t s = 0;
    // Relaxed: see add().
    for (const auto& shard : shards_) s += shard.value.load(std::memory_order_relaxed);
    return s;
  }

 private:
  struct alignas(64) Shard {
    std::atomic<std::int64_t> value{0};
  };
  std::array<Shard, kShards> shards_{};
};

}  // namespace boc::detail
