// A behavior whose body is Python code: runs in the executing worker's
// sub-interpreter (or on main when pinned), with its cowns acquired into that
// interpreter, and leaves the return value or exception on its result cown.
#pragma once

#include <Python.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "boc/behavior.h"
#include "boc/pooled.h"
#include "parcel.h"
#include "py_cown.h"

namespace boc::py {

/// One positional cown parameter: a single cown or a group (a list). A
/// single cown, the usual @when parameter, is held inline, so scheduling it
/// allocates nothing here.
class CownArg {
 public:
  /// A single-cown parameter (takes a new reference).
  static CownArg single(PyCown* c) {
    CownArg a;
    a.one_ = Ref<PyCown>(c);
    return a;
  }
  /// An empty list parameter; add() its members in order.
  static CownArg list() {
    CownArg a;
    a.group_ = true;
    return a;
  }
  void add(PyCown* c) { members_.emplace_back(c); }

  bool group() const noexcept { return group_; }
  std::span<const Ref<PyCown>> cowns() const noexcept {
    return group_ ? std::span<const Ref<PyCown>>(members_) : std::span<const Ref<PyCown>>(&one_, 1);
  }

 private:
  bool group_ = false;
  Ref<PyCown> one_;
  std::vector<Ref<PyCown>, boc::detail::PoolAllocator<Ref<PyCown>>> members_;
};

/// A behavior's parameters, from the runtime's pools (boc/pooled.h): a
/// behavior is often scheduled on one thread and destroyed on another.
using CownArgs = std::vector<CownArg, boc::detail::PoolAllocator<CownArg>>;

/// A strong reference to a main-interpreter exception, carried through
/// std::exception_ptr from pump() to the Python caller that re-raises it.
class PythonError {
 public:
  explicit PythonError(PyObject* exc);  // steals
  PyObject* get() const noexcept;       // borrowed
 private:
  struct Holder;
  std::shared_ptr<Holder> holder_;
};

/// Owns one strong reference to an object of the main interpreter. The
/// behavior holding it may be destroyed on any thread without that GIL
/// (a worker, the C++ host), so the drop goes through decref_in_interp.
class MainInterpRef {
 public:
  MainInterpRef() = default;
  /// Steals `o` (a main-interpreter object).
  explicit MainInterpRef(PyObject* o) noexcept : o_(o) {}
  ~MainInterpRef() { decref_in_interp(0, o_); }
  MainInterpRef(const MainInterpRef&) = delete;
  MainInterpRef& operator=(const MainInterpRef&) = delete;
  MainInterpRef(MainInterpRef&& other) noexcept : o_(std::exchange(other.o_, nullptr)) {}
  MainInterpRef& operator=(MainInterpRef&& other) noexcept {
    if (this != &other) {
      decref_in_interp(0, o_);
      o_ = std::exchange(other.o_, nullptr);
    }
    return *this;
  }
  PyObject* get() const noexcept { return o_; }
  explicit operator bool() const noexcept { return o_ != nullptr; }

 private:
  PyObject* o_ = nullptr;
};

// Room for four requests inline (three cowns and the result cown, the
// usual bocpy @when); larger sets take a pooled array (boc/behavior.h).
class PyBehavior final : private InlineRequests<4>, public Behavior {
 public:
  struct Spec {
    std::uint64_t code_id = 0;
    CownArgs args;
    Ref<PyCown> result;
    Parcel captures;             ///< tuple of capture values (defaults)
    Parcel closure;              ///< tuple of closure cell values (empty: none)
    MainInterpRef raw_captures;  ///< main-only fallback for pinned bodies
    bool varargs = false;
  };

  static std::unique_ptr<PyBehavior> create(Spec&& spec);
  ~PyBehavior() override;

  BodyResult run() override;
  void cancel(std::string_view reason) override;

  /// The result cown (held by this behavior in protocol terms).
  PyCown* result() const noexcept { return spec_.result.get(); }

 private:
  PyBehavior(std::span<CownBase* const> cowns, Spec&& spec);
  BodyResult run_with_gil();

  Spec spec_;
};

/// True while this thread executes a Python behavior body.
bool in_behavior_body() noexcept;

/// Worker threads: the thread state of this worker's sub-interpreter, used to
/// take its GIL for each behavior.
void set_worker_thread_state(PyThreadState* ts) noexcept;
PyThreadState* worker_thread_state() noexcept;

/// Worker threads: a behavior takes the worker interpreter's GIL and keeps
/// it for the next one (nothing else runs in that interpreter: it has its own
/// GIL); the worker gives it back when it runs out of work (the pool's idle
/// hook) and before it stops. True if this thread held it and gave it back.
bool release_kept_worker_gil() noexcept;

}  // namespace boc::py
