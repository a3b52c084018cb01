// bocpy._core.pump and its settings: the pump's argument checks and error
// mapping, the PumpResult type, the starvation watchdog and the wait() poll.
#include "core_pump.h"

#include <chrono>
#include <limits>
#include <optional>

#include "bocpy_runtime.h"
#include "interp_state.h"
#include "log_forwarding.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"

namespace boc::py {
namespace {

constexpr long long kMaxPumpMs = static_cast<long long>((1ULL << 63) / 1'000'000ULL) - 1;

bool bound_arg(PyObject* obj, const char* name, std::optional<long long>& out, bool is_ms) {
  if (obj == Py_None) return true;
  if (!PyLong_Check(obj) || PyBool_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a positive int or None, got %R", name, obj);
    return false;
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (v == -1 && PyErr_Occurred()) return false;
  if (overflow > 0) {
    if (is_ms) {
      PyErr_Format(PyExc_OverflowError, "%s=%R exceeds the maximum of %lld ms", name, obj, kMaxPumpMs);
      return false;
    }
    out = std::numeric_limits<long long>::max();
    return true;
  }
  if (v <= 0 || overflow < 0) {
    PyErr_Format(PyExc_TypeError, "%s must be a positive int or None, got %R", name, obj);
    return false;
  }
  if (is_ms && v > kMaxPumpMs) {
    PyErr_Format(PyExc_OverflowError, "%s=%lld exceeds the maximum of %lld ms", name, v, kMaxPumpMs);
    return false;
  }
  out = v;
  return true;
}

PyObject* raise_pump_error(const PumpError& e) {
  switch (e.kind()) {
    case PumpError::Kind::kConcurrentPumper:
      PyErr_SetString(PyExc_RuntimeError, "pump() is in use by another thread");
      break;
    case PumpError::Kind::kReentrant: PyErr_SetString(PyExc_RuntimeError, kPumpNotReentrant); break;
    default: PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

PyObject* core_pump(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"deadline_ms", "max_behaviors", "raise_on_error", nullptr};
  PyObject* deadline_obj = Py_None;
  PyObject* max_obj = Py_None;
  int raise_on_error = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOp:pump", const_cast<char**>(kwlist), &deadline_obj, &max_obj,
                                   &raise_on_error)) {
    return nullptr;
  }
  std::optional<long long> deadline;
  std::optional<long long> max_behaviors;
  if (!bound_arg(deadline_obj, "deadline_ms", deadline, true) ||
      !bound_arg(max_obj, "max_behaviors", max_behaviors, false)) {
    return nullptr;
  }
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr || !in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "pump() requires a live bocpy runtime: call bocpy.start() (or schedule a @when, which "
                    "auto-starts) before pump(). Worker interpreters never pump.");
    return nullptr;
  }
  if (Runtime::in_pump_body()) {
    PyErr_SetString(PyExc_RuntimeError, kPumpNotReentrant);
    return nullptr;
  }
  PumpOptions opts;
  if (deadline) opts.deadline = std::chrono::milliseconds(*deadline);
  if (max_behaviors) opts.max_behaviors = static_cast<std::size_t>(*max_behaviors);
  opts.raise_on_error = raise_on_error != 0;
  PumpReport report;
  try {
    report = rt->runtime().pump_report(opts);
  } catch (const PumpError& e) {
    return raise_pump_error(e);
  }
  drain_deferred_decrefs();
  deliver_forwarded_logs_if_queued();
  if ((report.stop == PumpStop::kError || report.stop == PumpStop::kFatal) && report.error) {
    try {
      std::rethrow_exception(report.error);
    } catch (const PythonError& e) {
      PyErr_SetRaisedException(Py_NewRef(e.get()));
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
      PyErr_SetString(PyExc_RuntimeError, "pinned behavior failed");
    }
    return nullptr;
  }
  InterpState* st = current_state();
  PyObject* fields[3] = {PyLong_FromSize_t(report.result.executed),
                         Py_NewRef(report.result.deadline_reached ? Py_True : Py_False),
                         PyLong_FromSize_t(report.result.raised)};
  PyObject* out = nullptr;
  if (fields[0] != nullptr && fields[2] != nullptr) {
    out = st != nullptr && st->pump_result_type != nullptr
              ? PyObject_Vectorcall(st->pump_result_type, fields, 3, nullptr)
              : PyTuple_Pack(3, fields[0], fields[1], fields[2]);
  }
  for (PyObject* f : fields) Py_XDECREF(f);
  return out;
}

// bocpy.behaviors._validate_pump_bound(name, value, ms=False): bound_arg for
// Python (bocpy's own tests call it); returns value itself, never a clamp.
PyObject* core_validate_pump_bound(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"name", "value", "ms", nullptr};
  const char* name = nullptr;
  PyObject* value = nullptr;
  int ms = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|p:_validate_pump_bound", const_cast<char**>(kwlist), &name, &value,
                                   &ms)) {
    return nullptr;
  }
  std::optional<long long> bound;
  if (!bound_arg(value, name, bound, ms != 0)) return nullptr;
  return Py_NewRef(value);
}

PyObject* core_set_pump_result_type(PyObject* module, PyObject* type) {
  Py_XSETREF(core_state(module)->pump_result_type, Py_NewRef(type));
  Py_RETURN_NONE;
}

PyObject* core_set_pump_watchdog(PyObject*, PyObject* args) {
  PyObject* warn = Py_None;
  PyObject* callback = Py_None;
  if (!PyArg_ParseTuple(args, "OO:set_pump_watchdog", &warn, &callback)) return nullptr;
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "set_pump_watchdog() must be called from the main interpreter");
    return nullptr;
  }
  std::optional<std::chrono::milliseconds> threshold;
  if (warn != Py_None) {
    const long long ms = PyLong_AsLongLong(warn);
    if (ms == -1 && PyErr_Occurred()) return nullptr;
    threshold = std::chrono::milliseconds(ms);
  }
  BocpyRuntime::set_watchdog(threshold, callback == Py_None ? nullptr : callback);
  Py_RETURN_NONE;
}

PyObject* core_set_wait_pump_poll(PyObject*, PyObject* arg) {
  const long long ms = PyLong_AsLongLong(arg);
  if (ms == -1 && PyErr_Occurred()) return nullptr;
  if (ms <= 0) {
    PyErr_SetString(PyExc_ValueError, "wait pump poll must be positive");
    return nullptr;
  }
  BocpyRuntime::set_wait_pump_poll(std::chrono::milliseconds(ms));
  Py_RETURN_NONE;
}

PyObject* core_wait_pump_poll(PyObject*, PyObject*) {
  return PyLong_FromLongLong(static_cast<long long>(BocpyRuntime::wait_pump_poll().count()));
}

PyMethodDef pump_methods[] = {
    {"pump", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_pump)), METH_VARARGS | METH_KEYWORDS,
     "pump(deadline_ms=None, max_behaviors=None, raise_on_error=False) -> (executed, deadline_reached, raised)"},
    {"set_pump_watchdog", core_set_pump_watchdog, METH_VARARGS, "set_pump_watchdog(warn_ms_or_None, on_starve)"},
    {"set_wait_pump_poll", core_set_wait_pump_poll, METH_O, "set_wait_pump_poll(ms)"},
    {"wait_pump_poll", core_wait_pump_poll, METH_NOARGS, "The wait() auto-pump poll in ms."},
    {"_set_pump_result_type", core_set_pump_result_type, METH_O, nullptr},
    {"_validate_pump_bound", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_validate_pump_bound)),
     METH_VARARGS | METH_KEYWORDS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_pump_functions(PyObject* module) { return PyModule_AddFunctions(module, pump_methods); }

}  // namespace boc::py
