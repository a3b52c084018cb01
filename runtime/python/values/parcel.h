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
#include "boc/pooled.h"

namespace boc::py {

namespace detail {
class ParcelWriter;
class ParcelReader;
}  // namespace detail

/// A parcel's cown and Matrix-buffer tables (pooled, as the byte buffer is).
using ParcelCowns = std::vector<CownRef, boc::detail::PoolAllocator<CownRef>>;
using ParcelBuffers = std::vector<std::shared_ptr<void>, boc::detail::PoolAllocator<std::shared_ptr<void>>>;

/// An encoded Python value that belongs to no interpreter: movable between
/// threads, destructible without any GIL, decodable any number of times in any
/// interpreter (also concurrently: decoding only reads the parcel).
///
/// Layout: one contiguous byte buffer (tag-prefixed, see parcel_format.h; the
/// first kInlineCapacity bytes live inside the object) plus a side table of
/// cown references for the cown handles inside the value, and one of the
/// Matrix buffers it carries (moved, not copied: matrix_transport.h). The
/// parcel keeps both alive for as long as it exists. Memory comes from the
/// runtime's per-thread pools (boc/pooled.h; a parcel is often written on one
/// worker and cleared on another), never from a Python allocator.
///
/// A Matrix buffer can only be held by one interpreter: decoding claims it,
/// so a second decode of a parcel (or of a clone) holding a Matrix raises
/// RuntimeError while the first decoder still holds it, as bocpy does.
///
/// A third side table holds the XIData of values whose type is registered as
/// cross-interpreter shareable (xidata_slot.h, bocpy's C ABI in
/// runtime/python/include/bocpy/). Each decode calls the type's new_object;
/// a type following bocpy.h's owner-field pattern therefore decodes once per
/// encode, like a Matrix (a second decode raises the type's RuntimeError).
/// The last copy of the parcel frees the XIData in the interpreter that
/// filled it; the drop hook defers that when it happens elsewhere.
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
  /// The XIData of the registered-type values it carries (type-erased
  /// slots), in encoding order, one per distinct object.
  std::span<const std::shared_ptr<void>> xidata() const noexcept {
    return xidata_ ? std::span<const std::shared_ptr<void>>(*xidata_) : std::span<const std::shared_ptr<void>>();
  }
  /// True when the value went through the pickle fallback.
  bool pickled() const noexcept;

  /// An independent copy (same bytes, new references to the same cowns,
  /// Matrix buffers and XIData).
  /// Needs no GIL. Throws std::bad_alloc on exhaustion.
  Parcel clone() const;
  /// Back to empty: frees the buffer and drops the cown references (and the
  /// side tables; an XIData slot dropped off its interpreter is deferred).
  void clear() noexcept;

 private:
  friend class detail::ParcelWriter;
  friend class detail::ParcelReader;

  bool is_inline() const noexcept { return data_ == inline_; }
  void take(Parcel& other) noexcept;

  std::byte* data_;  // inline_ or a pooled block of capacity_ bytes
  std::size_t size_ = 0;
  std::size_t capacity_ = kInlineCapacity;
  ParcelCowns cowns_;
  ParcelBuffers buffers_;
  // Allocated by the first value that has one: rare, and a Parcel sits inside
  // every behavior and cown, which must stay within the pools' size limit
  // (boc/pooled.h, py_behavior.cpp).
  std::unique_ptr<std::vector<std::shared_ptr<void>>> xidata_;
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
/// no longer owns it), plain class instances as class + __dict__
/// (plain_class.h), and an object whose exact type is registered as
/// cross-interpreter shareable by its XIData (its getdata callback runs once
/// per distinct object, after the rest of the value encoded; should one fail,
/// those already taken are handed back: xidata_slot.h);
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

/// Drops a reference owned by interpreter `interp_id` from a thread that may
/// hold another interpreter's GIL or none (the bocpy module installs
/// decref_in_interp, runtime/python/py_cown.h). Parcels use it for the XIData
/// of registered-type values, which must be freed where they were filled.
/// Without a hook such a slot, dropped elsewhere, leaks.
using DropHook = void (*)(std::int64_t interp_id, PyObject* obj);
void set_drop_hook(DropHook hook);

}  // namespace boc::py
