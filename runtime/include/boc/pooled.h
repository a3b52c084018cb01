// Allocation from the runtime's per-thread pools (runtime/core/small_alloc.cpp)
// for objects that are usually freed on another thread than the one that made
// them: behaviors and cowns derive from it; Matrix buffers use pooled_alloc.
#pragma once

#include <cstddef>
#include <new>

#include "boc/small_alloc.h"

namespace boc::detail {

/// Objects up to this size come from the pools; larger ones from ::operator
/// new. Python behaviors (runtime/python/py_behavior.h) are 464 bytes;
/// a 16 x 32 Matrix buffer (runtime/python/matrix/matrix_kernels.h) 4 KiB.
inline constexpr std::size_t kPooledMax = kSmallMax;

/// `size` bytes from the calling thread's pool (cache-line aligned), or from
/// ::operator new above kPooledMax. Give it back with pooled_free and the same
/// size, from any thread: a block made on one worker and freed on another
/// goes to the freeing thread's pool, without glibc's arena lock.
inline void* pooled_alloc(std::size_t size) { return small_alloc(size); }
inline void pooled_free(void* p, std::size_t size) noexcept { small_free(p, size); }

/// std::allocator over pooled_alloc, for containers, buffers and shared_ptr
/// control blocks that are made on one thread and freed on another (the
/// Python layer's parcels and Matrix stores).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(pooled_alloc(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { pooled_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>& /*other*/) const noexcept {
    return true;  // stateless: any instance frees what any other allocated
  }
};

struct Pooled {
  static void* operator new(std::size_t size) { return small_alloc(size); }
  static void operator delete(void* p, std::size_t size) noexcept { small_free(p, size); }
  static void* operator new(std::size_t size, std::align_val_t al) { return ::operator new(size, al); }
  static void operator delete(void* p, std::size_t size, std::align_val_t al) noexcept {
    ::operator delete(p, size, al);
  }
  static void* operator new(std::size_t, void* where) noexcept { return where; }
  static void operator delete(void*, void*) noexcept {}
};

}  // namespace boc::detail
