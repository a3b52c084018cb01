// bocpy._core.pump, _set_pump_result_type, set_pump_watchdog,
// set_wait_pump_poll and wait_pump_poll (core_pump.cpp).
#pragma once

#include <Python.h>

namespace boc::py {

/// Adds the pump functions to `module` (bocpy._core); 0, or -1 with a Python
/// error set.
int add_pump_functions(PyObject* module);

}  // namespace boc::py
