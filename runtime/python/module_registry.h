// bocpy._core.registry_register / registry_lookup: the Python face of the
// behavior code registry in behavior_code.cpp.
#pragma once

#include <Python.h>

namespace boc::py {

/// Adds registry_register and registry_lookup to `module` (bocpy._core);
/// 0, or -1 with a Python error set.
int add_registry_functions(PyObject* module);

}  // namespace boc::py
