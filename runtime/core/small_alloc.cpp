// Per-thread pools (magazines) for behaviors and cowns.
//
// Behaviors are allocated on the thread that schedules them and freed on the
// one that completes them, which with two workers is often the other one.
// glibc malloc returns such a block to its home arena under that arena's lock,
// and the profile of the peer_banking benchmark with 2 workers showed that lock
// (futex) and malloc/free taking well over half of the time. Here each thread
// keeps a free list per 16-byte size class and frees into its *own* list,
// whoever allocated the block; lists that grow past two batches hand a batch
// to a global depot (one mutex operation per kBatch objects), and an empty
// list takes a batch from there before carving a new chunk. So memory flows
// from the freeing thread back to the allocating one in batches, and the
// steady state touches no shared cache line at all.
//
// Chunks are never returned to the system: the pools only hold as much as the
// most behaviors and cowns ever alive at once (plus one batch per thread and
// class). Under AddressSanitizer the pools are bypassed (small_alloc.h).
#include "small_alloc.h"

#include "boc/pooled.h"

#include <cstdint>
#include <mutex>
#include <new>

namespace boc::detail {

#if !defined(__SANITIZE_ADDRESS__) && !defined(BOC_PLAIN_ALLOC)

namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGrain; }

// Batches of kBatch objects per class that no thread currently holds.
struct Depot {
  std::mutex mu;
  FreeObject* batches[kClasses] = {};
  // Odd objects given back by threads that already exited.
  FreeObject* loose[kClasses] = {};
};

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
      cc.head = l;
      cc.count = n + 1;
      return;
    }
  }
  const std::size_t bytes = class_bytes(c);
  const std::size_t n = kChunkBytes / bytes;
  auto* chunk = static_cast<unsigned char*>(::operator new(kChunkBytes));
  FreeObject* head = nullptr;
  for (std::size_t i = n; i-- > 0;) {
    auto* o = reinterpret_cast<FreeObject*>(chunk + i * bytes);
    o->next = head;
    head = o;
  }
  cc.head = head;
  cc.count = n;
}

}  // namespace

void* small_alloc_slow(std::size_t size) {
  if (size > kSmallMax || size == 0) return ::operator new(size);
  SmallCache& cache = tl_small_cache;
  const std::size_t c = small_class_of(size);
  if (cache.exited) return ::operator new(class_bytes(c));  // freed into the depot's loose list later
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
}

#endif

void* Pooled::operator new(std::size_t size) { return small_alloc(size); }
void Pooled::operator delete(void* p, std::size_t size) noexcept { small_free(p, size); }

}  // namespace boc::detail
