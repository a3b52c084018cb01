// Cowns: concurrently-owned values. A cown is the unit of exclusive access in
// Behavior-Oriented Concurrency; behaviors name the cowns they need and run
// only once they hold all of them (see behavior.h for the protocol).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <utility>

#include "boc/pooled.h"

namespace boc {

class Request;
class Behavior;

/// The untyped part of every cown: the tail of its request queue (an MCS-style
/// queue of behaviors waiting for it), an intrusive reference count, a stable
/// global ordering key and the pinned flag. Subclasses hold the value.
// Allocated from the runtime's per-thread pools (boc/pooled.h).
class CownBase : public detail::Pooled {
 public:
  CownBase(const CownBase&) = delete;
  CownBase& operator=(const CownBase&) = delete;
  virtual ~CownBase();

  /// Global acquisition order key: unique, never reused, increasing with
  /// creation. Behaviors enqueue on their cowns in ascending id order.
  std::uint64_t id() const noexcept { return id_; }

  /// A pinned cown's behaviors run on the main (pumping) thread only.
  bool pinned() const noexcept { return pinned_; }

  void retain() const noexcept {
    // Relaxed: a new reference is always made from an existing one, which
    // already keeps the object alive (same argument as shared_ptr).
    refs_.fetch_add(1, std::memory_order_relaxed);
  }

  void release_ref() const noexcept {
    // AcqRel: the release half publishes this owner's writes; the acquire
    // half lets the last owner see every other owner's writes before delete.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  /// Number of CownBase objects alive in the process (leak checks in tests).
  static std::size_t live_count() noexcept;
  /// Number of pinned cowns alive in the process (quiesce auto-pumps while > 0).
  static std::size_t live_pinned_count() noexcept;

 protected:
  explicit CownBase(bool pinned);

 private:
  friend class Request;

  // Tail of the queue of requests for this cown; nullptr when nobody holds or
  // waits for it. Only touched by the two-phase protocol in behavior.cpp.
  std::atomic<Request*> last_{nullptr};
  mutable std::atomic<std::uint32_t> refs_{1};
  // Beside refs_ (its padding): the header is 32 bytes, so a cown with a
  // value up to 32 bytes fills one 64-byte pool class (boc/small_alloc.h).
  const bool pinned_;
  const std::uint64_t id_;
};

/// Intrusive strong reference to a cown (or a subclass T of CownBase).
template <class T = CownBase>
class Ref {
 public:
  struct Adopt {};

  Ref() noexcept = default;
  Ref(std::nullptr_t) noexcept {}
  /// Takes a new reference to p.
  explicit Ref(T* p) noexcept : p_(p) {
    if (p_) p_->retain();
  }
  /// Adopts the reference the caller already owns (e.g. fresh from `new`).
  Ref(T* p, Adopt) noexcept : p_(p) {}
  Ref(const Ref& o) noexcept : Ref(o.p_) {}
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(const Ref<U>& o) noexcept : Ref(static_cast<T*>(o.get())) {}
  ~Ref() { reset(); }

  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }

  void reset() noexcept {
    if (T* p = std::exchange(p_, nullptr)) p->release_ref();
  }
  /// Gives up ownership without dropping the reference.
  T* detach() noexcept { return std::exchange(p_, nullptr); }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

using CownRef = Ref<CownBase>;

/// A cown holding a C++ value of type T, plus the error a behavior may have
/// left on it when it is a result cown. Access the value only from a behavior
/// that holds the cown, or after Runtime::quiesce() returned.
template <class T>
class Cown final : public CownBase {
 public:
  template <class... Args>
  explicit Cown(bool pinned, Args&&... args) : CownBase(pinned), value_(std::forward<Args>(args)...) {}

  T& value() noexcept { return value_; }
  const T& value() const noexcept { return value_; }

  /// The exception a producing behavior raised, or null.
  std::exception_ptr error() const noexcept { return error_; }
  void set_error(std::exception_ptr e) noexcept { error_ = std::move(e); }

 private:
  T value_;
  std::exception_ptr error_;
};

template <class T>
using CownPtr = Ref<Cown<T>>;

template <class T, class... Args>
CownPtr<T> make_cown(Args&&... args) {
  return CownPtr<T>(new Cown<T>(false, std::forward<Args>(args)...), typename CownPtr<T>::Adopt{});
}

template <class T, class... Args>
CownPtr<T> make_pinned_cown(Args&&... args) {
  return CownPtr<T>(new Cown<T>(true, std::forward<Args>(args)...), typename CownPtr<T>::Adopt{});
}

}  // namespace boc
