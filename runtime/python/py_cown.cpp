#include "py_cown.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "boc/behavior.h"
#include "interp_state.h"
#include "module_cown.h"
#include "py_compat.h"
#include "reusable_value.h"

namespace boc::py {
namespace {

// References whose interpreter was not current when they were dropped.
struct DeferredDecrefs {
  std::mutex mu;
  std::unordered_map<std::int64_t, std::vector<PyObject*>> by_interp;
  // Relaxed fast-path hint: drainers skip the lock while it reads 0; a
  // missed increment is picked up by the next drain.
  std::atomic<std::size_t> count{0};
};

// bocpy hands a Cown that a behavior returned downstream as a bare
// CownCapsule, so that Cown(r.value) names that same cown, while a Cown built
// from a Cown wraps it. A parcel keeps only the cown, so the cown remembers
// which of the two its value was (bare_handle_).
bool is_bare_handle(PyObject* v, bool as_result) {
  // None first: every result cown starts as one (no interpreter lookup).
  if (v == nullptr || v == Py_None) return false;
  InterpState* st = current_state();
  if (st == nullptr) return false;
  return Py_TYPE(v) == st->capsule_type || (as_result && Py_TYPE(v) == st->cown_type);
}

// Steals `decoded`; a decoded Cown comes back as a capsule of the same cown.
PyObject* as_bare_handle(PyObject* decoded) {
  InterpState* st = current_state();
  if (st == nullptr || Py_TYPE(decoded) != st->cown_type) return decoded;
  PyObject* capsule = new_capsule(st, Ref<PyCown>(cown_of(st, decoded)));
  Py_DECREF(decoded);
  return capsule;
}

std::string exception_text(PyObject* exc) {
  PyObject* saved = PyErr_GetRaisedException();
  std::string out = _PyType_Name(Py_TYPE(exc));
  PyObject* s = PyObject_Str(exc);
  const char* c = s != nullptr ? PyUnicode_AsUTF8(s) : nullptr;
  if (c != nullptr && *c != '\0') out += std::string(": ") + c;
  Py_XDECREF(s);
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
  return out;
}

DeferredDecrefs& deferred() {
  static DeferredDecrefs* d = new DeferredDecrefs();  // never destroyed: used at exit
  return *d;
}

}  // namespace

std::int64_t current_interp_id() noexcept { return PyInterpreterState_GetID(PyInterpreterState_Get()); }

void decref_in_interp(std::int64_t interp_id, PyObject* obj) noexcept {
  if (obj == nullptr) return;
  PyThreadState* ts = current_tstate_unchecked();
  if (ts != nullptr && PyInterpreterState_GetID(ts->interp) == interp_id) {
    Py_DECREF(obj);
    return;
  }
  DeferredDecrefs& d = deferred();
  std::lock_guard lock(d.mu);
  d.by_interp[interp_id].push_back(obj);
  // Relaxed: a hint only (see DeferredDecrefs).
  d.count.fetch_add(1, std::memory_order_relaxed);
}

void drain_deferred_decrefs() noexcept {
  DeferredDecrefs& d = deferred();
  // Relaxed: a hint only (see DeferredDecrefs).
  if (d.count.load(std::memory_order_relaxed) == 0) return;
  std::vector<PyObject*> mine;
  {
    std::lock_guard lock(d.mu);
    auto it = d.by_interp.find(current_interp_id());
    if (it == d.by_interp.end()) return;
    mine.swap(it->second);
    d.by_interp.erase(it);
    // Relaxed: a hint only.
    d.count.fetch_sub(mine.size(), std::memory_order_relaxed);
  }
  for (PyObject* o : mine) Py_DECREF(o);
}

Ref<PyCown> PyCown::make(PyObject* value) {
  Ref<PyCown> c(new PyCown(false), Ref<PyCown>::Adopt{});
  if (!parcel_encode(value != nullptr ? value : Py_None, c->parcel_)) return {};
  ++c->parcel_gen_;
  c->bare_handle_ = is_bare_handle(value, false);
  return c;
}

Ref<PyCown> PyCown::make_pinned(PyObject* value) {
  Ref<PyCown> c(new PyCown(true), Ref<PyCown>::Adopt{});
  c->live_ = Py_NewRef(value != nullptr ? value : Py_None);
  // Relaxed: the cown is not shared yet.
  c->owner_.store(0, std::memory_order_relaxed);  // the main interpreter, forever
  return c;
}

PyCown::~PyCown() {
  if (exception_ && !exception_text_.empty()) {
    std::fprintf(stderr, "Cown(%p) contains an unhandled exception: %s\n", static_cast<void*>(this),
                 exception_text_.c_str());
  }
  if (live_ != nullptr) {
    // Relaxed: the destructor runs after the last reference dropped (acq_rel).
    decref_in_interp(owner_.load(std::memory_order_relaxed), live_);
  }
}

bool PyCown::acquire(InterpState* st) {
  // One interpreter lookup for both (each is a thread-local lookup in libpython).
  if (st == nullptr) st = current_state();
  const std::int64_t me = st != nullptr ? st->interp_id : current_interp_id();
  if (pinned()) {
    if (me != 0) {
      PyErr_Format(PyExc_RuntimeError,
                   "cannot acquire pinned cown %p from non-main interpreter (interp=%lld); pinned cowns are owned "
                   "by the main interpreter and acquired only by the main pump",
                   static_cast<void*>(this), static_cast<long long>(me));
      return false;
    }
    return true;
  }
  std::int64_t expected = kNoOwner;
  // Acquire on success: pairs with the release store in release(); we see the
  // parcel the previous owner wrote.
  if (!owner_.compare_exchange_strong(expected, me, std::memory_order_acquire, std::memory_order_acquire)) {
    if (expected == me) return true;
    PyErr_Format(PyExc_RuntimeError, "%lld cannot acquire cown (already acquired by %lld)", static_cast<long long>(me),
                 static_cast<long long>(expected));
    return false;
  }
  if (poisoned_) {
    // Release: give ownership back unchanged.
    owner_.store(kNoOwner, std::memory_order_release);
    PyErr_SetString(PyExc_RuntimeError,
                    "cown is permanently unavailable: a previous acquire failed to deserialise its value");
    return false;
  }
  PyObject* value = nullptr;
  if (has_pending_error_) {
    value = PyObject_CallFunction(PyExc_RuntimeError, "s", pending_error_.c_str());
    if (value != nullptr) {
      has_pending_error_ = false;
      pending_error_.clear();
    }
  } else if (st != nullptr && st->kept && (value = st->kept->take(id(), parcel_gen_)) != nullptr &&
             reclaim_reusable(value)) {
    // This interpreter released it last and nobody could touch it since:
    // the object is what decoding the parcel would give (kept_values.h).
  } else {
    Py_CLEAR(value);  // a kept Matrix whose buffer another decode claimed
    value = parcel_decode(parcel_);
    if (value == nullptr)
      poisoned_ = true;
    else if (bare_handle_)
      value = as_bare_handle(value);
  }
  if (value == nullptr) {
    // Release: give ownership back.
    owner_.store(kNoOwner, std::memory_order_release);
    return false;
  }
  parcel_.clear();
  live_ = value;
  return true;
}

bool PyCown::release(InterpState* st, const Behavior* releasing) {
  if (pinned()) {
    if (current_interp_id() != 0) {
      PyErr_Format(PyExc_RuntimeError,
                   "cannot release pinned cown %p from non-main interpreter (interp=%lld); pinned cowns are owned "
                   "by the main interpreter",
                   static_cast<void*>(this), static_cast<long long>(current_interp_id()));
      return false;
    }
    return true;
  }
  if (st == nullptr) st = current_state();  // as in acquire()
  const std::int64_t me = st != nullptr ? st->interp_id : current_interp_id();
  const std::int64_t owner_now = owner();
  if (owner_now == kNoOwner) return true;
  if (owner_now != me) {
    PyErr_Format(PyExc_RuntimeError, "%lld cannot release cown (acquired by %lld)", static_cast<long long>(me),
                 static_cast<long long>(owner_now));
    return false;
  }
  // One reference for the releasing behavior: a PyBehavior's spec holds one per argument.
  if (releasing != nullptr && !exception_ && (live_ == nullptr || droppable_last_value(live_)) &&
      releasing->sole_holder_of(this, 1)) {
    // Nobody can acquire the cown again: its last value needs no parcel (a
    // fanout child's fresh cown; bocpy's examples/fanout_benchmark.py).
    Py_CLEAR(live_);
    ++parcel_gen_;
    // Release: as below, for the destructor's thread.
    owner_.store(kNoOwner, std::memory_order_release);
    return true;
  }
  if (!parcel_encode(live_ != nullptr ? live_ : Py_None, parcel_)) return false;
  ++parcel_gen_;
  bare_handle_ = is_bare_handle(live_, false);
  keep_or_clear_live(st);
  // Release: publishes the parcel to the next acquirer (see acquire()).
  owner_.store(kNoOwner, std::memory_order_release);
  return true;
}

void PyCown::keep_or_clear_live(InterpState* st) {
  bool was_tracked = false;
  if (live_ == nullptr || st == nullptr || !prepare_reusable(live_, &was_tracked)) {
    Py_CLEAR(live_);
    return;
  }
  if (!st->kept) st->kept = std::make_unique<KeptValues>();
  st->kept->keep(id(), parcel_gen_, std::exchange(live_, nullptr), was_tracked);
}

PyObject* PyCown::value_borrowed() {
  if (!owned_here()) {
    PyErr_SetString(PyExc_RuntimeError, "The current interpreter does not own this cown");
    return nullptr;
  }
  return live_ != nullptr ? live_ : Py_None;
}

bool PyCown::set_value(PyObject* value) {
  if (!owned_here()) {
    PyErr_SetString(PyExc_RuntimeError, "The current interpreter does not own this cown");
    return false;
  }
  Py_XSETREF(live_, Py_NewRef(value));
  exception_ = false;
  exception_text_.clear();
  return true;
}

bool PyCown::set_exception_flag(bool flag) {
  if (!owned_here()) {
    PyErr_SetString(PyExc_RuntimeError, "The current interpreter does not own this cown");
    return false;
  }
  exception_ = flag;
  exception_text_ =
      flag && live_ != nullptr && PyExceptionInstance_Check(live_) ? exception_text(live_) : std::string();
  return true;
}

void PyCown::store_result(PyObject* value, bool is_exception) {
  exception_text_ = is_exception ? exception_text(value) : std::string();
  if (pinned()) {  // never a result cown, but keep the invariant
    Py_XSETREF(live_, Py_NewRef(value));
    exception_ = is_exception;
    return;
  }
  has_pending_error_ = false;
  exception_ = is_exception;
  ++parcel_gen_;
  bare_handle_ = !is_exception && is_bare_handle(value, true);
  if (parcel_encode(value, parcel_)) return;
  bare_handle_ = false;
  // The value cannot cross interpreters: keep a short description instead
  // (its type and size, never its repr: a huge list would be copied whole).
  PyObject* exc = PyErr_GetRaisedException();
  std::string reason = exc != nullptr ? exception_text(exc) : std::string("unknown reason");
  Py_XDECREF(exc);
  constexpr std::size_t kMaxReason = 300;
  if (reason.size() > kMaxReason) reason = reason.substr(0, kMaxReason) + "...";
  std::string what = _PyType_Name(Py_TYPE(value));
  const Py_ssize_t n = PyObject_Size(value);
  if (n >= 0) what += " of " + std::to_string(n) + " items";
  PyErr_Clear();
  const std::string message = std::string(is_exception ? "exception" : "behavior") +
                              " result could not cross interpreters (" + reason + "): a " + what;
  PyObject* err =
      PyObject_CallFunction(PyExc_RuntimeError, "s#", message.data(), static_cast<Py_ssize_t>(message.size()));
  if (err == nullptr || !parcel_encode(err, parcel_)) {
    PyErr_Clear();
    parcel_.clear();
    pending_error_ = message;
    has_pending_error_ = true;
  }
  // Unconsumed, it is reported when the cown dies, like any behavior error.
  exception_text_ = "RuntimeError: " + message;
  exception_ = true;
  Py_XDECREF(err);
}

void PyCown::store_error_message(const std::string& message, bool report_if_unread) {
  exception_text_ = report_if_unread ? "RuntimeError: " + message : std::string();
  parcel_.clear();
  ++parcel_gen_;
  pending_error_ = message;
  has_pending_error_ = true;
  exception_ = true;
}

}  // namespace boc::py
