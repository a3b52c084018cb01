// Parcels: Python values encoded into interpreter-free C++ memory, the way a
// value moves between the own-GIL interpreters of this runtime (our
// replacement for CPython's cross-interpreter data).
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "boc/cown.h"

namespace boc::py {

namespace detail {
class ParcelWriter;
class ParcelReader;
}  // namespace detail

/// An encoded Python value that belongs to no interpreter: movable between
/// threads, destructible without any GIL, decodable any number of times in any
/// interpreter (also concurrently: decoding only reads the parcel).
///
/// Layout: one contiguous byte buffer (tag-prefixed, see parcel_format.h; the
/// first kInlineCapacity bytes live inside the object) plus a side table of
/// cown references for the cown handles inside the value, and one of the
/// Matrix buffers it carries (moved, not copied: matrix_transport.h). The
/// parcel keeps both alive for as long as it exists. Memory comes from
/// malloc, never from a Python allocator.
///
/// A Matrix buffer can only be held by one interpreter: decoding claims it,
/// so a second decode of a parcel (or of a clone) holding a Matrix raises
/// RuntimeError while the first decoder still holds it, as bocpy does.
class Parcel {
 public:
  static constexpr std::size_t kInlineCapacity = 64;

  Parcel() noexcept;
  Parcel(Parcel&& other) noexcept;
  Parcel& operator=(Parcel&& other) noexcept;
  Parcel(const Parcel&) = delete;  // copies are explicit: clone()
  Parcel& operator=(const Parcel&) = delete;
  ~Parcel();

  /// True for a default-constructed, cleared or failed-to-encode parcel.
  bool empty() const noexcept { return size_ == 0; }
  /// Size of the encoded byte buffer (cown references not counted).
  std::size_t byte_size() const noexcept { return size_; }
  /// The encoded bytes. Native encodings are deterministic: equal values built
  /// the same way give equal bytes (sets follow their iteration order).
  const std::byte* bytes() const noexcept { return data_; }
  /// The cowns whose handles the value contains, in encoding order (one entry
  /// per handle occurrence).
  std::span<const CownRef> cowns() const noexcept { return cowns_; }
  /// The Matrix buffers the value carries (type-erased matrix stores), in
  /// encoding order.
  std::span<const std::shared_ptr<void>> buffers() const noexcept { return buffers_; }
  /// True when the value went through the pickle fallback.
  bool pickled() const noexcept;

  /// An independent copy (same bytes, new references to the same cowns and
  /// Matrix buffers).
  /// Needs no GIL. Throws std::bad_alloc on exhaustion.
  Parcel clone() const;
  /// Back to empty: frees the buffer and drops the cown references.
  void clear() noexcept;

 private:
  friend class detail::ParcelWriter;
  friend class detail::ParcelReader;

  bool is_inline() const noexcept { return data_ == inline_; }
  void take(Parcel& other) noexcept;

  std::byte* data_;  // inline_ or a malloc'd block
  std::size_t size_ = 0;
  std::size_t capacity_ = kInlineCapacity;
  std::vector<CownRef> cowns_;
  std::vector<std::shared_ptr<void>> buffers_;
  alignas(16) std::byte inline_[kInlineCapacity];
};

/// Encodes obj (GIL of the current interpreter held) into out, replacing what
/// out held (its heap buffer is reused). Returns false with a Python exception
/// set on failure (the pickle error itself for e.g. a lambda, a lock or an
/// object whose __reduce__ raises); out is then empty.
///
/// Exact None, bool, int, float, complex, str, bytes, bytearray, tuple, list,
/// dict, set, frozenset, bocpy Matrix and cown handles are encoded natively
/// (a Matrix by moving its buffer: once encode succeeds the sender's object
/// no longer owns it);
/// anything else (including subclasses of those builtins), a value with a
/// shared or cyclic mutable container, or one nested deeper than
/// kMaxNativeDepth goes through pickle protocol 5 as a whole, with cown
/// handles moved into the side table by a persistent_id.
bool parcel_encode(PyObject* obj, Parcel& out);

/// New object in the current interpreter (GIL held); nullptr + exception on
/// failure (e.g. a pickled class that the current interpreter cannot import).
PyObject* parcel_decode(const Parcel& parcel);

/// Containers nested deeper than this are pickled instead of encoded natively.
inline constexpr int kMaxNativeDepth = 200;

/// Cown handles (bocpy Cown / PinnedCown / capsule objects) are owned by the
/// bocpy module, which installs these hooks once at startup (process-global).
/// Neither hook may run Python code other than creating the handle object.
struct HandleHooks {
  /// handle -> cown (new ref); empty Ref and NO error if obj is not a handle.
  CownRef (*unwrap)(PyObject* obj);
  /// New handle object in the current interpreter (nullptr + error on failure).
  PyObject* (*wrap)(const CownRef& cown);
};
/// Installs (or, with null members, removes) the hooks.
void set_handle_hooks(const HandleHooks& hooks);

}  // namespace boc::py
