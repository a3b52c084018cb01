// Per-thread pools for the runtime's small, short-lived objects (behaviors and
// cowns; see small_alloc.cpp for why not malloc).
#pragma once

#include <cstddef>

namespace boc::detail {

/// Memory for `size` bytes, 16-byte aligned. Sizes above kSmallMax go to
/// ::operator new.
void* small_alloc(std::size_t size);
/// Returns memory from small_alloc with the same size, from any thread.
void small_free(void* p, std::size_t size) noexcept;

inline constexpr std::size_t kSmallMax = 512;

}  // namespace boc::detail
