// The `bocpy._core` module: what a host (the runner, the demo, the Python
// test harness) registers before initialising Python to embed bocpy. The
// package itself is package_install.h; the exit shutdown core_lifecycle.h.
#pragma once

#include <Python.h>

extern "C" PyObject* boc_py_init_core(void);

namespace boc::py {

/// PyImport_AppendInittab for bocpy (the embedded package), bocpy._core and bocpy._math. Call before
/// Py_InitializeFromConfig.
void register_builtin_modules();

}  // namespace boc::py
