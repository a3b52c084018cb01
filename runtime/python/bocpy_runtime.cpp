#include "bocpy_runtime.h"

#include "interp_state.h"
#include "log_forwarding.h"
#include "py_ref.h"
#include "terminator.h"
#include "noticeboard.h"
#include "worker_interpreters.h"
#include "package_install.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"
#include "worker_bindings.h"

namespace boc::py {

std::atomic<BocpyRuntime*> BocpyRuntime::g_live{nullptr};

namespace {

// A reference to a main-interpreter callable that may be dropped anywhere.
struct MainRef {
  PyObject* obj = nullptr;
  ~MainRef() { decref_in_interp(0, obj); }
};

struct Settings {
  std::mutex mu;
  std::optional<std::chrono::milliseconds> warn;
  std::shared_ptr<MainRef> callback;
  std::function<void(const StarvationReport&)> observer;
  std::shared_ptr<Clock> clock;
  std::chrono::milliseconds monitor_period{20};
  // Relaxed: a configuration value re-read by each wait loop iteration.
  std::atomic<std::int64_t> poll_ms{50};
};

Settings& settings() {
  static Settings* s = new Settings();  // never destroyed: used at exit
  return *s;
}

// Reports a starvation episode to Python: on_starve(0, message), or a
// warning on logger "bocpy.pump". Runs on the pumping thread or the monitor.
void python_sink(const std::shared_ptr<MainRef>& callback, const StarvationReport& report) {
  if (!Py_IsInitialized()) return;
  const bool have_gil = holds_main_gil();
  PyGILState_STATE gstate{};
  if (!have_gil) gstate = PyGILState_Ensure();
  PyObject* exc_before = PyErr_GetRaisedException();
  PyObject* msg = PyUnicode_FromStringAndSize(report.message.data(), static_cast<Py_ssize_t>(report.message.size()));
  PyObject* res = nullptr;
  PyObject* target = nullptr;
  if (msg != nullptr) {
    if (callback && callback->obj != nullptr) {
      target = callback->obj;
      res = PyObject_CallFunction(target, "iO", 0, msg);
    } else {
      PyObject* logging = PyImport_ImportModule("logging");
      PyObject* logger = logging != nullptr ? PyObject_CallMethod(logging, "getLogger", "s", "bocpy.pump") : nullptr;
      target = logger;
      res = logger != nullptr ? PyObject_CallMethod(logger, "warning", "O", msg) : nullptr;
      if (res == nullptr) PyErr_WriteUnraisable(logger);
      Py_XDECREF(logger);
      Py_XDECREF(logging);
      target = nullptr;
    }
  }
  // The watchdog only observes: a failing sink is reported, never raised.
  if (res == nullptr && PyErr_Occurred()) PyErr_WriteUnraisable(target);
  Py_XDECREF(res);
  Py_XDECREF(msg);
  PyErr_SetRaisedException(exc_before);
  if (!have_gil) PyGILState_Release(gstate);
}

// The main interpreter's sys.path first, so a worker imports bocpy (and the
// script's modules) from where main did.
bool set_worker_sys_path(const std::vector<std::string>& main_path) {
  PyObject* path = PySys_GetObject("path");                 // borrowed
  if (path == nullptr || !PyList_Check(path)) return true;  // nothing to extend
  for (auto it = main_path.rbegin(); it != main_path.rend(); ++it) {
    PyObject* item = PyUnicode_FromStringAndSize(it->data(), static_cast<Py_ssize_t>(it->size()));
    if (item == nullptr) return false;
    const int present = PySequence_Contains(path, item);
    const int rc = present == 0 ? PyList_Insert(path, 0, item) : present;
    Py_DECREF(item);
    if (rc < 0) return false;
  }
  return true;
}

// Worker, bocpy imported: its root logger forwards to main.
bool install_worker_logging(const std::vector<std::pair<std::string, int>>& levels) {
  PyRef list(PyList_New(0));
  if (!list) return false;
  for (const auto& [name, level] : levels) {
    PyRef item(Py_BuildValue("(s#i)", name.data(), static_cast<Py_ssize_t>(name.size()), level));
    if (!item || PyList_Append(list.get(), item.get()) < 0) return false;
  }
  PyRef mod(PyImport_ImportModule("bocpy._worker_logging"));
  PyRef r(mod ? PyObject_CallMethod(mod.get(), "install", "O", list.get()) : nullptr);
  return static_cast<bool>(r);
}

// A _DummyThread (made by threading.current_thread() in a worker, e.g. for a
// log record) is dropped at interpreter end after threading's globals are
// gone, and its finaliser then fails ("Exception ignored in
// _DeleteDummyThreadOnDel"). Drop it while the module is alive.
void forget_dummy_thread() {
  PyRef threading(PyImport_GetModule(PyRef(PyUnicode_FromString("threading")).get()));
  if (!threading) {
    PyErr_Clear();
    return;
  }
  PyRef info(PyObject_GetAttrString(threading.get(), "_thread_local_info"));
  if (info && PyObject_HasAttrString(info.get(), "_track_dummy_thread_ref") &&
      PyObject_DelAttrString(info.get(), "_track_dummy_thread_ref") < 0) {
    PyErr_WriteUnraisable(info.get());
  }
  PyErr_Clear();
}

}  // namespace

std::size_t BocpyRuntime::in_flight() noexcept {
  BocpyRuntime* rt = get();
  return rt != nullptr ? rt->runtime_->in_flight() : 0;
}

BocpyRuntime::BocpyRuntime(const StartConfig& config)
    : config_(config), workers_(config.workers == 0 ? 1 : config.workers) {
  for (std::size_t i = 0; i < workers_; ++i) slots_.push_back(std::make_unique<WorkerSlot>());
}

void BocpyRuntime::interrupt() {
  std::vector<WorkerSlot*> slots;
  {
    std::lock_guard lock(ready_mu_);  // slots are filled under it as workers start
    for (const auto& s : slots_) slots.push_back(s.get());
  }
  interrupt_runtime(slots);
}

BocpyRuntime::~BocpyRuntime() = default;

bool BocpyRuntime::start(const StartConfig& config) {
  if (get() != nullptr) return true;
  auto self = std::unique_ptr<BocpyRuntime>(new BocpyRuntime(config));
  RuntimeOptions opts;
  opts.worker_count = self->workers_;
  opts.clock = config.clock ? config.clock : default_clock();
  // Any thread of the main interpreter may pump, one at a time (CAS).
  opts.pump_from_any_thread = true;
  opts.wait_pump_poll = wait_pump_poll();
  BocpyRuntime* raw = self.get();
  opts.on_worker_start = [raw](std::size_t i) { raw->worker_started(i); };
  opts.on_worker_stop = [raw](std::size_t i) { raw->worker_stopping(i); };
  opts.on_worker_idle = [](std::size_t) { release_kept_worker_gil(); };

  // Workers take the main GIL briefly to create their interpreters: release it.
  Py_BEGIN_ALLOW_THREADS self->runtime_ = std::make_unique<boc::Runtime>(opts);
  std::unique_lock lock(self->ready_mu_);
  self->ready_cv_.wait(lock, [&] { return self->ready_ == self->workers_; });
  Py_END_ALLOW_THREADS

      if (!self->start_errors_.empty()) {
    std::string msg = "Error starting worker pool: " + self->start_errors_.front();
    Py_BEGIN_ALLOW_THREADS self->runtime_->shutdown();
    self->runtime_.reset();
    Py_END_ALLOW_THREADS PyErr_SetString(PyExc_RuntimeError, msg.c_str());
    return false;
  }
  self->apply_watchdog();
  // Release: pairs with the acquire in get().
  g_live.store(self.release(), std::memory_order_release);
  terminator_started();
  reset_runtime_interrupt();
  return true;
}

void BocpyRuntime::stop() {
  BocpyRuntime* rt = get();
  if (rt == nullptr) return;
  // Un-publish first: new @when calls auto-start a fresh runtime instead.
  // Release: pairs with the acquire in get().
  g_live.store(nullptr, std::memory_order_release);
  terminator_stopped();
  Py_BEGIN_ALLOW_THREADS rt->runtime_->shutdown();
  delete rt;
  Py_END_ALLOW_THREADS drain_deferred_decrefs();
  deliver_forwarded_logs();
}

void BocpyRuntime::worker_started(std::size_t index) {
  std::string error;
  PyThreadState* sub = acquire_worker_interpreter(error);
  if (sub == nullptr) {
    error = "worker " + std::to_string(index) + ": " + error;
  } else {
    if (!set_worker_sys_path(config_.sys_path) || !import_bocpy_in_worker() ||
        !install_worker_logging(config_.log_levels) ||
        !load_worker_bindings(config_.bindings_source, config_.main_file, config_.bindings_module)) {
      PyObject* exc = PyErr_GetRaisedException();
      PyObject* text = exc != nullptr ? PyObject_Str(exc) : nullptr;
      const char* s = text != nullptr ? PyUnicode_AsUTF8(text) : nullptr;
      error = "worker " + std::to_string(index) + ": bootstrap failed: " + (s != nullptr ? s : "unknown error");
      PyErr_Clear();
      Py_XDECREF(text);
      Py_XDECREF(exc);
    }
    set_worker_thread_state(sub);
    PyEval_SaveThread();
  }
  std::lock_guard lock(ready_mu_);
  if (sub != nullptr && index < slots_.size()) {
    slots_[index]->tstate = sub;
    slots_[index]->thread_ident = PyThread_get_thread_ident();
    set_current_worker_slot(slots_[index].get());
  }
  if (!error.empty()) start_errors_.push_back(error);
  ++ready_;
  ready_cv_.notify_all();
}

void BocpyRuntime::worker_stopping(std::size_t) {
  PyThreadState* sub = worker_thread_state();
  if (sub == nullptr) return;
  release_kept_worker_gil();  // (defensive: the pool's idle hook ran before it parked)
  PyEval_RestoreThread(sub);
  discard_pending_interrupt();
  set_current_worker_slot(nullptr);
  forget_dummy_thread();
  if (InterpState* st = current_state()) clear_state_caches(st);
  clear_noticeboard_cache();
  drain_deferred_decrefs();
  set_worker_thread_state(nullptr);
  release_worker_interpreter(sub);  // parked for the next runtime (worker_interpreters.h)
}

void BocpyRuntime::apply_watchdog() {
  Settings& s = settings();
  std::lock_guard lock(s.mu);
  if (!s.warn) {
    runtime_->watchdog().configure(std::nullopt);
    return;
  }
  auto callback = s.callback;
  auto observer = s.observer;
  runtime_->watchdog().configure(
      *s.warn,
      [callback, observer](const StarvationReport& report) {
        if (observer) observer(report);
        python_sink(callback, report);
      },
      s.monitor_period);
}

void BocpyRuntime::set_watchdog(std::optional<std::chrono::milliseconds> warn, PyObject* callback) {
  {
    Settings& s = settings();
    std::lock_guard lock(s.mu);
    s.warn = warn;
    auto ref = std::make_shared<MainRef>();
    ref->obj = Py_XNewRef(callback);
    s.callback = callback != nullptr ? ref : nullptr;
  }
  if (BocpyRuntime* rt = get()) rt->apply_watchdog();
}

void BocpyRuntime::set_wait_pump_poll(std::chrono::milliseconds poll) {
  // Relaxed: see Settings::poll_ms.
  settings().poll_ms.store(poll.count(), std::memory_order_relaxed);
  if (BocpyRuntime* rt = get()) rt->runtime_->set_wait_pump_poll(poll);
}

std::chrono::milliseconds BocpyRuntime::wait_pump_poll() noexcept {
  // Relaxed: see Settings::poll_ms.
  return std::chrono::milliseconds(settings().poll_ms.load(std::memory_order_relaxed));
}

void BocpyRuntime::set_report_observer(std::function<void(const StarvationReport&)> observer) {
  {
    Settings& s = settings();
    std::lock_guard lock(s.mu);
    s.observer = std::move(observer);
  }
  if (BocpyRuntime* rt = get()) rt->apply_watchdog();
}

void BocpyRuntime::set_watchdog_monitor_period(std::chrono::milliseconds period) {
  {
    std::lock_guard lock(settings().mu);
    settings().monitor_period = period;
  }
  if (BocpyRuntime* rt = get()) rt->apply_watchdog();
}

void BocpyRuntime::set_default_clock(std::shared_ptr<Clock> clock) {
  std::lock_guard lock(settings().mu);
  settings().clock = std::move(clock);
}

std::shared_ptr<Clock> BocpyRuntime::default_clock() {
  std::lock_guard lock(settings().mu);
  return settings().clock;
}

}  // namespace boc::py
