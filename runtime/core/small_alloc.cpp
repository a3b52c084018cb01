// Per-thread pools (magazines) for behaviors, cowns and Matrix buffers.
//
// Behaviors are allocated on the thread that schedules them and freed on the
// one that completes them, which with two workers is often the other one.
// glibc malloc returns such a block to its home arena under that arena's lock,
// and the profile of the peer_banking benchmark with 2 workers showed that lock
// (futex) and malloc/free taking well over half of the time. Here each thread
// keeps a free list per 16-byte size class and frees into its *own* list,
// whoever allocated the block; lists that grow past two batches hand a batch
// to a global depot (one mutex operation per kBatch objects), and an empty
// list takes a batch from there before asking malloc for a new one. So memory
// flows from the freeing thread back to the allocating one in batches, and
// the steady state touches no shared cache line at all.
//
// A worker about to park, once the depot holds more than kReleaseAboveBytes,
// gives what it holds beyond kDepotCapBytes back to malloc, and malloc_trim hands the pages to the system
// (release_pool_surplus). So a backlog (the demo's per-item anti-pattern
// queues 200,000 pinned behaviors) costs memory while it lasts, not for the
// rest of the run, and the free path itself never frees to malloc.
// Under AddressSanitizer the pools are bypassed (boc/small_alloc.h).
#include "boc/small_alloc.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace boc::detail {

#if !defined(__SANITIZE_ADDRESS__) && !defined(BOC_PLAIN_ALLOC)

namespace {

// What the depot keeps for reuse when a worker parks.
constexpr std::size_t kDepotCapBytes = 8 << 20;
// The release starts only this far above the cap, so a workload whose depot
// hovers around the cap does not pay a malloc_trim at every park.
constexpr std::size_t kReleaseAboveBytes = 2 * kDepotCapBytes;

std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGrain; }

// Every pooled object comes from here and goes back through free_object, so
// it starts on a cache line (see kGrain).
void* new_object(std::size_t c) { return ::operator new (class_bytes(c), std::align_val_t{kGrain}); }
void free_object(void* o, std::size_t c) noexcept { ::operator delete (o, class_bytes(c), std::align_val_t{kGrain}); }

// Batches of kBatch objects per class that no thread currently holds.
struct Depot {
  std::mutex mu;
  FreeObject* batches[kClasses] = {};
  // Odd objects given back by threads that already exited.
  FreeObject* loose[kClasses] = {};
  // In batches and loose, all classes; written under mu. Relaxed everywhere:
  // the unlocked read in release_pool_surplus is a hint, re-read under mu.
  std::atomic<std::size_t> held_bytes{0};
};

void add_held(Depot& d, std::ptrdiff_t bytes) noexcept {
  // Relaxed: written under d.mu only (see held_bytes).
  d.held_bytes.store(d.held_bytes.load(std::memory_order_relaxed) + static_cast<std::size_t>(bytes),
                     std::memory_order_relaxed);
}

Depot& depot() {
  static Depot* d = new Depot();  // never destroyed: cowns may be freed during exit
  return *d;
}

void give_back_all(SmallCache& cache) noexcept;

// Hands the thread's objects to the depot when the thread ends.
struct Flusher {
  ~Flusher() {
    give_back_all(tl_small_cache);
    tl_small_cache.exited = true;
  }
};
thread_local Flusher tl_flusher;

void give_back_all(SmallCache& cache) noexcept {
  Depot& d = depot();
  std::lock_guard lock(d.mu);
  for (std::size_t c = 0; c < kClasses; ++c) {
    FreeObject* o = cache.classes[c].head;
    while (o != nullptr) {
      FreeObject* next = o->next;
      o->next = d.loose[c];
      d.loose[c] = o;
      add_held(d, static_cast<std::ptrdiff_t>(class_bytes(c)));
      o = next;
    }
    cache.classes[c] = {};
  }
}

// Refills an empty class list: a depot batch, loose objects, or a new chunk.
void refill(SmallCache& cache, std::size_t c) {
  if (!cache.registered) {
    cache.registered = true;
    (void)&tl_flusher;  // odr-use: registers the thread-exit flush
  }
  ClassCache& cc = cache.classes[c];
  {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    if (FreeObject* b = d.batches[c]) {
      d.batches[c] = b->next_batch;
      add_held(d, -static_cast<std::ptrdiff_t>(kBatch * class_bytes(c)));
      cc.head = b;
      cc.count = kBatch;
      return;
    }
    if (FreeObject* l = d.loose[c]) {
      std::size_t n = 0;
      FreeObject* tail = l;
      while (n + 1 < kBatch && tail->next != nullptr) {
        tail = tail->next;
        ++n;
      }
      d.loose[c] = tail->next;
      tail->next = nullptr;
      add_held(d, -static_cast<std::ptrdiff_t>((n + 1) * class_bytes(c)));
      cc.head = l;
      cc.count = n + 1;
      return;
    }
  }
  // One malloc per object (not one chunk carved up), so that each can go
  // back to malloc on its own when the depot is full.
  FreeObject* head = nullptr;
  for (std::size_t i = 0; i < kBatch; ++i) {
    auto* o = static_cast<FreeObject*>(new_object(c));
    o->next = head;
    head = o;
  }
  cc.head = head;
  cc.count = kBatch;
}

}  // namespace

void* small_alloc_slow(std::size_t size) {
  if (size > kSmallMax || size == 0) return ::operator new(size);
  SmallCache& cache = tl_small_cache;
  const std::size_t c = small_class_of(size);
  if (cache.exited) return new_object(c);  // freed into the depot's loose list later
  ClassCache& cc = cache.classes[c];
  if (cc.head == nullptr) refill(cache, c);
  FreeObject* o = cc.head;
  cc.head = o->next;
  --cc.count;
  return o;
}

void small_free_slow(void* p, std::size_t size) noexcept {
  if (size > kSmallMax || size == 0) {
    ::operator delete(p, size);
    return;
  }
  const std::size_t c = small_class_of(size);
  auto* o = static_cast<FreeObject*>(p);
  SmallCache& cache = tl_small_cache;
  if (cache.exited) {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    o->next = d.loose[c];
    d.loose[c] = o;
    add_held(d, static_cast<std::ptrdiff_t>(class_bytes(c)));
    return;
  }
  ClassCache& cc = cache.classes[c];
  o->next = cc.head;
  cc.head = o;
  ++cc.count;
  // Keep one batch, give the one beyond it to the depot.
  FreeObject* cut = cc.head;
  for (std::size_t i = 1; i < kBatch; ++i) cut = cut->next;
  FreeObject* batch = cc.head;
  cc.head = cut->next;
  cut->next = nullptr;
  cc.count -= kBatch;
  Depot& d = depot();
  std::lock_guard lock(d.mu);
  batch->next_batch = d.batches[c];
  d.batches[c] = batch;
  add_held(d, static_cast<std::ptrdiff_t>(kBatch * class_bytes(c)));
}

void release_pool_surplus() noexcept {
  Depot& d = depot();
  // Relaxed: a hint; a stale value only delays the release to the next park.
  if (d.held_bytes.load(std::memory_order_relaxed) <= kReleaseAboveBytes) return;
  // Whole batches (chained through next_batch) and loose objects (through
  // next), per class. Only unlinked under the lock: walking cold lists there
  // stalled every worker whose free or refill needed the depot (peer_banking
  // at 2 workers parked into a 50 MB depot).
  FreeObject* batches[kClasses] = {};
  FreeObject* loose[kClasses] = {};
  {
    std::lock_guard lock(d.mu);
    for (std::size_t c = kClasses; c-- > 0 && d.held_bytes.load(std::memory_order_relaxed) > kDepotCapBytes;) {
      // Batches first, then the loose objects of exited threads.
      while (FreeObject* b = d.batches[c]) {
        d.batches[c] = b->next_batch;
        b->next_batch = batches[c];
        batches[c] = b;
        add_held(d, -static_cast<std::ptrdiff_t>(kBatch * class_bytes(c)));
        if (d.held_bytes.load(std::memory_order_relaxed) <= kDepotCapBytes) break;
      }
      while (FreeObject* o = d.loose[c]) {
        if (d.held_bytes.load(std::memory_order_relaxed) <= kDepotCapBytes) break;
        d.loose[c] = o->next;
        o->next = loose[c];
        loose[c] = o;
        add_held(d, -static_cast<std::ptrdiff_t>(class_bytes(c)));
      }
    }
  }
  // Outside the lock: the frees and the trim take malloc's own locks.
  bool released = false;
  const auto free_list = [&released](FreeObject* o, std::size_t c) noexcept {
    while (o != nullptr) {
      FreeObject* next = o->next;
      free_object(o, c);
      o = next;
      released = true;
    }
  };
  for (std::size_t c = 0; c < kClasses; ++c) {
    for (FreeObject* b = batches[c]; b != nullptr;) {
      FreeObject* next_batch = b->next_batch;
      free_list(b, c);
      b = next_batch;
    }
    free_list(loose[c], c);
  }
#if defined(__GLIBC__)
  if (released) malloc_trim(0);  // another parking worker may have released it all first
#endif
}

#endif

}  // namespace boc::detail
