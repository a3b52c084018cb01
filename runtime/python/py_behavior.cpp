#include "py_behavior.h"

#include "interrupt.h"

#include "behavior_code.h"
#include "boc/pooled.h"
#include "interp_state.h"
#include "module_cown.h"
#include "noticeboard.h"
#include "py_compat.h"

namespace boc::py {

// Behaviors are made and freed once each: above the pools' limit they would
// go through malloc (and its cross-thread frees) again.
static_assert(sizeof(PyBehavior) <= boc::detail::kPooledMax, "PyBehavior outgrew the pools (boc/pooled.h)");
static_assert(sizeof(PyCown) <= boc::detail::kPooledMax, "PyCown outgrew the pools (boc/pooled.h)");

namespace {

thread_local PyThreadState* tl_worker_tstate = nullptr;
thread_local bool tl_worker_gil_kept = false;
thread_local int tl_body_depth = 0;

// Holds the GIL of the interpreter this thread runs behaviors in. A worker
// keeps its interpreter's GIL after the behavior (release_kept_worker_gil):
// taking and dropping it was about 600 instructions of every behavior. Who
// else takes it (interrupt_runtime(), to raise KeyboardInterrupt in a body)
// gets it at the body's next eval-breaker check or when the worker idles.
class BehaviorGil {
 public:
  BehaviorGil() {
    if (tl_worker_tstate != nullptr) {
      if (!tl_worker_gil_kept) {
        PyEval_RestoreThread(tl_worker_tstate);
        tl_worker_gil_kept = true;
      }
    } else if (current_tstate_unchecked() == nullptr) {
      // A C++ host pumping without the GIL (the demo's frame loop, quiesce).
      gstate_ = PyGILState_Ensure();
      mode_ = Mode::kEnsured;
    }
  }
  ~BehaviorGil() {
    if (mode_ == Mode::kEnsured) {
      PyGILState_Release(gstate_);
    }
  }
  BehaviorGil(const BehaviorGil&) = delete;
  BehaviorGil& operator=(const BehaviorGil&) = delete;

 private:
  enum class Mode { kHeld, kEnsured };
  Mode mode_ = Mode::kHeld;
  PyGILState_STATE gstate_{};
};

struct BodyDepth {
  BodyDepth() { ++tl_body_depth; }
  ~BodyDepth() { --tl_body_depth; }
};

// Formats exc with its traceback (GIL held); empty on failure.
std::string format_traceback(PyObject* exc) {
  PyObject* tb_mod = PyImport_ImportModule("traceback");
  if (tb_mod == nullptr) {
    PyErr_Clear();
    return {};
  }
  PyObject* lines = PyObject_CallMethod(tb_mod, "format_exception", "O", exc);
  Py_DECREF(tb_mod);
  if (lines == nullptr) {
    PyErr_Clear();
    return {};
  }
  PyObject* empty = PyUnicode_FromString("");
  PyObject* joined = empty != nullptr ? PyUnicode_Join(empty, lines) : nullptr;
  Py_XDECREF(empty);
  Py_DECREF(lines);
  std::string out;
  if (joined != nullptr) {
    const char* s = PyUnicode_AsUTF8(joined);
    if (s != nullptr) out = s;
    Py_DECREF(joined);
  }
  PyErr_Clear();
  return out;
}

}  // namespace

struct PythonError::Holder {
  explicit Holder(PyObject* e) : exc(e) {}
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  ~Holder() { decref_in_interp(0, exc); }
  PyObject* exc;
};

PythonError::PythonError(PyObject* exc) : holder_(std::make_shared<Holder>(exc)) {}
PyObject* PythonError::get() const noexcept { return holder_->exc; }

bool in_behavior_body() noexcept { return tl_body_depth > 0; }
void set_worker_thread_state(PyThreadState* ts) noexcept { tl_worker_tstate = ts; }
PyThreadState* worker_thread_state() noexcept { return tl_worker_tstate; }

bool release_kept_worker_gil() noexcept {
  if (!tl_worker_gil_kept) return false;
  tl_worker_gil_kept = false;
  PyEval_SaveThread();
  return true;
}

namespace {

/// Some of one behavior's cowns, listed on the stack for the usual sets (up to
/// 32; boids.py's cells name 18) and on the heap past that: the request set
/// create() builds, the cowns run_with_gil() acquired.
template <class T>
class CownList {
 public:
  explicit CownList(std::size_t capacity) {
    if (capacity > kStack) {
      heap_.resize(capacity);
      data_ = heap_.data();
    }
  }
  CownList(const CownList&) = delete;  // data_ may point into this object
  CownList& operator=(const CownList&) = delete;

  void push(T c) noexcept { data_[size_++] = c; }
  std::span<T const> items() const noexcept { return {data_, size_}; }

 private:
  static constexpr std::size_t kStack = 32;
  T stack_[kStack];
  std::vector<T> heap_;
  T* data_ = stack_;
  std::size_t size_ = 0;
};

/// The cowns the arguments name, duplicates counted (not the result).
std::size_t argument_cown_count(const PyBehavior::Spec& spec) noexcept {
  std::size_t n = 0;
  for (const CownArg& a : spec.args) n += a.cowns().size();
  return n;
}

}  // namespace

std::unique_ptr<PyBehavior> PyBehavior::create(Spec&& spec) {
  // The request set: every argument's cowns, then the result cown (no
  // allocation besides the behavior itself for the usual sets).
  CownList<CownBase*> cowns(argument_cown_count(spec) + 1);
  for (const CownArg& a : spec.args)
    for (const auto& c : a.cowns()) cowns.push(c.get());
  cowns.push(spec.result.get());
  return std::unique_ptr<PyBehavior>(new PyBehavior(cowns.items(), std::move(spec)));
}

// Borrows: spec_ holds a reference to every cown for the behavior's lifetime.
PyBehavior::PyBehavior(std::span<CownBase* const> cowns, Spec&& spec)
    : Behavior(cowns, BorrowRefs{}, room()), spec_(std::move(spec)) {}

PyBehavior::~PyBehavior() = default;

void PyBehavior::cancel(std::string_view reason) { spec_.result->store_error_message(std::string(reason)); }

BodyResult PyBehavior::run() {
  BehaviorGil gil;
  BodyDepth depth;
  WorkerSlot* slot = current_worker_slot();
  if (runtime_interrupted()) {
    discard_pending_interrupt();
    spec_.result->store_error_message(kCancelledByInterrupt, false);
    return {};
  }
  // in_body is read by interrupt_runtime() under this interpreter's GIL.
  if (slot != nullptr) slot->in_body.store(true, std::memory_order_relaxed);
  BodyResult r = run_with_gil();
  if (slot != nullptr) {
    slot->in_body.store(false, std::memory_order_relaxed);
    if (runtime_interrupted()) discard_pending_interrupt();
  }
  return r;
}

BodyResult PyBehavior::run_with_gil() {
  drain_deferred_decrefs();
  rearm_noticeboard_cache();  // each behavior sees one frozen noticeboard view
  InterpState* state = current_state();
  PyCown* result = spec_.result.get();
  if (state == nullptr) {
    result->store_error_message("bocpy is not initialised in the executing interpreter");
    return {};
  }

  // Acquire every distinct argument cown into this interpreter.
  CownList<PyCown*> acquired(argument_cown_count(spec_));
  bool ok = true;
  for (const CownArg& a : spec_.args) {
    for (const auto& c : a.cowns()) {
      if (c->owner() == state->interp_id && !c->pinned()) continue;  // a duplicate already acquired
      if (!c->acquire(state)) {
        ok = false;
        break;
      }
      acquired.push(c.get());
    }
    if (!ok) break;
  }

  BodyResult outcome;
  PyObject* args = nullptr;
  PyObject* fn = nullptr;
  PyObject* ret = nullptr;
  if (ok) {
    PyObject* captures = nullptr;
    if (spec_.raw_captures) {
      captures = Py_NewRef(spec_.raw_captures.get());
    } else if (!spec_.captures.empty()) {
      captures = parcel_decode(spec_.captures);
    } else {
      captures = PyTuple_New(0);
    }
    PyObject* closure = nullptr;
    if (captures != nullptr && !spec_.closure.empty()) closure = parcel_decode(spec_.closure);
    if (captures != nullptr && (spec_.closure.empty() || closure != nullptr)) {
      fn = behavior_function(state, spec_.code_id, closure);
    }
    Py_XDECREF(closure);
    if (fn != nullptr) {
      const Py_ssize_t n_caps = PyTuple_GET_SIZE(captures);
      args = PyTuple_New(static_cast<Py_ssize_t>(spec_.args.size()) + n_caps);
      Py_ssize_t i = 0;
      for (const CownArg& a : spec_.args) {
        PyObject* item = nullptr;
        const std::span<const Ref<PyCown>> cowns = a.cowns();
        if (a.group()) {
          item = PyList_New(static_cast<Py_ssize_t>(cowns.size()));
          for (std::size_t k = 0; item != nullptr && k < cowns.size(); ++k) {
            PyObject* cap = new_capsule(state, cowns[k]);
            if (cap == nullptr) {
              Py_CLEAR(item);
              break;
            }
            PyList_SET_ITEM(item, static_cast<Py_ssize_t>(k), cap);
          }
        } else {
          item = new_capsule(state, cowns.front());
        }
        if (item == nullptr) {
          Py_CLEAR(args);
          break;
        }
        PyTuple_SET_ITEM(args, i++, item);
      }
      for (Py_ssize_t k = 0; args != nullptr && k < n_caps; ++k) {
        PyTuple_SET_ITEM(args, i++, Py_NewRef(PyTuple_GET_ITEM(captures, k)));
      }
      if (args != nullptr) ret = PyObject_Call(fn, args, nullptr);
    }
    Py_XDECREF(captures);
  }

  if (ret != nullptr) {
    result->store_result(ret, false);
    Py_DECREF(ret);
  } else {
    PyObject* exc = PyErr_GetRaisedException();
    if (exc == nullptr) exc = PyObject_CallFunction(PyExc_RuntimeError, "s", "behavior failed without an exception");
    if (exc != nullptr) {
      if (ok) {
        result->set_traceback_text(format_traceback(exc));
        outcome.outcome = PyErr_GivenExceptionMatches(exc, PyExc_Exception) ? BodyOutcome::kError : BodyOutcome::kFatal;
      }
      // An acquire failure lands on the result but is not a body error.
      result->store_result(exc, true);
      if (outcome.outcome != BodyOutcome::kOk && state->interp_id == 0) {
        outcome.error = std::make_exception_ptr(PythonError(Py_NewRef(exc)));
      }
      Py_DECREF(exc);
    }
  }
  Py_XDECREF(args);
  Py_XDECREF(fn);

  // Release: encode values back. A value that cannot cross (e.g. the body
  // stored a lambda) is replaced by the error, flagged as an exception, so
  // the cown is released and the next behavior sees why.
  for (PyCown* c : acquired.items()) {
    if (c->release(state, this)) continue;
    PyObject* exc = PyErr_GetRaisedException();
    PyObject* err =
        PyObject_CallFunction(PyExc_RuntimeError, "sO", "the value left in this cown could not cross interpreters",
                              exc != nullptr ? exc : Py_None);
    if (err != nullptr && c->set_value(err) && c->set_exception_flag(true) && c->release(state)) {
      PyErr_SetRaisedException(exc);
      PyErr_WriteUnraisable(nullptr);
    } else {
      PyErr_Clear();
      Py_XDECREF(exc);
    }
    Py_XDECREF(err);
  }
  return outcome;
}

}  // namespace boc::py
