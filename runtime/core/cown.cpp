#include "boc/cown.h"

#include <thread>

#include "sharded_counter.h"

namespace boc {
namespace detail {
std::size_t shard_index() noexcept {
  // Relaxed: uniqueness of the per-thread index only matters for spreading.
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed) % ShardedCounter::kShards;
  return index;
}
}  // namespace detail

namespace {
// Relaxed: ids only need uniqueness; each thread takes a block at a time so
// creating cowns on several workers does not contend on one cache line.
std::atomic<std::uint64_t> g_next_id_block{1};
constexpr std::uint64_t kIdBlock = 1024;

std::uint64_t next_cown_id() noexcept {
  thread_local std::uint64_t next = 0;
  thread_local std::uint64_t end = 0;
  if (next == end) {
    next = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
    end = next + kIdBlock;
  }
  return next++;
}

detail::ShardedCounter& live_cowns() {
  static detail::ShardedCounter* c = new detail::ShardedCounter();  // never destroyed: cowns may die at exit
  return *c;
}
std::atomic<std::size_t> g_live_pinned{0};
}  // namespace

CownBase::CownBase(bool pinned) : id_(next_cown_id()), pinned_(pinned) {
  live_cowns().add(1);
  if (pinned_) {
    // Relaxed: quiesce() only uses this as a hint to start pumping; pinned
    // work itself is found through the pinned queue.
    g_live_pinned.fetch_add(1, std::memory_order_relaxed);
  }
}

CownBase::~CownBase() {
  live_cowns().add(-1);
  if (pinned_) {
    // Relaxed: see the constructor.
    g_live_pinned.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::size_t CownBase::live_count() noexcept { return static_cast<std::size_t>(live_cowns().sum()); }

std::size_t CownBase::live_pinned_count() noexcept {
  // Relaxed: a hint (see the constructor).
  return g_live_pinned.load(std::memory_order_relaxed);
}

}  // namespace boc
