// Facts about the machine that size bocpy's defaults (WORKER_COUNT).
#pragma once

#include <Python.h>

namespace boc::py {

/// Adds `physical_cpu_count()` to bocpy._core.
int add_system_functions(PyObject* module);

}  // namespace boc::py
