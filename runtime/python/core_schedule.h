// bocpy._core.when and whencall (core_schedule.cpp).
#pragma once

#include <Python.h>

#include "interp_state.h"

namespace boc::py {

/// Creates the `_When` decorator type into `state` and adds when and whencall
/// to `module` (bocpy._core); 0, or -1 with a Python error set.
int add_schedule_functions(PyObject* module, InterpState* state);

/// Keeps what @when compares the module's BehaviorCapsule / terminator_inc
/// with, and watches the module's dict so it looks them up again only after
/// a change (after BehaviorCapsule was added); 0, or -1 with an error set.
int watch_whencall_steps(PyObject* module, InterpState* state);
/// Undoes watch_whencall_steps (module free).
void unwatch_whencall_steps(InterpState* state);

}  // namespace boc::py
