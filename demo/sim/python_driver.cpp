#include "sim/python_driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "bocpy_runtime.h"
#include "sim/python_host.h"
#include "py_ref.h"

namespace boc::demo {

namespace {

using Ref = boc::py::PyRef;

using Gil = PythonHost::Gil;
using SteadyTime = std::chrono::steady_clock;

// A lockstep pump() gives up waiting for the step in flight after this long (the step is
// then reported as an error and the frame goes on).
constexpr auto kLockstepTimeout = std::chrono::seconds(30);

std::shared_ptr<Clock> event_clock() {
  std::shared_ptr<Clock> clock = boc::py::BocpyRuntime::default_clock();
  return clock ? clock : SteadyClock::instance();
}

// Copies an n x 2 float64 Matrix (buffer protocol) into column `offset` of rows of 4.
bool copy_rows2(PyObject* matrix, std::size_t offset, std::vector<double>& xyvv) {
  Py_buffer view{};
  if (matrix == nullptr || PyObject_GetBuffer(matrix, &view, PyBUF_ND | PyBUF_FORMAT) < 0) return false;
  bool ok = view.ndim == 2 && view.shape[1] == 2 && view.format != nullptr && view.format[0] == 'd';
  if (ok) {
    const auto rows = static_cast<std::size_t>(view.shape[0]);
    xyvv.resize(rows * 4);
    const auto* src = static_cast<const double*>(view.buf);
    for (std::size_t i = 0; i < rows; ++i) {
      xyvv[4 * i + offset] = src[2 * i];
      xyvv[4 * i + offset + 1] = src[2 * i + 1];
    }
  }
  PyBuffer_Release(&view);
  return ok;
}

}  // namespace

// Watchdog reports, queued by the runtime's observer on whichever thread reports.
struct PythonDriver::Events {
  std::mutex mu;
  std::vector<WatchdogEvent> events;
  std::shared_ptr<Clock> clock = event_clock();
  std::int64_t origin_ns = clock->now_ns();
};

PythonDriver::PythonDriver(PythonDriverOptions options) : options_(std::move(options)) {
  workers_ = options_.workers != 0 ? options_.workers : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  name_ = "python x" + std::to_string(workers_);

  const std::string path = resolve_script_path(options_.script);
  if (path.empty()) {
    throw ScriptError("cannot find the simulation script '" + options_.script +
                          "' (looked relative to the current directory and to the source tree)",
                      "");
  }

  PythonHost::instance();
  Gil gil;
  gl_ = std::make_unique<GlHandle>(nullptr);
  module_ = import_script_module(path);
  if (module_ == nullptr) {
    const ExceptionText err = fetch_python_error();
    gl_.reset();
    throw ScriptError("cannot import the simulation script " + path + ": " + err.message, err.traceback);
  }
  if (PyObject_HasAttrString(module_, "Simulation") != 1) {
    Py_CLEAR(module_);
    gl_.reset();
    throw ScriptError("the simulation script " + path + " defines no Simulation class", "");
  }
  bocpy_ = PyImport_ImportModule("bocpy");
  if (bocpy_ == nullptr) {
    const ExceptionText err = fetch_python_error();
    Py_CLEAR(module_);
    gl_.reset();
    throw ScriptError("cannot import bocpy: " + err.message, err.traceback);
  }

  events_ = std::make_shared<Events>();
  std::weak_ptr<Events> weak = events_;
  boc::py::BocpyRuntime::set_report_observer([weak](const StarvationReport& report) {
    const std::shared_ptr<Events> events = weak.lock();
    if (!events) return;
    WatchdogEvent e;
    e.time_s = static_cast<double>(events->clock->now_ns() - events->origin_ns) * 1e-9;
    e.age_ms = static_cast<double>(report.age_ms);
    e.depth = report.depth;
    std::lock_guard lock(events->mu);
    events->events.push_back(e);
  });
}

PythonDriver::~PythonDriver() {
  boc::py::BocpyRuntime::set_report_observer(nullptr);
  if (!PythonHost::alive()) return;  // finalised already: the references died with the interpreter
  Gil gil;
  Py_CLEAR(simulation_);
  Py_CLEAR(module_);
  Py_CLEAR(bocpy_);
  gl_.reset();
}

void PythonDriver::record_python_error(const char* context) {
  ExceptionText err = fetch_python_error();
  if (err.message.empty()) err.message = "unknown error";
  errors_.push_back(ErrorEntry{std::string(context) + ": " + err.message, std::move(err.traceback)});
}

bool PythonDriver::ensure_runtime() {
  if (boc::py::BocpyRuntime::get() != nullptr) return true;
  Ref kwargs(Py_BuildValue("{s:n}", "worker_count", static_cast<Py_ssize_t>(workers_)));
  Ref start(PyObject_GetAttrString(bocpy_, "start"));
  Ref empty(PyTuple_New(0));
  Ref r(start && kwargs && empty ? PyObject_Call(start.get(), empty.get(), kwargs.get()) : nullptr);
  if (!r) {
    record_python_error("bocpy.start");
    return false;
  }
  return true;
}

void PythonDriver::drain_in_flight() {
  if (boc::py::BocpyRuntime::get() == nullptr) return;
  Ref r(PyObject_CallMethod(bocpy_, "quiesce", nullptr));
  if (!r) record_python_error("quiesce");
  refresh_pending();
}

void PythonDriver::refresh_pending() {
  if (simulation_ == nullptr) {
    pending_ = false;
    return;
  }
  Ref value(PyObject_GetAttrString(simulation_, "pending"));
  const int truth = value ? PyObject_IsTrue(value.get()) : -1;
  if (truth < 0) {
    record_python_error("Simulation.pending");
    pending_ = false;
    return;
  }
  pending_ = truth == 1;
}

PyObject* PythonDriver::params_dict(const FlockParams& p) const {
  Ref d(Py_BuildValue("{s:d,s:d,s:d,s:d,s:d}", "world_w", double{p.world_w}, "world_h", double{p.world_h},
                      "cohesion_gain", double{FlockParams::kCohesionGain}, "alignment_gain",
                      double{FlockParams::kAlignmentGain}, "separation_gain", double{FlockParams::kSeparationGain}));
  for (const auto& [name, field] : kFlockKnobs) {
    Ref v(d ? PyFloat_FromDouble(double{p.*field}) : nullptr);
    if (!v || PyDict_SetItemString(d.get(), name, v.get()) < 0) return nullptr;
  }
  return d.release();
}

void PythonDriver::attach_sink(InstanceSink* sink) {
  // The GlBuffer object (and the PinnedCown holding it) stays; only its target changes.
  gl_->retarget(sink);
}

void PythonDriver::reset(const FlockSetup& setup) {
  Gil gil;
  drain_in_flight();
  Py_CLEAR(simulation_);
  boids_ = 0;
  pending_ = false;
  if (!ensure_runtime()) return;
  Ref gl(gl_->object());
  Ref params(params_dict(setup.params));
  Ref cls(PyObject_GetAttrString(module_, "Simulation"));
  if (!gl || !params || !cls) {
    record_python_error("Simulation");
    return;
  }
  Ref args(Py_BuildValue("(nKOO)", static_cast<Py_ssize_t>(setup.boids), static_cast<unsigned long long>(setup.seed),
                         params.get(), gl.get()));
  simulation_ = args ? PyObject_CallObject(cls.get(), args.get()) : nullptr;
  if (simulation_ == nullptr) {
    record_python_error("Simulation()");
    return;
  }
  boids_ = setup.boids;
  refresh_pending();
}

void PythonDriver::configure_watchdog(const WatchdogSettings& settings) {
  Gil gil;
  Ref warn(settings.enabled ? PyLong_FromLong(std::max(1L, std::lround(settings.warn_ms))) : Py_NewRef(Py_None));
  // Reports reach the panels through the C++ observer; the Python sink stays quiet.
  static const char* kSilent = "lambda severity, message: None";
  Ref globals(PyDict_New());
  if (globals) PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins());
  Ref silent(globals ? PyRun_String(kSilent, Py_eval_input, globals.get(), globals.get()) : nullptr);
  Ref r(warn && silent ? PyObject_CallMethod(bocpy_, "set_pump_watchdog", "OO", warn.get(), silent.get()) : nullptr);
  if (!r) record_python_error("set_pump_watchdog");
}

PumpFrame PythonDriver::pump(const PumpSettings& settings) {
  PumpFrame frame;
  Gil gil;
  boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get();
  if (rt == nullptr) return frame;

  const double poll = std::max(1.0, std::ceil(settings.wait_poll_ms));
  if (poll != wait_poll_ms_) {
    wait_poll_ms_ = poll;
    Ref r(PyObject_CallMethod(bocpy_, "set_wait_pump_poll", "l", static_cast<long>(poll)));
    if (!r) record_python_error("set_wait_pump_poll");
  }

  const long long whole_ms =
      settings.deadline_ms ? std::max(1LL, static_cast<long long>(std::ceil(*settings.deadline_ms))) : 0;
  if (settings.deadline_ms) frame.effective_deadline_ms = static_cast<double>(whole_ms);
  Ref deadline(settings.deadline_ms ? PyLong_FromLongLong(whole_ms) : Py_NewRef(Py_None));
  Ref max_behaviors(settings.max_behaviors ? PyLong_FromSize_t(std::max<std::size_t>(1, *settings.max_behaviors))
                                           : Py_NewRef(Py_None));
  Ref pump_fn(PyObject_GetAttrString(bocpy_, "pump"));
  Ref kwargs(Py_BuildValue("{s:O,s:O}", "deadline_ms", deadline.get(), "max_behaviors", max_behaviors.get()));
  Ref no_args(PyTuple_New(0));
  if (!pump_fn || !kwargs || !no_args) {
    record_python_error("pump");
    return frame;
  }

  if (options_.lockstep && pending_) {
    // Lockstep: the step in flight is written back in this frame, at a fixed point: wait
    // (GIL released) until every worker behavior has finished, so the write-back is queued,
    // then pump once with the frame's usual budget (its first behavior always runs).
    // Waiting for the workers is not pump time: the budget is not spent.
    bool idle = false;
    Py_BEGIN_ALLOW_THREADS idle = rt->runtime().wait_workers_idle(kLockstepTimeout);
    Py_END_ALLOW_THREADS if (!idle)
        errors_.push_back({"lockstep pump: the step in flight did not finish within 30 s", ""});
  }

  const auto call_start = std::chrono::steady_clock::now();
  Ref r(PyObject_Call(pump_fn.get(), no_args.get(), kwargs.get()));
  frame.call_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - call_start).count();
  if (!r) {
    record_python_error("pump");
    return frame;
  }
  // PumpResult(executed, deadline_reached, raised)
  if (PyTuple_Check(r.get()) && PyTuple_GET_SIZE(r.get()) == 3) {
    frame.executed = PyLong_AsSize_t(PyTuple_GET_ITEM(r.get(), 0));
    frame.deadline_reached = PyObject_IsTrue(PyTuple_GET_ITEM(r.get(), 1)) == 1;
    frame.raised = PyLong_AsSize_t(PyTuple_GET_ITEM(r.get(), 2));
    if (PyErr_Occurred()) PyErr_Clear();
  }
  refresh_pending();
  return frame;
}

void PythonDriver::step(const StepRequest& request) {
  Gil gil;
  if (simulation_ == nullptr) return;
  const auto t0 = SteadyTime::now();
  Ref params(params_dict(request.params));
  Ref r(params ? PyObject_CallMethod(simulation_, "step", "dOO", request.dt, params.get(),
                                     request.dispatch == DispatchMode::kPerItem ? Py_True : Py_False)
               : nullptr);
  if (!r) record_python_error("Simulation.step");
  step_ms_ = std::chrono::duration<double, std::milli>(SteadyTime::now() - t0).count();
  refresh_pending();
}

RuntimeSnapshot PythonDriver::snapshot() const {
  RuntimeSnapshot s;
  s.workers = workers_;
  s.boids = boids_;
  s.step_ms = step_ms_;
  s.step_pending = pending_;
  if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get()) {
    boc::Runtime& runtime = rt->runtime();
    s.workers = rt->worker_count();
    s.pinned_depth = runtime.pinned_depth();
    s.pinned_age_ms = static_cast<double>(runtime.pinned_age_ms());
    s.behaviors_total = completed_base_ + runtime.stats().completed;
  }
  return s;
}

std::vector<WatchdogEvent> PythonDriver::drain_watchdog_events() {
  std::vector<WatchdogEvent> out;
  std::lock_guard lock(events_->mu);
  out.swap(events_->events);
  return out;
}

std::vector<ErrorEntry> PythonDriver::drain_errors() {
  std::vector<ErrorEntry> out;
  out.swap(errors_);
  if (simulation_ == nullptr) return out;
  Gil gil;
  Ref list(PyObject_CallMethod(simulation_, "drain_errors", nullptr));
  if (!list) {
    record_python_error("Simulation.drain_errors");
    out.insert(out.end(), errors_.begin(), errors_.end());
    errors_.clear();
    return out;
  }
  Ref seq(PySequence_Fast(list.get(), "drain_errors() must return a list"));
  if (!seq) {
    PyErr_Clear();
    return out;
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(seq.get(), i);  // borrowed
    ErrorEntry e;
    if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) >= 1) {
      e.message = boc::py::utf8_of(PyTuple_GET_ITEM(item, 0));
      if (PyTuple_GET_SIZE(item) >= 2) e.traceback = boc::py::utf8_of(PyTuple_GET_ITEM(item, 1));
    } else {
      Ref text(PyObject_Str(item));
      e.message = boc::py::utf8_of(text.get());
    }
    out.push_back(std::move(e));
  }
  return out;
}

void PythonDriver::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  Gil gil;
  if (boc::py::BocpyRuntime::get() == nullptr) return;
  drain_in_flight();
  if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get()) completed_base_ += rt->runtime().stats().completed;
  Ref r(bocpy_wait());
  if (!r) record_python_error("wait");
}

bool PythonDriver::final_state(std::vector<double>& xyvv) {
  Gil gil;
  if (simulation_ == nullptr) return false;
  drain_in_flight();
  Ref positions(PyObject_GetAttrString(simulation_, "positions"));
  Ref velocities(PyObject_GetAttrString(simulation_, "velocities"));
  std::vector<double> out;
  const bool ok = copy_rows2(positions.get(), 0, out) && copy_rows2(velocities.get(), 2, out);
  if (!ok) {
    if (PyErr_Occurred()) record_python_error("final_state");
    return false;
  }
  xyvv = std::move(out);
  return true;
}

}  // namespace boc::demo
