// The `bocpy` Python package as this binary carries it: its sources embedded
// at build time (package_sources.h), installed as a built-in package.
#pragma once

#include <Python.h>

/// The embedded `bocpy` package as a built-in module.
extern "C" PyObject* boc_py_init_package(void);

namespace boc::py {

/// After initialisation, GIL held: makes `import bocpy` work in the current
/// interpreter (the package's sources are embedded in the binary) without
/// importing it. False with a Python error set on failure.
bool install_bocpy_package();

/// Worker interpreter, GIL held, its sys.path set: imports bocpy the way the
/// main interpreter got it (embedded sources, or the package on sys.path).
bool import_bocpy_in_worker();

}  // namespace boc::py
