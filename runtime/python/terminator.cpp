#include "terminator.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <thread>

#include "bocpy_runtime.h"
#include "py_compat.h"

namespace boc::py {
namespace {

// Why terminator_wait_pumpable() returned (bocpy's constants).
constexpr int kTerminated = 0;
constexpr int kPumpReady = 1;
constexpr int kWaitTimedOut = 2;

struct TerminatorState {
  // Relaxed throughout: each is an independent count or flag read by
  // diagnostics and polled by waits; none orders other memory.
  std::atomic<std::int64_t> holds{0};
  std::atomic<bool> seeded{false};
  std::atomic<bool> closed{true};
};

TerminatorState& state() {
  static TerminatorState s;
  return s;
}

std::int64_t count() {
  TerminatorState& s = state();
  return static_cast<std::int64_t>(BocpyRuntime::in_flight()) + s.holds.load(std::memory_order_relaxed) +
         (s.seeded.load(std::memory_order_relaxed) ? 1 : 0);
}

PyObject* t_count(PyObject*, PyObject*) { return PyLong_FromLongLong(count()); }

PyObject* t_seeded(PyObject*, PyObject*) {
  return PyLong_FromLong(state().seeded.load(std::memory_order_relaxed) ? 1 : 0);
}

PyObject* t_inc(PyObject*, PyObject*) {
  TerminatorState& s = state();
  if (s.closed.load(std::memory_order_relaxed)) return PyLong_FromLong(-1);
  s.holds.fetch_add(1, std::memory_order_relaxed);
  return PyLong_FromLongLong(count());
}

// Never below zero: a dec without its inc (a test's or a replaced
// terminator_inc's) must not eat another caller's hold count into negatives.
void drop_hold() noexcept {
  TerminatorState& s = state();
  std::int64_t h = s.holds.load(std::memory_order_relaxed);
  while (h > 0 && !s.holds.compare_exchange_weak(h, h - 1, std::memory_order_relaxed)) {
  }
}

PyObject* t_dec(PyObject*, PyObject*) {
  drop_hold();
  return PyLong_FromLongLong(count());
}

bool require_primary(const char* op) {
  if (in_main_interpreter()) return true;
  PyErr_Format(PyExc_RuntimeError, "%s must be called from the primary interpreter", op);
  return false;
}

PyObject* t_seed_dec(PyObject*, PyObject*) {
  if (!require_primary("terminator_seed_dec")) return nullptr;
  return PyBool_FromLong(state().seeded.exchange(false, std::memory_order_relaxed));
}

PyObject* t_seed_inc(PyObject*, PyObject*) {
  if (!require_primary("terminator_seed_inc")) return nullptr;
  return PyBool_FromLong(!state().seeded.exchange(true, std::memory_order_relaxed));
}

PyObject* t_close(PyObject*, PyObject*) {
  if (!require_primary("terminator_close")) return nullptr;
  state().closed.store(true, std::memory_order_relaxed);
  Py_RETURN_NONE;
}

// Back to a fresh runtime's state; returns what was there before.
PyObject* t_reset(PyObject*, PyObject*) {
  if (!require_primary("terminator_reset")) return nullptr;
  TerminatorState& s = state();
  const std::int64_t prior = count();
  const bool prior_seeded = s.seeded.load(std::memory_order_relaxed);
  s.holds.store(0, std::memory_order_relaxed);
  s.seeded.store(BocpyRuntime::get() != nullptr, std::memory_order_relaxed);
  s.closed.store(false, std::memory_order_relaxed);
  return Py_BuildValue("(Li)", static_cast<long long>(prior), prior_seeded ? 1 : 0);
}

// timeout: None or negative waits forever; NaN is refused.
bool parse_timeout(PyObject* arg, std::optional<std::chrono::steady_clock::time_point>& until) {
  if (arg == Py_None) return true;
  const double t = PyFloat_AsDouble(arg);
  if (t == -1.0 && PyErr_Occurred()) return false;
  if (std::isnan(t)) {
    PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
    return false;
  }
  if (t < 0 || std::isinf(t) || t > 1e9) return true;
  until = std::chrono::steady_clock::now() +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t));
  return true;
}

// Polls (GIL released, 1 ms naps, signals checked) until `done` says why to stop.
template <class Done>
PyObject* wait_until(PyObject* arg, Done done) {
  std::optional<std::chrono::steady_clock::time_point> until;
  if (!parse_timeout(arg, until)) return nullptr;
  for (;;) {
    if (const int reason = done(); reason >= 0) return PyLong_FromLong(reason);
    if (until && std::chrono::steady_clock::now() >= *until) return PyLong_FromLong(kWaitTimedOut);
    Py_BEGIN_ALLOW_THREADS std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Py_END_ALLOW_THREADS if (PyErr_CheckSignals() < 0) return nullptr;
  }
}

PyObject* t_wait(PyObject*, PyObject* arg) {
  PyObject* r = wait_until(arg, [] { return count() == 0 ? kTerminated : -1; });
  if (r == nullptr) return nullptr;
  const long reason = PyLong_AsLong(r);
  Py_DECREF(r);
  return PyBool_FromLong(reason == kTerminated);
}

PyObject* t_wait_pumpable(PyObject*, PyObject* arg) {
  return wait_until(arg, [] {
    if (count() == 0) return kTerminated;
    BocpyRuntime* rt = BocpyRuntime::get();
    return rt != nullptr && rt->runtime().pinned_depth() > 0 ? kPumpReady : -1;
  });
}

PyMethodDef terminator_methods[] = {
    {"terminator_count", t_count, METH_NOARGS, "Behaviors in flight + holds + 1 while the runtime is seeded."},
    {"terminator_seeded", t_seeded, METH_NOARGS, "1 while the runtime's seed is held."},
    {"terminator_inc", t_inc, METH_NOARGS, "Take a hold; -1 once closed."},
    {"terminator_dec", t_dec, METH_NOARGS, "Drop a hold; returns the count."},
    {"terminator_seed_dec", t_seed_dec, METH_NOARGS, "Drop the runtime's seed hold; True if it was held."},
    {"terminator_seed_inc", t_seed_inc, METH_NOARGS, "Restore the runtime's seed hold; True if it was not held."},
    {"terminator_close", t_close, METH_NOARGS, "Refuse further holds."},
    {"terminator_reset", t_reset, METH_NOARGS, "Reset to a fresh runtime's state -> (prior_count, prior_seeded)."},
    {"terminator_wait", t_wait, METH_O, "terminator_wait(timeout) -> True once the count is zero."},
    {"terminator_wait_pumpable", t_wait_pumpable, METH_O,
     "terminator_wait_pumpable(timeout) -> TERMINATED, PUMP_READY or WAIT_TIMED_OUT."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

bool terminator_busy() noexcept {
  return BocpyRuntime::in_flight() > 0 || state().holds.load(std::memory_order_relaxed) > 0;
}

bool terminator_closed() noexcept { return state().closed.load(std::memory_order_relaxed); }

void terminator_hand_over_hold() noexcept { drop_hold(); }

void terminator_started() noexcept {
  state().seeded.store(true, std::memory_order_relaxed);
  state().closed.store(false, std::memory_order_relaxed);
}

void terminator_stopped() noexcept {
  state().seeded.store(false, std::memory_order_relaxed);
  state().closed.store(true, std::memory_order_relaxed);
}

int add_terminator_functions(PyObject* module) {
  if (PyModule_AddIntConstant(module, "TERMINATED", kTerminated) < 0 ||
      PyModule_AddIntConstant(module, "PUMP_READY", kPumpReady) < 0 ||
      PyModule_AddIntConstant(module, "WAIT_TIMED_OUT", kWaitTimedOut) < 0) {
    return -1;
  }
  return PyModule_AddFunctions(module, terminator_methods);
}

}  // namespace boc::py
