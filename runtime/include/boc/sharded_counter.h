// A statistics counter spread over cache lines by thread, so worker threads
// counting on the hot path do not contend on one line. Reads sum the shards
// and are exact once the counting threads are quiet (e.g. after quiesce()).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace boc::detail {

/// The calling thread's shard. A thread leases a shard of its own while one
/// is free (then it is the only writer of it, see cown.cpp) and gives it back
/// when it exits; threads beyond that share the last shard.
struct ShardLease {
  std::size_t index;
  bool exclusive;
};
ShardLease shard_lease_slow() noexcept;

// Plain data, so it stays readable after the give-back at thread exit (cown.cpp).
struct ThreadShard {
  std::size_t index = 0;
  unsigned char state = 0;  // 0 none yet, 1 leased, 2 given back (use the shared shard)
};
inline thread_local constinit ThreadShard tl_shard;

inline ShardLease shard_lease() noexcept {
  const ThreadShard& t = tl_shard;
  if (t.state == 1) return {t.index, true};
  return shard_lease_slow();
}

class ShardedCounter {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kSharedShard = kShards - 1;

  void add(std::int64_t n) noexcept {
    const ShardLease lease = shard_lease();
    auto& v = shards_[lease.index].value;
    if (lease.exclusive) {
      // Relaxed load + store: this thread is the shard's only writer while it
      // holds the lease (the lease hand-over is ordered by a mutex), so no
      // read-modify-write is needed.
      v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      // Relaxed: a statistic; the shared shard has several writers.
      v.fetch_add(n, std::memory_order_relaxed);
    }
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
