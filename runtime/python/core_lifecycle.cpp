// bocpy._core.start / running / worker_count / stop / quiesce and the
// interpreter-exit shutdown: the life of the process-wide runtime
// (bocpy_runtime.h) as bocpy's Python API drives it.
#include "core_lifecycle.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bocpy_runtime.h"
#include "log_forwarding.h"
#include "noticeboard.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"
#include "py_ref.h"
#include "worker_interpreters.h"

namespace boc::py {
namespace {

PyObject* core_start(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"worker_count", "bindings_source", "main_file", "sys_path",
                                 "log_levels",   "module_name",     nullptr};
  Py_ssize_t workers = 1;
  const char* source = "";
  const char* main_file = "";
  PyObject* sys_path = nullptr;
  PyObject* log_levels = nullptr;
  const char* module_name = "__main__";
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n|ssOOs:start", const_cast<char**>(kwlist), &workers, &source,
                                   &main_file, &sys_path, &log_levels, &module_name)) {
    return nullptr;
  }
  std::vector<std::pair<std::string, int>> levels;
  if (log_levels != nullptr && log_levels != Py_None) {
    PyRef fast(PySequence_Fast(log_levels, "log_levels must be a sequence of (name, level)"));
    if (!fast) return nullptr;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast.get()); ++i) {
      const char* name = nullptr;
      int level = 0;
      if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast.get(), i), "si:log_levels", &name, &level)) return nullptr;
      levels.emplace_back(name, level);
    }
  }
  std::vector<std::string> path;
  if (sys_path != nullptr && sys_path != Py_None) {
    PyObject* fast = PySequence_Fast(sys_path, "sys_path must be a sequence of str");
    if (fast == nullptr) return nullptr;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); ++i) {
      const char* p = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(fast, i));
      if (p == nullptr) {
        Py_DECREF(fast);
        return nullptr;
      }
      path.emplace_back(p);
    }
    Py_DECREF(fast);
  }
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "start() can only be called from the main interpreter");
    return nullptr;
  }
  if (workers < 1) {
    PyErr_SetString(PyExc_ValueError, "worker_count must be at least 1");
    return nullptr;
  }
  StartConfig config;
  config.workers = static_cast<std::size_t>(workers);
  config.bindings_source = source;
  config.main_file = main_file;
  config.sys_path = std::move(path);
  config.log_levels = std::move(levels);
  config.bindings_module = module_name;
  if (!BocpyRuntime::start(config)) return nullptr;
  Py_RETURN_NONE;
}

PyObject* core_running(PyObject*, PyObject*) { return PyBool_FromLong(BocpyRuntime::get() != nullptr); }

PyObject* core_worker_count(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  return PyLong_FromSize_t(rt != nullptr ? rt->worker_count() : 0);
}

PyObject* core_stop(PyObject*, PyObject*) {
  if (!in_main_interpreter()) Py_RETURN_NONE;
  BocpyRuntime::stop();
  Py_RETURN_NONE;
}

// bocpy's scheduler_request_stop_all(): stop() has begun. New behaviors are
// refused ("runtime is shutting down"); workers finish what they have, and
// pinned work nobody will pump is scheduler_drain_all_queues()'s
// (behavior_capsule.cpp). stop() then joins everything.
PyObject* core_scheduler_request_stop_all(PyObject*, PyObject*) {
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "scheduler_request_stop_all() must be called from the main interpreter");
    return nullptr;
  }
  if (BocpyRuntime* rt = BocpyRuntime::get()) rt->runtime().request_stop();
  Py_RETURN_NONE;
}

// stop()'s drain loop: parks (GIL released) up to `seconds` until nothing is
// in flight (TERMINATED) or pinned work is queued (PUMP_READY), else
// WAIT_TIMED_OUT. Holds and the seed do not count here: only behaviors.
PyObject* core_stop_drain_wait(PyObject*, PyObject* arg) {
  const double seconds = PyFloat_AsDouble(arg);
  if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) return PyLong_FromLong(0);
  const auto max_wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(std::isfinite(seconds) && seconds > 0 ? std::min(seconds, 1.0) : 0.0));
  WakeReason reason = WakeReason::kTimedOut;
  Py_BEGIN_ALLOW_THREADS reason = rt->runtime().wait_for_work(max_wait);
  Py_END_ALLOW_THREADS if (PyErr_CheckSignals() < 0) return nullptr;
  return PyLong_FromLong(reason == WakeReason::kTerminated ? 0 : reason == WakeReason::kPumpReady ? 1 : 2);
}

// bocpy's scheduler_runtime_stop(): here the scheduler is the runtime's worker
// pool, so this is stop(): queued work finishes, the workers are joined, and
// scheduler_stats() is [] afterwards. Idempotent.
PyObject* core_scheduler_runtime_stop(PyObject* module, PyObject* arg) { return core_stop(module, arg); }

// bocpy's worker threads claim their slots from Python; here the pool's own
// threads hold every slot from start() on, so a claim never finds a free one.
PyObject* core_scheduler_worker_register(PyObject*, PyObject*) {
  PyErr_SetString(PyExc_RuntimeError,
                  "scheduler_worker_register: no free worker slot (over-registration): the runtime's own "
                  "worker threads hold every slot");
  return nullptr;
}

// bocpy's recycle(): drops now the references other threads released for
// this interpreter (py_cown.h's deferred decrefs), instead of at the next
// runtime call that drains them.
PyObject* core_recycle(PyObject*, PyObject*) {
  drain_deferred_decrefs();
  Py_RETURN_NONE;
}

// Waits for quiescence on the main interpreter, pumping pinned work, with the
// GIL released while parked and signals checked every <= 20 ms.
PyObject* core_quiesce(PyObject*, PyObject* arg) {
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) Py_RETURN_TRUE;
  if (Runtime::in_pump_body() || in_behavior_body()) {
    PyErr_SetString(PyExc_RuntimeError, "wait()/quiesce() cannot be called from inside a behavior");
    return nullptr;
  }
  QuiesceOptions options;
  if (arg != Py_None) {
    const double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
    if (std::isnan(seconds)) {
      PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
      return nullptr;
    }
    if (seconds <= 1e9) {  // bocpy: more than 1e9 s means forever
      options.timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::duration<double>(seconds < 0 ? 0 : seconds));
    }
  }
  // The core's quiesce loop (park, pump pinned work in batches of 64), with
  // the GIL released while parked and signals checked every <= 20 ms.
  struct SignalPending {};
  options.max_slice = std::chrono::milliseconds(20);
  PyThreadState* ts = PyEval_SaveThread();
  options.after_slice = [&ts, rt] {
    PyEval_RestoreThread(ts);
    drain_deferred_decrefs();
    deliver_forwarded_logs();
    const int signalled = PyErr_CheckSignals();
    if (signalled < 0 && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      // Ctrl-C in main: the rest of the runtime stops too (interrupt.h).
      PyObject* exc = PyErr_GetRaisedException();
      rt->interrupt();
      PyErr_SetRaisedException(exc);
    }
    ts = PyEval_SaveThread();
    if (signalled < 0) throw SignalPending{};  // the exception stays set on ts
  };
  bool quiescent = false;
  try {
    quiescent = rt->runtime().quiesce(options);
  } catch (const SignalPending&) {
    PyEval_RestoreThread(ts);
    return nullptr;
  } catch (const PythonError& e) {
    PyEval_RestoreThread(ts);
    PyErr_SetRaisedException(Py_NewRef(e.get()));
    return nullptr;
  } catch (const std::exception& e) {
    PyEval_RestoreThread(ts);
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
  PyEval_RestoreThread(ts);
  drain_deferred_decrefs();
  deliver_forwarded_logs();
  return PyBool_FromLong(quiescent);
}

// atexit hook registered by the bocpy package on the main interpreter: the
// interpreter's exit finishes bocpy's work and ends the workers before
// finalisation starts (a stock python has no host to do it).
PyObject* core_shutdown_at_exit(PyObject*, PyObject*) {
  if (!in_main_interpreter()) Py_RETURN_NONE;
  // A program that ended with KeyboardInterrupt (python prints it and sets
  // sys.last_exc before atexit runs) stops the rest of the runtime too.
  PyObject* last = PySys_GetObject("last_exc");  // borrowed
  if (last != nullptr && PyErr_GivenExceptionMatches(last, PyExc_KeyboardInterrupt)) interrupt_live_runtime();
  shutdown_runtime_for_exit();
  Py_RETURN_NONE;
}

PyMethodDef lifecycle_methods[] = {
    {"start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_start)), METH_VARARGS | METH_KEYWORDS,
     "start(worker_count, bindings_source='', main_file='')"},
    {"running", core_running, METH_NOARGS, "True while a runtime is live."},
    {"worker_count", core_worker_count, METH_NOARGS, "Workers of the live runtime (0 without one)."},
    {"stop", core_stop, METH_NOARGS, "Tear the runtime down (after quiesce)."},
    {"scheduler_runtime_stop", core_scheduler_runtime_stop, METH_NOARGS, "As stop() (idempotent)."},
    {"scheduler_request_stop_all", core_scheduler_request_stop_all, METH_NOARGS,
     "Begin stopping: new behaviors are refused; queued ones still run or become orphans."},
    {"_stop_drain_wait", core_stop_drain_wait, METH_O,
     "_stop_drain_wait(seconds) -> TERMINATED, PUMP_READY or WAIT_TIMED_OUT (behaviors only)."},
    {"scheduler_worker_register", core_scheduler_worker_register, METH_NOARGS,
     "Always raises RuntimeError: the runtime's worker threads hold every slot."},
    {"recycle", core_recycle, METH_NOARGS, "Drop the references other threads released for this interpreter."},
    {"quiesce", core_quiesce, METH_O, "quiesce(timeout_seconds_or_None) -> bool"},
    {"_shutdown_at_exit", core_shutdown_at_exit, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_lifecycle_functions(PyObject* module) { return PyModule_AddFunctions(module, lifecycle_methods); }

void interrupt_live_runtime() {
  if (BocpyRuntime* rt = BocpyRuntime::get()) rt->interrupt();
}

void shutdown_runtime_for_exit() {
  if (BocpyRuntime::get() == nullptr) {
    end_parked_interpreters();
    return;
  }
  PyObject* saved = PyErr_GetRaisedException();
  // Finish the work, as wait() does, then tear down.
  for (;;) {
    PyObject* r = core_quiesce(nullptr, Py_None);
    if (r != nullptr) {
      Py_DECREF(r);
      break;
    }
    // A fatal pinned body or Ctrl-C: report it, keep draining what is left
    // (after Ctrl-C, nothing more starts). Never PyErr_Print: with
    // SystemExit pending it would exit the process.
    PyObject* exc = PyErr_GetRaisedException();
    if (exc != nullptr && PyErr_GivenExceptionMatches(exc, PyExc_KeyboardInterrupt)) {
      interrupt_live_runtime();
    } else if (exc != nullptr) {
      PyErr_DisplayException(exc);
    }
    Py_XDECREF(exc);
    if (BocpyRuntime::in_flight() == 0) break;
  }
  BocpyRuntime::stop();
  teardown_noticeboard();
  end_parked_interpreters();
  PyErr_SetRaisedException(saved);
}

}  // namespace boc::py
