// bocpy._core's diagnostics: stats, scheduler_stats, in_flight, is_primary,
// cown_is_pinned and the main_pump_queue_* views (core_diagnostics.cpp).
#pragma once

#include <Python.h>

namespace boc::py {

/// Adds the diagnostics functions to `module` (bocpy._core); 0, or -1 with a
/// Python error set.
int add_diagnostics_functions(PyObject* module);

}  // namespace boc::py
