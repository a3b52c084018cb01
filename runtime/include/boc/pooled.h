// Allocation from the runtime's per-thread pools (runtime/core/small_alloc.cpp)
// for objects that are usually freed on another thread than the one that made
// them: behaviors and cowns derive from it.
#pragma once

#include <cstddef>
#include <new>

namespace boc::detail {

/// Objects up to this size come from the pools; larger ones from ::operator
/// new. Python behaviors (runtime/python/py_behavior.h) are about 550 bytes.
inline constexpr std::size_t kPooledMax = 1024;

struct Pooled {
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
  static void* operator new(std::size_t size, std::align_val_t al) { return ::operator new(size, al); }
  static void operator delete(void* p, std::size_t size, std::align_val_t al) noexcept {
    ::operator delete(p, size, al);
  }
  static void* operator new(std::size_t, void* where) noexcept { return where; }
  static void operator delete(void*, void*) noexcept {}
};

}  // namespace boc::detail
