// The `bocpy._core` module: scheduling (when/whencall), lifecycle
// (start/quiesce/stop), the pump and watchdog settings, diagnostics.
#include "module_core.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "behavior_code.h"
#include "py_ref.h"
#include "bocpy_runtime.h"
#include "interp_state.h"
#include "log_forwarding.h"
#include "matrix_module.h"
#include "messaging.h"
#include "noticeboard.h"
#include "module_cown.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"
#include "system_info.h"
#include "terminator.h"
#include "worker_interpreters.h"
#include "worker_bindings.h"

namespace boc::py {
namespace {

InterpState* module_state(PyObject* module) { return static_cast<InterpState*>(PyModule_GetState(module)); }

// ---------------------------------------------------------------- scheduling

// Starts a runtime from Python (bocpy.behaviors._auto_start) when @when is
// used before start() on the main interpreter.
bool ensure_runtime() {
  if (BocpyRuntime::get() != nullptr) return true;
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot schedule behavior: bocpy runtime is not running. Call bocpy.start() on the main "
                    "interpreter first.");
    return false;
  }
  PyObject* mod = PyImport_ImportModule("bocpy.behaviors");
  if (mod == nullptr) return false;
  PyObject* r = PyObject_CallMethod(mod, "_auto_start", nullptr);
  Py_DECREF(mod);
  if (r == nullptr) return false;
  Py_DECREF(r);
  if (BocpyRuntime::get() == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "cannot schedule behavior: bocpy runtime is not running");
    return false;
  }
  return true;
}

bool parse_cown_args(InterpState* st, PyObject* seq, std::vector<CownArg>& out, bool& any_pinned) {
  PyObject* fast = PySequence_Fast(seq, "can only schedule over cowns or sequences of cowns");
  if (fast == nullptr) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  out.reserve(static_cast<std::size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fast, i);
    CownArg arg;
    if (PyCown* c = cown_of(st, item)) {
      arg.cowns.emplace_back(c);
      any_pinned = any_pinned || c->pinned();
    } else if (PyList_Check(item) || PyTuple_Check(item)) {
      arg.group = true;
      const Py_ssize_t m = PySequence_Size(item);
      for (Py_ssize_t k = 0; k < m; ++k) {
        PyObject* member = PySequence_GetItem(item, k);
        PyCown* mc = cown_of(st, member);
        Py_XDECREF(member);
        if (mc == nullptr) {
          Py_DECREF(fast);
          PyErr_SetString(PyExc_TypeError, "can only schedule over cowns or sequences of cowns");
          return false;
        }
        arg.cowns.emplace_back(mc);
        any_pinned = any_pinned || mc->pinned();
      }
    } else {
      Py_DECREF(fast);
      PyErr_SetString(PyExc_TypeError, "can only schedule over cowns or sequences of cowns");
      return false;
    }
    out.push_back(std::move(arg));
  }
  Py_DECREF(fast);
  return true;
}

// Checks bocpy's parameter shape: the first n params take the cowns, every
// remaining positional param has a default (its capture). A *args body takes
// any extra cowns (the `def _writeback(*args)` form of the demo's write-back).
bool check_shape(PyObject* fn, std::size_t n_cowns, PyObject* defaults, bool& captures_apply) {
  auto* code = reinterpret_cast<PyCodeObject*>(PyFunction_GetCode(fn));
  const auto n_params = static_cast<std::size_t>(code->co_argcount);
  const std::size_t n_caps = defaults != nullptr ? static_cast<std::size_t>(PyTuple_GET_SIZE(defaults)) : 0;
  const bool varargs = (code->co_flags & CO_VARARGS) != 0;
  captures_apply = true;
  if (n_params < n_cowns) {
    if (varargs) {
      captures_apply = false;  // defaults sit on cown parameters: nothing to capture
      return true;
    }
    PyErr_Format(PyExc_TypeError,
                 "behavior %U takes %zu positional parameter(s) but is scheduled over %zu cown argument(s)",
                 code->co_qualname, n_params, n_cowns);
    return false;
  }
  if (n_params - n_cowns != n_caps) {
    PyErr_Format(PyExc_TypeError,
                 "behavior %U: the %zu parameter(s) after the %zu cown parameter(s) must all have defaults "
                 "(captures), but %zu default(s) were given",
                 code->co_qualname, n_params - n_cowns, n_cowns, n_caps);
    return false;
  }
  return true;
}

// Snapshot of the function's closure cells (nullptr when it has none).
PyObject* closure_snapshot(PyObject* fn) {
  PyObject* closure = PyFunction_GetClosure(fn);  // borrowed
  if (closure == nullptr || closure == Py_None) return Py_NewRef(Py_None);
  const Py_ssize_t n = PyTuple_GET_SIZE(closure);
  PyObject* values = PyTuple_New(n);
  if (values == nullptr) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* v = PyCell_GET(PyTuple_GET_ITEM(closure, i));
    if (v == nullptr) {
      auto* code = reinterpret_cast<PyCodeObject*>(PyFunction_GetCode(fn));
      PyObject* names = PyCode_GetFreevars(code);
      PyErr_Format(PyExc_NameError, "behavior %U captures free variable %R before it is bound",
                   code->co_qualname, names != nullptr ? PyTuple_GetItem(names, i) : Py_None);
      Py_XDECREF(names);
      Py_DECREF(values);
      return nullptr;
    }
    PyTuple_SET_ITEM(values, i, Py_NewRef(v));
  }
  return values;
}

PyObject* schedule(InterpState* st, PyObject* fn, PyObject* cown_seq, PyObject* captures, bool validate) {
  if (st->loading_bindings) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot schedule behaviors while a worker loads the script's bindings (module-level @when "
                    "statements run only on the main interpreter)");
    return nullptr;
  }
  if (PyUnicode_Check(fn)) {
    PyErr_SetString(PyExc_TypeError,
                    "whencall() takes a behavior function, not a thunk name; scheduling by name was removed in bocpy 0.11.0");
    return nullptr;
  }
  if (!PyFunction_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "a behavior must be a Python function, got %s", Py_TYPE(fn)->tp_name);
    return nullptr;
  }
  std::vector<CownArg> args;
  bool any_pinned = false;
  if (!parse_cown_args(st, cown_seq, args, any_pinned)) return nullptr;

  PyObject* defaults = PyFunction_GetDefaults(fn);  // borrowed, may be nullptr
  bool captures_apply = true;
  if (validate) {
    if (defaults == Py_None) defaults = nullptr;
    if (!check_shape(fn, args.size(), defaults, captures_apply)) return nullptr;
  }
  // @when starts a runtime on first use; whencall requires one (bocpy §1.4).
  if (validate ? !ensure_runtime() : BocpyRuntime::get() == nullptr) {
    if (!PyErr_Occurred()) {
      PyErr_SetString(PyExc_RuntimeError,
                      "cannot schedule behavior: bocpy runtime is not running. Call bocpy.start() first (or use "
                      "@when, which starts it).");
    }
    return nullptr;
  }
  const std::int64_t code_id = register_behavior_code(st, fn);
  if (code_id < 0) return nullptr;

  PyBehavior::Spec spec;
  spec.code_id = static_cast<std::uint64_t>(code_id);
  // Captures are snapshots taken now, like bocpy's capture cowns.
  PyRef caps;
  if (validate) {
    caps.reset((captures_apply && defaults != nullptr) ? Py_NewRef(defaults) : PyTuple_New(0));
  } else {
    caps.reset(captures != nullptr && captures != Py_None ? PySequence_Tuple(captures) : PyTuple_New(0));
  }
  if (!caps) return nullptr;
  if (PyTuple_GET_SIZE(caps.get()) > 0 && !parcel_encode(caps.get(), spec.captures)) {
    // A pinned body scheduled on main may capture what cannot cross: it never leaves main.
    if (!any_pinned || !in_main_interpreter()) return nullptr;
    PyErr_Clear();
    spec.raw_captures = MainInterpRef(caps.release());  // owned by the spec from here on, on every return
  }
  PyRef closure(closure_snapshot(fn));
  if (!closure) return nullptr;
  if (closure.get() != Py_None && !parcel_encode(closure.get(), spec.closure)) return nullptr;

  // Outside a behavior, a cown this interpreter holds (e.g. rescued by wait())
  // is handed back before the runtime schedules on it.
  if (!in_behavior_body()) {
    for (const CownArg& a : args) {
      for (const auto& c : a.cowns) {
        if (!c->pinned() && c->owned_here() && !c->release()) return nullptr;
      }
    }
  }
  spec.args = std::move(args);
  spec.result = PyCown::make(Py_None);
  if (!spec.result) return nullptr;
  Ref<PyCown> result = spec.result;
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return nullptr;
  }
  try {
    rt->runtime().schedule(PyBehavior::create(std::move(spec)));
  } catch (const PumpError&) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return nullptr;
  }
  return new_cown_handle(st, result);
}

// ---- the @when decorator object

struct WhenObject {
  PyObject_HEAD
  PyObject* cowns;  // tuple
};

void when_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  Py_CLEAR(reinterpret_cast<WhenObject*>(self)->cowns);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyObject* when_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* fn = nullptr;
  if (kwargs != nullptr && PyDict_GET_SIZE(kwargs) > 0) {
    PyErr_SetString(PyExc_TypeError, "@when(...) decorates a function and takes no keyword arguments");
    return nullptr;
  }
  if (!PyArg_UnpackTuple(args, "when", 1, 1, &fn)) return nullptr;
  InterpState* st = current_state();
  return schedule(st, fn, reinterpret_cast<WhenObject*>(self)->cowns, nullptr, true);
}

PyType_Slot when_slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(when_dealloc)},
                            {Py_tp_call, reinterpret_cast<void*>(when_call)},
                            {Py_tp_doc, const_cast<char*>("The decorator returned by when(*cowns).")},
                            {0, nullptr}};
PyType_Spec when_spec = {"bocpy._core._When", sizeof(WhenObject), 0, Py_TPFLAGS_DEFAULT, when_slots};

PyObject* core_when(PyObject* module, PyObject* args) {
  InterpState* st = module_state(module);
  auto* w = PyObject_New(WhenObject, st->when_type);
  if (w == nullptr) return nullptr;
  w->cowns = Py_NewRef(args);
  return reinterpret_cast<PyObject*>(w);
}

PyObject* core_whencall(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "whencall(func, args, captures) takes exactly 3 arguments");
    return nullptr;
  }
  return schedule(module_state(module), args[0], args[1], args[2], false);
}

// ---------------------------------------------------------------- lifecycle

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

// ---------------------------------------------------------------- pump

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
    case PumpError::Kind::kReentrant:
      PyErr_SetString(PyExc_RuntimeError,
                      "pump() is not reentrant; cannot be called from inside a pinned-behavior body (v1 limitation)");
      break;
    default:
      PyErr_SetString(PyExc_RuntimeError, e.what());
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
    PyErr_SetString(PyExc_RuntimeError,
                    "pump() is not reentrant; cannot be called from inside a pinned-behavior body (v1 limitation)");
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

PyObject* core_set_pump_result_type(PyObject* module, PyObject* type) {
  Py_XSETREF(module_state(module)->pump_result_type, Py_NewRef(type));
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

// ---------------------------------------------------------------- diagnostics

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
  PyCown* c = cown_of(module_state(module), arg);
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
                       static_cast<unsigned long long>(s.cancelled), "in_flight",
                       static_cast<Py_ssize_t>(s.in_flight), "pinned_depth", static_cast<Py_ssize_t>(s.pinned_depth),
                       "workers", static_cast<Py_ssize_t>(rt->worker_count()));
}

// Per-worker scheduler counters (bocpy's scheduler_stats(): one dict per worker).
PyObject* core_scheduler_stats(PyObject*, PyObject*) {
  BocpyRuntime* rt = BocpyRuntime::get();
  PyObject* out = PyList_New(0);
  if (rt == nullptr || out == nullptr) return out;
  for (const WorkerStats& w : rt->runtime().worker_stats()) {
    PyObject* d = Py_BuildValue("{s:n,s:K,s:K,s:K,s:K,s:K}", "worker_index", static_cast<Py_ssize_t>(w.worker_index),
                                "pushed_local", static_cast<unsigned long long>(w.pushed_local), "pushed_remote",
                                static_cast<unsigned long long>(w.pushed_remote), "popped_local",
                                static_cast<unsigned long long>(w.popped_local), "popped_via_steal",
                                static_cast<unsigned long long>(w.popped_via_steal), "parked",
                                static_cast<unsigned long long>(w.parked));
    if (d == nullptr || PyList_Append(out, d) < 0) {
      Py_XDECREF(d);
      Py_DECREF(out);
      return nullptr;
    }
    Py_DECREF(d);
  }
  return out;
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

PyMethodDef core_methods[] = {
    {"when", reinterpret_cast<PyCFunction>(core_when), METH_VARARGS,
     "when(*cowns): decorator scheduling the function as a behavior over the cowns; returns its result Cown."},
    {"whencall", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_whencall)), METH_FASTCALL,
     "whencall(func, args, captures) -> Cown"},
    {"start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_start)), METH_VARARGS | METH_KEYWORDS,
     "start(worker_count, bindings_source='', main_file='')"},
    {"running", core_running, METH_NOARGS, "True while a runtime is live."},
    {"worker_count", core_worker_count, METH_NOARGS, "Workers of the live runtime (0 without one)."},
    {"stop", core_stop, METH_NOARGS, "Tear the runtime down (after quiesce)."},
    {"quiesce", core_quiesce, METH_O, "quiesce(timeout_seconds_or_None) -> bool"},
    {"pump", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_pump)), METH_VARARGS | METH_KEYWORDS,
     "pump(deadline_ms=None, max_behaviors=None, raise_on_error=False) -> (executed, deadline_reached, raised)"},
    {"set_pump_watchdog", core_set_pump_watchdog, METH_VARARGS, "set_pump_watchdog(warn_ms_or_None, on_starve)"},
    {"set_wait_pump_poll", core_set_wait_pump_poll, METH_O, "set_wait_pump_poll(ms)"},
    {"wait_pump_poll", core_wait_pump_poll, METH_NOARGS, "The wait() auto-pump poll in ms."},
    {"main_pump_queue_depth", core_main_pump_queue_depth, METH_NOARGS, "Pinned behaviors waiting for pump()."},
    {"main_pump_queue_age_ms", core_main_pump_queue_age_ms, METH_NOARGS, "How long the pinned queue is non-empty."},
    {"main_pump_drain_all", core_main_pump_drain_all, METH_NOARGS,
     "Fail every queued pinned behavior without running it; returns how many."},
    {"is_primary", core_is_primary, METH_NOARGS, "True in the main interpreter."},
    {"in_flight", core_in_flight, METH_NOARGS, "Behaviors scheduled and not yet completed."},
    {"cown_is_pinned", core_cown_is_pinned, METH_O, "True if the handle's cown is pinned."},
    {"stats", core_stats, METH_NOARGS, "Runtime counters."},
    {"scheduler_stats", core_scheduler_stats, METH_NOARGS, "Per-worker scheduler counters (list of dicts)."},
    {"_set_pump_result_type", core_set_pump_result_type, METH_O, nullptr},
    {"_shutdown_at_exit", core_shutdown_at_exit, METH_NOARGS, nullptr},
    {"_forward_log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(forward_log)), METH_FASTCALL,
     nullptr},
    {nullptr, nullptr, 0, nullptr}};

int core_exec(PyObject* module) {
  InterpState* st = new (module_state(module)) InterpState();
  st->interp_id = current_interp_id();
  st->module = module;
  if (add_cown_types(module, st) < 0) return -1;
  st->when_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &when_spec, nullptr));
  if (st->when_type == nullptr) return -1;
  if (add_terminator_functions(module) < 0) return -1;
  if (add_system_functions(module) < 0) return -1;
  if (add_noticeboard_functions(module) < 0 || add_messaging_functions(module) < 0) return -1;
  if (add_registry_functions(module) < 0) return -1;  // module_registry.cpp
  register_state(st);
  install_handle_hooks();
  return 0;
}

void core_free(void* module) {
  InterpState* st = module_state(static_cast<PyObject*>(module));
  if (st == nullptr) return;
  unregister_state(st);
  clear_state_caches(st);
  Py_CLEAR(st->capsule_type);
  Py_CLEAR(st->cown_type);
  Py_CLEAR(st->pinned_type);
  Py_CLEAR(st->when_type);
  Py_CLEAR(st->pump_result_type);
  st->~InterpState();
}

PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(core_exec)},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, nullptr}};

PyModuleDef core_def = {PyModuleDef_HEAD_INIT,
                        "bocpy._core",
                        "Behavior-Oriented Concurrency runtime core (C++).",
                        sizeof(InterpState),
                        core_methods,
                        core_slots,
                        nullptr,
                        nullptr,
                        core_free};

}  // namespace

void register_builtin_modules() {
  PyImport_AppendInittab("bocpy", boc_py_init_package);
  PyImport_AppendInittab("bocpy._core", boc_py_init_core);
  PyImport_AppendInittab(kMathModuleName, boc_py_init_math);
}

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

bool load_worker_bindings(const std::string& source, const std::string& main_file,
                          const std::string& module_name) {
  PyRef transpiler(PyImport_ImportModule("bocpy.transpiler"));
  PyRef core(transpiler ? PyImport_ImportModule("bocpy._core") : nullptr);
  if (!core) return false;
  module_state(core.get())->loading_bindings = true;
  PyRef r(PyObject_CallMethod(transpiler.get(), "install_worker_main", "s#s#s#", source.data(),
                              static_cast<Py_ssize_t>(source.size()), main_file.data(),
                              static_cast<Py_ssize_t>(main_file.size()), module_name.data(),
                              static_cast<Py_ssize_t>(module_name.size())));
  module_state(core.get())->loading_bindings = false;
  return static_cast<bool>(r);
}

}  // namespace boc::py

extern "C" PyObject* boc_py_init_core(void) { return PyModuleDef_Init(&boc::py::core_def); }
