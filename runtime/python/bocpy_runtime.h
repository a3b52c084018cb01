// The process-wide bocpy runtime: one boc::Runtime whose workers each own an
// own-GIL sub-interpreter, started by bocpy.start() and torn down by
// bocpy.wait(). Also the settings that outlive a runtime (watchdog, wait
// poll) and the hooks a C++ host (the demo) uses to observe it.
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "boc/runtime.h"
#include "interrupt.h"

namespace boc::py {

struct StartConfig {
  std::size_t workers = 1;
  /// Python source executed as each worker's `__main__` (the reduced script).
  std::string bindings_source;
  /// The module the bindings are loaded as ("__main__", or a module workers
  /// cannot import by name; bocpy/transpiler.py install_worker_main).
  std::string bindings_module = "__main__";
  /// The script's path, for the bindings module's __file__ and tracebacks.
  std::string main_file;
  /// The main interpreter's sys.path, so workers import the same modules.
  std::vector<std::string> sys_path;
  /// The main interpreter's logger levels ("" is root), applied in each worker
  /// (bocpy/_worker_logging.py).
  std::vector<std::pair<std::string, int>> log_levels;
  /// Clock for pump deadlines and watchdog ages (null: steady clock).
  std::shared_ptr<Clock> clock;
};

class BocpyRuntime {
 public:
  /// The live runtime, or nullptr.
  static BocpyRuntime* get() noexcept {
    // Acquire: pairs with the release in start(); a reader sees it constructed.
    return g_live.load(std::memory_order_acquire);
  }
  /// Behaviors in flight in the live runtime (0 without one).
  static std::size_t in_flight() noexcept;

  /// Main interpreter, GIL held. Starts the workers and waits until each has
  /// created its interpreter. False with a Python error set on failure.
  static bool start(const StartConfig& config);
  /// Main interpreter, GIL held. Tears the runtime down (see
  /// boc::Runtime::shutdown) with the GIL released; workers end their
  /// interpreters on their own threads. No-op without a runtime.
  static void stop();

  boc::Runtime& runtime() noexcept { return *runtime_; }
  std::size_t worker_count() const noexcept { return workers_; }

  // ---- settings that persist across runtimes (main interpreter) ----
  /// warn = nullopt disables; callback = nullptr: log on "bocpy.pump".
  static void set_watchdog(std::optional<std::chrono::milliseconds> warn, PyObject* callback);
  static void set_wait_pump_poll(std::chrono::milliseconds poll);
  static std::chrono::milliseconds wait_pump_poll() noexcept;
  /// A C++ observer of watchdog reports, called (on the reporting thread) in
  /// addition to the Python sink. The demo's panels use it.
  static void set_report_observer(std::function<void(const StarvationReport&)> observer);
  /// The watchdog monitor thread's period; zero: no monitor (reports only at
  /// pump() entry and explicit samples). Default 20 ms.
  static void set_watchdog_monitor_period(std::chrono::milliseconds period);
  /// Clock used by runtimes started from now on (null: steady clock).
  static void set_default_clock(std::shared_ptr<Clock> clock);
  static std::shared_ptr<Clock> default_clock();

  /// Main interpreter, GIL held: Ctrl-C for the runtime (interrupt.h).
  void interrupt();

  ~BocpyRuntime();

 private:
  explicit BocpyRuntime(const StartConfig& config);
  void worker_started(std::size_t index);
  void worker_stopping(std::size_t index);
  void apply_watchdog();

  static std::atomic<BocpyRuntime*> g_live;

  StartConfig config_;
  std::size_t workers_;
  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  std::size_t ready_ = 0;
  std::vector<std::string> start_errors_;
  std::vector<std::unique_ptr<WorkerSlot>> slots_;  // one per worker, filled as each starts
  std::unique_ptr<boc::Runtime> runtime_;
};

}  // namespace boc::py
