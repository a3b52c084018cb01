// Ctrl-C for the whole runtime. Python raises KeyboardInterrupt only in the
// main interpreter; bocpy then interrupts the rest: behaviors that have not
// started are cancelled (their result cowns hold "cancelled: interrupted"),
// and each worker running a body gets a KeyboardInterrupt of its own, so
// pure-Python loops stop and receive() returns. After that, a second SIGINT
// ends the process at once with status 130.
#pragma once

#include <Python.h>

#include <atomic>
#include <vector>

namespace boc::py {

/// What the main thread needs to interrupt one worker's body.
struct WorkerSlot {
  PyThreadState* tstate = nullptr;  ///< the worker's sub-interpreter thread state
  unsigned long thread_ident = 0;   ///< PyThread_get_thread_ident() of the worker
  /// Written and read only with this worker's GIL held (so plain ordering
  /// through the GIL; atomic only because the owner writes it under its GIL
  /// while the interrupter reads it under the same GIL).
  std::atomic<bool> in_body{false};
};

inline constexpr const char* kCancelledByInterrupt =
    "cancelled: interrupted (KeyboardInterrupt in the main interpreter before this behavior started)";

/// True from interrupt_runtime() until the next runtime starts.
bool runtime_interrupted() noexcept;
/// A runtime starts (or stops): no interrupt pending.
void reset_runtime_interrupt() noexcept;

/// Main interpreter, main GIL held: flags the runtime interrupted, raises
/// KeyboardInterrupt in every worker that is inside a body, and makes a
/// second SIGINT exit(130). Idempotent.
void interrupt_runtime(const std::vector<WorkerSlot*>& workers);

/// Worker threads: this worker's slot (null elsewhere).
void set_current_worker_slot(WorkerSlot* slot) noexcept;
WorkerSlot* current_worker_slot() noexcept;

/// Worker, its GIL held: drops a KeyboardInterrupt aimed at a body that has
/// already ended, so it never fires in the next one or in teardown.
void discard_pending_interrupt() noexcept;

}  // namespace boc::py
