// Fixed-size ring buffer of floats laid out for ImGui::PlotLines(values, count, offset).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

namespace boc::demo {

template <std::size_t N>
class History {
 public:
  static_assert(N > 0, "History needs at least one slot");
  static constexpr std::size_t kCapacity = N;

  void push(float v) {
    values_[head_] = v;
    head_ = (head_ + 1) % N;
    size_ = std::min(size_ + 1, N);
  }

  void clear() {
    values_.fill(0.0f);
    head_ = 0;
    size_ = 0;
  }

  // PlotLines(label, data(), capacity(), plot_offset()) draws oldest to newest. Unfilled
  // slots (before the buffer wraps) read as 0.
  const float* data() const { return values_.data(); }
  int capacity() const { return static_cast<int>(N); }
  int plot_offset() const { return static_cast<int>(head_); }
  std::size_t size() const { return size_; }

  float latest() const { return size_ == 0 ? 0.0f : values_[(head_ + N - 1) % N]; }
  float max() const { return size_ == 0 ? 0.0f : *std::max_element(values_.begin(), values_.end()); }

  // i = 0 is the oldest of the size() stored values.
  float at(std::size_t i) const { return values_[(head_ + N - size_ + i) % N]; }

 private:
  std::array<float, N> values_{};
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace boc::demo
