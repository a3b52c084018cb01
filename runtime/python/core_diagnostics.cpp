// bocpy._core's read-only views of the runtime: pinned-queue depth and age,
// in-flight count, per-worker scheduler counters; and main_pump_drain_all.
#include "core_diagnostics.h"

#include "bocpy_runtime.h"
#include "interp_state.h"
#include "module_cown.h"
#include "py_compat.h"
#include "py_cown.h"
#include "py_ref.h"

namespace boc::py {
namespace {

PyObject* core_main_pump_queue_depth(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  return PyLong_FromSize_t(rt != nullptr ? rt->runtime().pinned_depth() : 0);
}

PyObject* core_main_pump_queue_age_ms(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  return PyLong_FromLongLong(rt != nullptr ? rt->runtime().pinned_age_ms() : 0);
}

PyObject* core_main_pump_drain_all(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) return PyLong_FromLong(0);
  const std::size_t n = rt->runtime().drain_pinned_without_running();
  drain_deferred_decrefs();
  return PyLong_FromSize_t(n);
}

PyObject* core_is_primary(PyObject*, PyObject*) { return PyBool_FromLong(in_main_interpreter()); }

PyObject* core_in_flight(PyObject*, PyObject*) { return PyLong_FromSize_t(BocpyRuntime::in_flight()); }

PyObject* core_cown_is_pinned(PyObject* module, PyObject* arg) {
  PyCown* c = cown_of(core_state(module), arg);
  if (c == nullptr) {
    PyErr_SetString(PyExc_TypeError, "expected a cown");
    return nullptr;
  }
  return PyBool_FromLong(c->pinned());
}

PyObject* core_stats(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) return PyDict_New();
  const RuntimeStats s = rt->runtime().stats();
  return Py_BuildValue("{s:K,s:K,s:K,s:K,s:n,s:n,s:n}", "scheduled", static_cast<unsigned long long>(s.scheduled),
                       "completed", static_cast<unsigned long long>(s.completed), "pinned_executed",
                       static_cast<unsigned long long>(s.pinned_executed), "cancelled",
                       static_cast<unsigned long long>(s.cancelled), "in_flight", static_cast<Py_ssize_t>(s.in_flight),
                       "pinned_depth", static_cast<Py_ssize_t>(s.pinned_depth), "workers",
                       static_cast<Py_ssize_t>(rt->worker_count()));
}

// Per-worker scheduler counters under bocpy's scheduler_stats() keys, one dict
// per worker. The pool's queues are mutex-guarded (runtime/core/worker_pool.h),
// so bocpy's CAS-retry keys count contended lock acquisitions, and its
// fairness-arm key counts the pool's sharing of private work with idle workers.
PyObject* core_scheduler_stats(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) return PyList_New(0);
  using ull = unsigned long long;
  return list_of(rt->runtime().worker_stats(), [](const WorkerStats& w) {
    return Py_BuildValue(
        "{s:n,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "worker_index",
        static_cast<Py_ssize_t>(w.worker_index), "pushed_local", static_cast<ull>(w.pushed_local),
        "dispatched_to_pending", static_cast<ull>(w.dispatched_to_pending), "pushed_remote",
        static_cast<ull>(w.pushed_remote), "popped_local", static_cast<ull>(w.popped_local), "popped_via_steal",
        static_cast<ull>(w.popped_via_steal), "enqueue_cas_retries", static_cast<ull>(w.enqueue_contended),
        "dequeue_cas_retries", static_cast<ull>(w.dequeue_contended), "batch_resets", static_cast<ull>(w.batch_resets),
        "steal_attempts", static_cast<ull>(w.steal_attempts), "steal_failures", static_cast<ull>(w.steal_failures),
        "parked", static_cast<ull>(w.parked), "last_steal_attempt_ns", static_cast<ull>(w.last_steal_attempt_ns),
        "fairness_arm_fires", static_cast<ull>(w.shares));
  });
}

PyMethodDef diagnostics_methods[] = {
    {"main_pump_queue_depth", core_main_pump_queue_depth, METH_NOARGS, "Pinned behaviors waiting for pump()."},
    {"main_pump_queue_age_ms", core_main_pump_queue_age_ms, METH_NOARGS, "How long the pinned queue is non-empty."},
    {"main_pump_drain_all", core_main_pump_drain_all, METH_NOARGS,
     "Fail every queued pinned behavior without running it; returns how many."},
    {"is_primary", core_is_primary, METH_NOARGS, "True in the main interpreter."},
    {"in_flight", core_in_flight, METH_NOARGS, "Behaviors scheduled and not yet completed."},
    {"cown_is_pinned", core_cown_is_pinned, METH_O, "True if the handle's cown is pinned."},
    {"stats", core_stats, METH_NOARGS, "Runtime counters."},
    {"scheduler_stats", core_scheduler_stats, METH_NOARGS, "Per-worker scheduler counters (list of dicts)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_diagnostics_functions(PyObject* module) { return PyModule_AddFunctions(module, diagnostics_methods); }

}  // namespace boc::py
