// bocpy._core.start / running / worker_count / stop / quiesce /
// _shutdown_at_exit, and the exit shutdown a host calls (core_lifecycle.cpp).
#pragma once

#include <Python.h>

namespace boc::py {

/// Adds the lifecycle functions to `module` (bocpy._core); 0, or -1 with a
/// Python error set.
int add_lifecycle_functions(PyObject* module);

/// Main thread, GIL held: if a bocpy runtime is running, finish all work (as
/// bocpy.wait() does) and end the worker interpreters. Idempotent; never
/// raises (errors are printed).
void shutdown_runtime_for_exit();

/// Main thread, GIL held: Ctrl-C for a live runtime (interrupt.h); no-op
/// without one.
void interrupt_live_runtime();

}  // namespace boc::py
