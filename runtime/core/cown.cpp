#include "boc/cown.h"

namespace boc {
namespace {
// Relaxed everywhere below: the id only needs uniqueness and the live
// counters are statistics read by tests after the runtime has quiesced.
std::atomic<std::uint64_t> g_next_cown_id{1};
std::atomic<std::size_t> g_live_cowns{0};
std::atomic<std::size_t> g_live_pinned{0};
}  // namespace

CownBase::CownBase(bool pinned)
    : id_(g_next_cown_id.fetch_add(1, std::memory_order_relaxed)), pinned_(pinned) {
  g_live_cowns.fetch_add(1, std::memory_order_relaxed);
  if (pinned_) {
    // Relaxed: quiesce() only uses this as a hint to start pumping; pinned
    // work itself is found through the pinned queue.
    g_live_pinned.fetch_add(1, std::memory_order_relaxed);
  }
}

CownBase::~CownBase() {
  g_live_cowns.fetch_sub(1, std::memory_order_relaxed);
  if (pinned_) {
    // Relaxed: see the constructor.
    g_live_pinned.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::size_t CownBase::live_count() noexcept {
  // Relaxed: a statistic.
  return g_live_cowns.load(std::memory_order_relaxed);
}

std::size_t CownBase::live_pinned_count() noexcept {
  // Relaxed: a hint (see the constructor).
  return g_live_pinned.load(std::memory_order_relaxed);
}

}  // namespace boc
