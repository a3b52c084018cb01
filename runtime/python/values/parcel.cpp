// Parcel storage: the small-buffer byte block and the cown side table.
#include "parcel.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "parcel_format.h"

namespace boc::py {

Parcel::Parcel() noexcept : data_(inline_) {}

Parcel::Parcel(Parcel&& other) noexcept : data_(inline_) { take(other); }

Parcel& Parcel::operator=(Parcel&& other) noexcept {
  if (this != &other) {
    clear();
    take(other);
  }
  return *this;
}

Parcel::~Parcel() {
  if (!is_inline()) boc::detail::pooled_free(data_, capacity_);
}

void Parcel::take(Parcel& other) noexcept {
  // Precondition: *this is empty and inline.
  if (other.is_inline()) {
    std::memcpy(inline_, other.inline_, other.size_);
    data_ = inline_;
    capacity_ = kInlineCapacity;
  } else {
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = other.inline_;
    other.capacity_ = kInlineCapacity;
  }
  size_ = other.size_;
  other.size_ = 0;
  cowns_ = std::move(other.cowns_);
  other.cowns_.clear();
  buffers_ = std::move(other.buffers_);
  other.buffers_.clear();
  xidata_ = std::move(other.xidata_);
}

void Parcel::clear() noexcept {
  if (!is_inline()) {
    boc::detail::pooled_free(data_, capacity_);
    data_ = inline_;
    capacity_ = kInlineCapacity;
  }
  size_ = 0;
  // Dropping the references may destroy cowns; that needs no GIL.
  ParcelCowns().swap(cowns_);
  // Dropping a Matrix buffer frees plain C++ memory; no GIL either.
  ParcelBuffers().swap(buffers_);
  // An XIData slot frees itself in its own interpreter (xidata_slot.cpp).
  xidata_.reset();
}

bool Parcel::pickled() const noexcept { return size_ != 0 && static_cast<std::uint8_t>(data_[0]) == detail::kPickle; }

Parcel Parcel::clone() const {
  Parcel copy;
  detail::ParcelWriter w(copy);
  w.put_raw(data_, size_);
  copy.cowns_ = cowns_;
  copy.buffers_ = buffers_;
  if (xidata_) copy.xidata_ = std::make_unique<std::vector<std::shared_ptr<void>>>(*xidata_);
  return copy;
}

}  // namespace boc::py
