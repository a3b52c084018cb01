// Per-thread pools (magazines) for behaviors, cowns and Matrix buffers.
//
// Behaviors are allocated on the thread that schedules them and freed on the
// one that completes them, which with two workers is often the other one.
// glibc malloc returns such a block to its home arena under that arena's lock,
// and the profile of the peer_banking benchmark with 2 workers showed that lock
// (futex) and malloc/free taking well over half of the time. Here each thread
// keeps a free list per 64-byte size class and frees into its *own* list,
// whoever allocated the block; lists that grow past two batches hand a batch
// to a global depot (one mutex operation per kBatch objects), and an empty
// list takes a batch from there before carving new ones. So memory flows from
// the freeing thread back to the allocating one in batches, and the steady
// state touches no shared cache line at all.
//
// New objects are carved from slabs of kSlabBytes, aligned to their size so
// that an object finds its slab's header by masking its address, and slabs
// from regions mapped with mmap. They came from one aligned operator new per
// object before: with peer_banking's backlog at 2 workers (170 MB of queued
// behaviors) a third of the time went to glibc's _int_memalign and to growing
// a thread arena one mprotect at a time, and a line-aligned 64-byte object
// took 128 bytes of the arena.
//
// Once every worker has been idle for a while (runtime/core/worker_pool.cpp)
// and the depot holds more than kReleaseAboveBytes, a parking worker counts
// per slab how many of its objects the depot holds; slabs wholly in
// the depot go back to the system (MADV_DONTNEED) until the depot is down to
// kDepotCapBytes, and their addresses are carved again first. So a backlog
// (the demo's per-item anti-pattern queues 200,000 pinned behaviors) costs
// memory while it lasts, not for the rest of the run, and neither the free
// path nor the refill path ever calls malloc.
// Under AddressSanitizer the pools are bypassed (boc/small_alloc.h).
#include "boc/small_alloc.h"

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace boc::detail {

#if !defined(__SANITIZE_ADDRESS__) && !defined(BOC_PLAIN_ALLOC)

namespace {

// What the depot keeps for reuse when a worker parks.
constexpr std::size_t kDepotCapBytes = 8 << 20;
// The release starts only this far above the cap (and above what the last
// release could not give back), so a workload whose depot hovers around the
// cap does not pay a release pass at every park.
constexpr std::size_t kReleaseAboveBytes = 2 * kDepotCapBytes;
// 1023 objects of the smallest class, 15 of the largest (kSmallMax).
constexpr std::size_t kSlabBytes = 64 << 10;
constexpr std::size_t kRegionBytes = 4 << 20;

std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGrain; }

// A slab's first line; its objects follow, kGrain-aligned like the header.
// Written when the slab is carved (under the depot's lock) and by the one
// release pass (under release_mu), which only touches the headers of slabs
// whose objects it took from the depot. seen and verdict belong to the pass
// numbered `pass`: a later pass starts them afresh, so none needs resetting.
struct SlabHeader {
  std::uint32_t capacity;  // objects in the slab
  std::uint64_t pass;      // the release pass seen and verdict are from (0: none)
  std::uint32_t seen;      // of the objects, how many that pass took from the depot
  enum class Verdict : std::uint32_t { kUndecided, kKeep, kRelease } verdict;
};
static_assert(sizeof(SlabHeader) <= kGrain);

SlabHeader* slab_of(const void* o) noexcept {
  return reinterpret_cast<SlabHeader*>(reinterpret_cast<std::uintptr_t>(o) & ~(kSlabBytes - 1));
}

// A list of free objects of one class, chained through next.
struct Chain {
  FreeObject* head = nullptr;
  FreeObject* tail = nullptr;
  std::size_t count = 0;

  /// The list that starts at `first` (may be null), as it is linked.
  static Chain of(FreeObject* first) noexcept {
    Chain chain;
    chain.head = first;
    for (FreeObject* o = first; o != nullptr; o = o->next) {
      chain.tail = o;
      ++chain.count;
    }
    return chain;
  }

  void push(FreeObject* o) noexcept {
    o->next = nullptr;
    if (tail == nullptr) {
      head = o;
    } else {
      tail->next = o;
    }
    tail = o;
    ++count;
  }
};

// Batches of kBatch objects per class that no thread currently holds.
struct Depot {
  std::mutex mu;
  FreeObject* batches[kClasses] = {};
  // Fewer than a batch: odd objects given back by threads that already
  // exited, and what a release pass kept.
  FreeObject* loose[kClasses] = {};
  // In batches and loose, all classes; written under mu. Relaxed everywhere:
  // the unlocked read in release_pool_surplus is a hint, re-read under mu.
  std::atomic<std::size_t> held_bytes{0};
  // Slabs given back to the system, carved again before new address space.
  std::vector<char*> empty_slabs;
  // The rest of the region last mapped.
  char* region_next = nullptr;
  char* region_end = nullptr;

  // One release pass at a time, numbered from 1 (under release_mu). What the
  // last one kept, written under mu; relaxed like held_bytes.
  std::mutex release_mu;
  std::uint64_t passes = 0;  // 64 bits: never wraps onto an old header's number
  std::atomic<std::size_t> floor_bytes{0};
};

// Whether a depot holding `held` bytes is worth a release pass: above the
// trigger and a cap's worth above what the last pass could not give back.
bool worth_a_pass(const Depot& d, std::size_t held) noexcept {
  // Relaxed: a hint; a stale value only delays the release to the next park.
  return held > kReleaseAboveBytes && held > d.floor_bytes.load(std::memory_order_relaxed) + kDepotCapBytes;
}

void add_held(Depot& d, std::ptrdiff_t bytes) noexcept {
  // Relaxed: written under d.mu only (see held_bytes).
  d.held_bytes.store(d.held_bytes.load(std::memory_order_relaxed) + static_cast<std::size_t>(bytes),
                     std::memory_order_relaxed);
}

Depot& depot() {
  static Depot* d = new Depot();  // never destroyed: cowns may be freed during exit
  return *d;
}

// Gives a chain of class c to the depot: whole batches, the rest loose.
void give_locked(Depot& d, std::size_t c, Chain chain) noexcept {
  add_held(d, static_cast<std::ptrdiff_t>(chain.count * class_bytes(c)));
  while (chain.count >= kBatch) {
    FreeObject* batch = chain.head;
    FreeObject* cut = batch;
    for (std::size_t i = 1; i < kBatch; ++i) cut = cut->next;
    chain.head = cut->next;
    chain.count -= kBatch;
    cut->next = nullptr;
    batch->next_batch = d.batches[c];
    d.batches[c] = batch;
  }
  if (chain.count > 0) {
    chain.tail->next = d.loose[c];
    d.loose[c] = chain.head;
  }
}

void map_region_locked(Depot& d) {
  // One slab more than the region, so that a kSlabBytes-aligned region fits;
  // the head and tail around it are unmapped again.
  const std::size_t mapped = kRegionBytes + kSlabBytes;
  void* m = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(m);
  const std::uintptr_t begin = (base + kSlabBytes - 1) & ~(kSlabBytes - 1);
  const std::uintptr_t end = begin + kRegionBytes;
  if (begin > base) ::munmap(m, begin - base);
  if (base + mapped > end) ::munmap(reinterpret_cast<void*>(end), base + mapped - end);
  d.region_next = reinterpret_cast<char*>(begin);
  d.region_end = reinterpret_cast<char*>(end);
}

char* new_slab_locked(Depot& d) {
  if (!d.empty_slabs.empty()) {
    char* s = d.empty_slabs.back();
    d.empty_slabs.pop_back();
    return s;
  }
  if (d.region_next == d.region_end) map_region_locked(d);
  char* s = d.region_next;
  d.region_next += kSlabBytes;
  return s;
}

// Fills an empty class list: a depot batch, loose objects, or new slabs
// (their objects beyond one batch go to the depot).
void refill_locked(Depot& d, ClassCache& cc, std::size_t c) {
  if (FreeObject* b = d.batches[c]) {
    d.batches[c] = b->next_batch;
    add_held(d, -static_cast<std::ptrdiff_t>(kBatch * class_bytes(c)));
    cc.head = b;
    cc.count = kBatch;
    return;
  }
  if (FreeObject* l = d.loose[c]) {
    std::size_t n = 1;
    FreeObject* tail = l;
    while (n < kBatch && tail->next != nullptr) {
      tail = tail->next;
      ++n;
    }
    d.loose[c] = tail->next;
    tail->next = nullptr;
    add_held(d, -static_cast<std::ptrdiff_t>(n * class_bytes(c)));
    cc.head = l;
    cc.count = n;
    return;
  }
  const std::size_t bytes = class_bytes(c);
  const auto capacity = static_cast<std::uint32_t>((kSlabBytes - kGrain) / bytes);
  Chain mine;
  Chain rest;
  while (mine.count < kBatch) {
    char* s = new_slab_locked(d);
    new (s) SlabHeader{capacity, 0, 0, SlabHeader::Verdict::kUndecided};
    // In address order, so that a run of allocations walks memory forwards.
    for (std::uint32_t i = 0; i < capacity; ++i) {
      auto* o = reinterpret_cast<FreeObject*>(s + kGrain + i * bytes);
      (mine.count < kBatch ? mine : rest).push(o);
    }
  }
  cc.head = mine.head;
  cc.count = mine.count;
  if (rest.count > 0) give_locked(d, c, rest);
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
    if (cache.classes[c].head != nullptr) give_locked(d, c, Chain::of(cache.classes[c].head));
    cache.classes[c] = {};
  }
}

void refill(SmallCache& cache, std::size_t c) {
  if (!cache.registered) {
    cache.registered = true;
    (void)&tl_flusher;  // odr-use: registers the thread-exit flush
  }
  Depot& d = depot();
  std::lock_guard lock(d.mu);
  refill_locked(d, cache.classes[c], c);
}

// Calls f(object, class) for every object of lists taken from the depot.
template <class F>
void for_each_object(FreeObject* const (&batches)[kClasses], FreeObject* const (&loose)[kClasses], F&& f) {
  for (std::size_t c = 0; c < kClasses; ++c) {
    for (FreeObject* b = batches[c]; b != nullptr;) {
      FreeObject* next_batch = b->next_batch;  // read first: f may relink b
      for (FreeObject* o = b; o != nullptr;) {
        FreeObject* next = o->next;
        f(o, c);
        o = next;
      }
      b = next_batch;
    }
    for (FreeObject* o = loose[c]; o != nullptr;) {
      FreeObject* next = o->next;
      f(o, c);
      o = next;
    }
  }
}

}  // namespace

void* small_alloc_slow(std::size_t size) {
  if (size > kSmallMax || size == 0) return ::operator new(size);
  SmallCache& cache = tl_small_cache;
  const std::size_t c = small_class_of(size);
  if (cache.exited) {
    // A thread past its flush keeps no list: one object, the rest stays.
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    ClassCache taken;
    refill_locked(d, taken, c);
    FreeObject* o = taken.head;
    if (o->next != nullptr) give_locked(d, c, Chain::of(o->next));
    return o;
  }
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
    Chain one;
    one.push(o);
    give_locked(d, c, one);
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

bool pool_surplus_pending() noexcept {
  Depot& d = depot();
  // Relaxed: a hint (see worth_a_pass).
  return worth_a_pass(d, d.held_bytes.load(std::memory_order_relaxed));
}

void release_pool_surplus() noexcept {
  Depot& d = depot();
  if (!pool_surplus_pending()) return;
  std::unique_lock release(d.release_mu, std::try_to_lock);
  if (!release.owns_lock()) return;  // another parking worker is at it
  // Everything the depot holds, taken in O(classes) under the lock and
  // walked outside it: walking cold lists under the lock stalled every worker
  // whose free or refill needed the depot (peer_banking at 2 workers parked
  // into a 50 MB depot). Meanwhile refills carve new slabs.
  FreeObject* batches[kClasses] = {};
  FreeObject* loose[kClasses] = {};
  std::size_t held = 0;
  {
    std::lock_guard lock(d.mu);
    held = d.held_bytes.load(std::memory_order_relaxed);
    if (!worth_a_pass(d, held)) return;
    for (std::size_t c = 0; c < kClasses; ++c) {
      batches[c] = d.batches[c];
      loose[c] = d.loose[c];
      d.batches[c] = nullptr;
      d.loose[c] = nullptr;
    }
    add_held(d, -static_cast<std::ptrdiff_t>(held));
  }
  // Count, per slab, its objects in hand; a slab whose every object is here
  // goes back while more than the cap is held; the other objects stay.
  const std::uint64_t pass = ++d.passes;
  for_each_object(batches, loose, [pass](FreeObject* o, std::size_t) {
    SlabHeader* h = slab_of(o);
    if (h->pass != pass) {
      h->pass = pass;
      h->seen = 0;
      h->verdict = SlabHeader::Verdict::kUndecided;
    }
    ++h->seen;
  });
  std::vector<char*> released;
  Chain kept[kClasses];
  for_each_object(batches, loose, [&](FreeObject* o, std::size_t c) {
    SlabHeader* h = slab_of(o);
    if (h->verdict == SlabHeader::Verdict::kUndecided) {
      h->verdict = SlabHeader::Verdict::kKeep;
      if (h->seen == h->capacity && held > kDepotCapBytes) {
        try {
          released.push_back(reinterpret_cast<char*>(h));
          h->verdict = SlabHeader::Verdict::kRelease;
          held -= h->capacity * class_bytes(c);
        } catch (const std::bad_alloc&) {
          // Not released this time: its objects are kept.
        }
      }
    }
    if (h->verdict == SlabHeader::Verdict::kKeep) kept[c].push(o);
  });
  // Before the slabs are published: a refill may carve one at once.
  for (char* s : released) ::madvise(s, kSlabBytes, MADV_DONTNEED);
  std::lock_guard lock(d.mu);
  for (std::size_t c = 0; c < kClasses; ++c) {
    if (kept[c].count > 0) give_locked(d, c, kept[c]);
  }
  d.floor_bytes.store(held, std::memory_order_relaxed);
  try {
    d.empty_slabs.insert(d.empty_slabs.end(), released.begin(), released.end());
  } catch (const std::bad_alloc&) {
    // Their pages are back with the system; only the addresses are lost.
  }
}

#endif

}  // namespace boc::detail
