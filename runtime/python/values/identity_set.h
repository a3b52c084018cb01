// A set of object addresses, used while encoding to notice a mutable container
// that is reached twice (shared or cyclic). Internal to boc_values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace boc::py::detail {

class IdentitySet {
 public:
  /// Adds p; false if it was already there.
  bool insert(const void* p) {
    if (!table_) {
      for (std::size_t i = 0; i < count_; ++i) {
        if (inline_[i] == p) return false;
      }
      if (count_ < kInline) {
        inline_[count_++] = p;
        return true;
      }
      rehash(kInline * 4);
      for (std::size_t i = 0; i < kInline; ++i) place(inline_[i]);
    }
    if ((count_ + 1) * 2 > capacity_) {
      grow();
    }
    std::size_t mask = capacity_ - 1;
    for (std::size_t i = slot(p);; i = (i + 1) & mask) {
      if (table_[i] == p) return false;
      if (table_[i] == nullptr) {
        table_[i] = p;
        ++count_;
        return true;
      }
    }
  }

 private:
  static constexpr std::size_t kInline = 16;

  std::size_t slot(const void* p) const noexcept {
    auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> 32) & (capacity_ - 1);
  }
  void place(const void* p) noexcept {
    std::size_t mask = capacity_ - 1;
    std::size_t i = slot(p);
    while (table_[i] != nullptr) i = (i + 1) & mask;
    table_[i] = p;
  }
  void rehash(std::size_t capacity) {
    table_ = std::make_unique<const void*[]>(capacity);  // value-initialised: nullptr
    capacity_ = capacity;
  }
  void grow() {
    std::unique_ptr<const void*[]> old = std::move(table_);
    std::size_t old_capacity = capacity_;
    rehash(capacity_ * 2);
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i]) place(old[i]);
    }
  }

  const void* inline_[kInline];
  std::size_t count_ = 0;
  std::unique_ptr<const void*[]> table_;
  std::size_t capacity_ = 0;
};

}  // namespace boc::py::detail
