// The `bocpy._core` module and the embedded `bocpy` package: what a host
// (the runner, the demo, the Python test harness) needs to embed bocpy.
#pragma once

#include <Python.h>

extern "C" PyObject* boc_py_init_core(void);
/// The embedded `bocpy` package as a built-in module (package_install.cpp).
extern "C" PyObject* boc_py_init_package(void);

namespace boc::py {

/// PyImport_AppendInittab for bocpy (the embedded package), bocpy._core and bocpy._math. Call before
/// Py_InitializeFromConfig.
void register_builtin_modules();

/// After initialisation, GIL held: makes `import bocpy` work in the current
/// interpreter (the package's sources are embedded in the binary) without
/// importing it. False with a Python error set on failure.
bool install_bocpy_package();

/// Worker interpreter, GIL held, its sys.path set: imports bocpy the way the
/// main interpreter got it (embedded sources, or the package on sys.path).
bool import_bocpy_in_worker();

}  // namespace boc::py
