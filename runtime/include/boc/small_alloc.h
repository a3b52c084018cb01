// Per-thread pools for the runtime's small, short-lived objects (behaviors,
// cowns, parcels, Matrix buffers; see runtime/core/small_alloc.cpp for why not
// malloc). The common paths are inline, here, so that a behavior's allocation
// and free cost no call; use them through boc/pooled.h.
#pragma once

#include <cstddef>
#include <new>

namespace boc::detail {

/// The largest size served from the pools (a 16 x 32 Matrix buffer).
inline constexpr std::size_t kSmallMax = 4096;

#if defined(__SANITIZE_ADDRESS__) || defined(BOC_PLAIN_ALLOC)

// Under AddressSanitizer the pools are bypassed so ASan sees every use after
// free; BOC_PLAIN_ALLOC does the same (to compare allocators).
inline void* small_alloc(std::size_t size) { return ::operator new(size); }
inline void small_free(void* p, std::size_t size) noexcept { ::operator delete(p, size); }
inline bool pool_surplus_pending() noexcept { return false; }
inline void release_pool_surplus() noexcept {}

#else

struct FreeObject {
  FreeObject* next;        // within a list or batch
  FreeObject* next_batch;  // in the depot, only on a batch's first object
};

// Classes are whole cache lines and objects start on one: two objects never
// share a line, so a behavior or cown used on one worker does not slow down
// its neighbour in memory used on another (false sharing). peer_schedule with
// 2 workers spent twice the CPU time of 1 worker with 16-byte classes.
inline constexpr std::size_t kGrain = 64;
inline constexpr std::size_t kClasses = kSmallMax / kGrain;
inline constexpr std::size_t kBatch = 64;

struct ClassCache {
  FreeObject* head = nullptr;
  std::size_t count = 0;
};

// Plain data with a constant initializer, so access needs no guard and it stays
// usable after the thread-exit flush (small_alloc.cpp) ran.
struct SmallCache {
  ClassCache classes[kClasses];
  bool exited = false;
  bool registered = false;
};
inline thread_local constinit SmallCache tl_small_cache;

inline std::size_t small_class_of(std::size_t size) noexcept { return (size + kGrain - 1) / kGrain - 1; }

void* small_alloc_slow(std::size_t size);

/// Whether the shared depot holds enough beyond its cap for
/// release_pool_surplus to look at (one relaxed load).
bool pool_surplus_pending() noexcept;
/// Gives the pages of what the shared depot holds beyond its cap back to the
/// system. Cheap when there is nothing to give; a parking worker calls it once
/// every worker has been idle for a while (runtime/core/worker_pool.cpp).
void release_pool_surplus() noexcept;
void small_free_slow(void* p, std::size_t size) noexcept;

/// Memory for `size` bytes, aligned to kGrain (a cache line). Sizes above kSmallMax go to
/// ::operator new.
inline void* small_alloc(std::size_t size) {
  if (size - 1 < kSmallMax) {
    ClassCache& cc = tl_small_cache.classes[small_class_of(size)];
    if (FreeObject* o = cc.head) {
      cc.head = o->next;
      --cc.count;
      return o;
    }
  }
  return small_alloc_slow(size);
}

/// Returns memory from small_alloc with the same size, from any thread.
inline void small_free(void* p, std::size_t size) noexcept {
  if (size - 1 < kSmallMax && !tl_small_cache.exited) {
    ClassCache& cc = tl_small_cache.classes[small_class_of(size)];
    if (cc.count + 1 < 2 * kBatch) {
      auto* o = static_cast<FreeObject*>(p);
      o->next = cc.head;
      cc.head = o;
      ++cc.count;
      return;
    }
  }
  small_free_slow(p, size);
}

#endif

}  // namespace boc::detail
