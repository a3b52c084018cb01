#include "boc/cown.h"

#include <mutex>
#include <thread>
#include <vector>

#include "boc/sharded_counter.h"

namespace boc {
namespace detail {
namespace {
// Shards no live thread holds. Guarded by the mutex, which also orders a
// shard's last write by its old holder before the first by its new one.
struct ShardPool {
  std::mutex mu;
  std::vector<std::size_t> free;
  std::size_t next = 0;
};
ShardPool& shard_pool() {
  static ShardPool* p = new ShardPool();  // never destroyed: threads may exit after main
  return *p;
}

struct ShardReleaser {
  ~ShardReleaser() {
    if (tl_shard.state != 1) return;
    ShardPool& p = shard_pool();
    std::lock_guard lock(p.mu);
    p.free.push_back(tl_shard.index);
    tl_shard = {ShardedCounter::kSharedShard, 2};
  }
};
thread_local ShardReleaser tl_releaser;
}  // namespace

ShardLease shard_lease_slow() noexcept {
  ThreadShard& t = tl_shard;
  if (t.state == 0) {
    t.state = 2;
    t.index = ShardedCounter::kSharedShard;
    ShardPool& p = shard_pool();
    std::lock_guard lock(p.mu);
    if (!p.free.empty()) {
      t.index = p.free.back();
      p.free.pop_back();
      t.state = 1;
    } else if (p.next < ShardedCounter::kSharedShard) {
      t.index = p.next++;
      t.state = 1;
    }
    if (t.state == 1) (void)&tl_releaser;  // odr-use: registers the give-back at thread exit
  }
  if (t.state != 1) return {ShardedCounter::kSharedShard, false};
  return {t.index, true};
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

// Constant-initialised and trivially destructible: cowns may die during exit.
constinit detail::ShardedCounter g_live_cowns;
detail::ShardedCounter& live_cowns() { return g_live_cowns; }
std::atomic<std::size_t> g_live_pinned{0};
}  // namespace

CownBase::CownBase(bool pinned) : pinned_(pinned), id_(next_cown_id()) {
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
