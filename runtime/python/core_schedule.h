// bocpy._core.when and whencall (core_schedule.cpp).
#pragma once

#include <Python.h>

#include "interp_state.h"

namespace boc::py {

/// Creates the `_When` decorator type into `state` and adds when and whencall
/// to `module` (bocpy._core); 0, or -1 with a Python error set.
int add_schedule_functions(PyObject* module, InterpState* state);

}  // namespace boc::py
