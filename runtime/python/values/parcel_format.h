// The byte format of a parcel and the low-level writer/reader over its
// buffer. Internal to boc_values.
//
// A parcel holds exactly one value. A value is a tag byte followed by its
// payload; containers nest values. Integers in the format ("n", "len", "index")
// are unsigned LEB128 varints. All multi-byte scalars are in native byte order
// (parcels never leave the process).
//
//   kNone | kFalse | kTrue                      (no payload)
//   kInt       zigzag varint                    (int fitting int64)
//   kBigInt    len, len bytes little-endian two's complement
//   kFloat     8 bytes (the IEEE-754 bits, exact: NaN payloads, -0.0)
//   kComplex   8 bytes real, 8 bytes imag
//   kStrAscii / kStrLatin1 / kStrUcs2 / kStrUcs4
//              len (code points), len * {1,1,2,4} bytes: CPython's own compact
//              representation, so lone surrogates round-trip exactly
//   kBytes / kByteArray   len, bytes
//   kTuple / kList / kSet / kFrozenSet   n, n values
//   kDict      n, n * (key value)           (insertion order)
//   kMatrix    index into the parcel's Matrix buffer table (the buffer itself
//              is moved there, never copied into the bytes)
//   kCown      index into the parcel's cown table
//   kPickle    len, pickle protocol-5 bytes; persistent ids are cown table
//              indices (ints >= 0) or XIData table indices i as -1 - i
//   kObject    an instance of a plain class (plain_class.h): module len,
//              module UTF-8, qualname len, qualname UTF-8, n, n * (key value
//              (a str), value): the class by reference and the instance
//              __dict__, what pickle would carry
//   kXIData    index into the parcel's XIData table (xidata_slot.h); within a
//              value an object occurs once in the table, and every occurrence
//              decodes to the same new object
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "parcel.h"

namespace boc::py::detail {

enum Tag : std::uint8_t {
  kNone = 0x01,
  kFalse = 0x02,
  kTrue = 0x03,
  kInt = 0x04,
  kBigInt = 0x05,
  kFloat = 0x06,
  kComplex = 0x07,
  kStrAscii = 0x08,
  kStrLatin1 = 0x09,
  kStrUcs2 = 0x0A,
  kStrUcs4 = 0x0B,
  kBytes = 0x0C,
  kByteArray = 0x0D,
  kTuple = 0x0E,
  kList = 0x0F,
  kDict = 0x10,
  kSet = 0x11,
  kFrozenSet = 0x12,
  kMatrix = 0x13,
  kCown = 0x14,
  kPickle = 0x15,
  kObject = 0x16,
  kXIData = 0x17,
};

/// Appends to a parcel's buffer, growing it from the pools (throws
/// std::bad_alloc). Also gives access to the cown table.
class ParcelWriter {
 public:
  explicit ParcelWriter(Parcel& p) noexcept : p_(p) {}

  /// Empties the parcel for a new encoding. Keeps a heap buffer up to
  /// kKeepCapacity bytes, so re-encoding into the same parcel does not allocate.
  void reset() noexcept {
    static constexpr std::size_t kKeepCapacity = 64 * 1024;
    if (!p_.is_inline() && p_.capacity_ > kKeepCapacity) {
      boc::detail::pooled_free(p_.data_, p_.capacity_);  // pooled_alloc made it (grow below)
      p_.data_ = p_.inline_;
      p_.capacity_ = Parcel::kInlineCapacity;
    }
    p_.size_ = 0;
    p_.cowns_.clear();
    p_.buffers_.clear();
    p_.xidata_.reset();
  }

  std::size_t size() const noexcept { return p_.size_; }
  ParcelCowns& cowns() noexcept { return p_.cowns_; }
  ParcelBuffers& buffers() noexcept { return p_.buffers_; }
  /// The parcel's XIData table, allocated when first asked for.
  std::unique_ptr<std::vector<std::shared_ptr<void>>>& xidata() noexcept { return p_.xidata_; }

  /// Makes room for n more bytes and returns where they go (size unchanged).
  std::byte* reserve(std::size_t n) {
    if (p_.capacity_ - p_.size_ < n) grow(n);
    return p_.data_ + p_.size_;
  }
  void commit(std::size_t n) noexcept { p_.size_ += n; }

  void put_tag(Tag t) {
    *reserve(1) = static_cast<std::byte>(t);
    commit(1);
  }
  void put_varint(std::uint64_t v) {
    std::byte* out = reserve(10);
    std::size_t n = 0;
    while (v >= 0x80) {
      out[n++] = static_cast<std::byte>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out[n++] = static_cast<std::byte>(v);
    commit(n);
  }
  void put_tag_varint(Tag t, std::uint64_t v) {
    std::byte* out = reserve(11);
    std::size_t n = 0;
    out[n++] = static_cast<std::byte>(t);
    while (v >= 0x80) {
      out[n++] = static_cast<std::byte>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out[n++] = static_cast<std::byte>(v);
    commit(n);
  }
  void put_raw(const void* src, std::size_t n) {
    if (n == 0) return;
    std::memcpy(reserve(n), src, n);
    commit(n);
  }
  /// Zero bytes up to the next multiple of `alignment` (a power of two).
  void pad_to(std::size_t alignment) {
    std::size_t pad = (alignment - (p_.size_ & (alignment - 1))) & (alignment - 1);
    if (pad == 0) return;
    std::memset(reserve(pad), 0, pad);
    commit(pad);
  }

 private:
  void grow(std::size_t n) {
    std::size_t need = p_.size_ + n;
    if (need < p_.size_) throw std::bad_alloc();
    std::size_t cap = p_.capacity_ * 2;
    if (cap < need) cap = need;
    cap = (cap + 63) & ~std::size_t{63};
    // Throws std::bad_alloc on exhaustion; the old block stays the parcel's.
    auto* block = static_cast<std::byte*>(boc::detail::pooled_alloc(cap));
    std::memcpy(block, p_.data_, p_.size_);
    if (!p_.is_inline()) boc::detail::pooled_free(p_.data_, p_.capacity_);
    p_.data_ = block;
    p_.capacity_ = cap;
  }

  Parcel& p_;
};

/// What a reader sees as the XIData table of a parcel that has none.
inline const std::vector<std::shared_ptr<void>> kNoXIData;

/// Reads a parcel's buffer with bounds checks. Every getter returns false on a
/// truncated or malformed buffer (the caller raises).
class ParcelReader {
 public:
  explicit ParcelReader(const Parcel& p) noexcept
      : base_(p.data_),
        pos_(p.data_),
        end_(p.data_ + p.size_),
        cowns_(p.cowns_),
        buffers_(p.buffers_),
        xidata_(p.xidata_ ? *p.xidata_ : kNoXIData) {}

  bool at_end() const noexcept { return pos_ == end_; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
  const ParcelCowns& cowns() const noexcept { return cowns_; }
  const ParcelBuffers& buffers() const noexcept { return buffers_; }
  const std::vector<std::shared_ptr<void>>& xidata() const noexcept { return xidata_; }

  bool get_tag(std::uint8_t& t) noexcept {
    if (pos_ == end_) return false;
    t = static_cast<std::uint8_t>(*pos_++);
    return true;
  }
  bool get_varint(std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos_ == end_) return false;
      auto b = static_cast<std::uint8_t>(*pos_++);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  /// A varint that counts things of `unit` bytes each that must still fit.
  bool get_count(std::size_t& n, std::size_t unit) noexcept {
    std::uint64_t v;
    if (!get_varint(v)) return false;
    if (unit != 0 && v > remaining() / unit) return false;
    if (v > static_cast<std::uint64_t>(PY_SSIZE_T_MAX)) return false;
    n = static_cast<std::size_t>(v);
    return true;
  }
  /// Consumes n bytes and returns where they start.
  const std::byte* get_raw(std::size_t n) noexcept {
    if (remaining() < n) return nullptr;
    const std::byte* at = pos_;
    pos_ += n;
    return at;
  }
  /// Where the next read starts; rewind() goes back to such a position.
  const std::byte* position() const noexcept { return pos_; }
  void rewind(const std::byte* at) noexcept { pos_ = at; }
  bool skip_pad(std::size_t alignment) noexcept {
    auto off = static_cast<std::size_t>(pos_ - base_);
    std::size_t pad = (alignment - (off & (alignment - 1))) & (alignment - 1);
    return get_raw(pad) != nullptr;
  }

 private:
  const std::byte* base_;
  const std::byte* pos_;
  const std::byte* end_;
  const ParcelCowns& cowns_;
  const ParcelBuffers& buffers_;
  const std::vector<std::shared_ptr<void>>& xidata_;
};

}  // namespace boc::py::detail
