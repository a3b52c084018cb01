// Shipping behavior code between interpreters. A body is registered once per
// code object: its code is marshalled into a process-global registry under an
// id, with the name of its defining module. Each interpreter rebuilds the
// function once (globals = that module's dict in this interpreter; for
// `__main__`, the worker's script bindings) and caches it; each schedule then
// ships only the id and the captured values.
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>

#include "interp_state.h"

namespace boc::py {

/// Registers fn's code from the current interpreter (GIL held) and returns its
/// id, or -1 with a Python error set.
std::int64_t register_behavior_code(InterpState* state, PyObject* fn);

/// A callable for code `id` in the current interpreter. `closure_values` is a
/// tuple of values for the code's free variables (nullptr when it has none).
/// New reference, or nullptr with a Python error set.
PyObject* behavior_function(InterpState* state, std::uint64_t id, PyObject* closure_values);

/// Human-readable name of a registered body (for error messages).
std::string behavior_name(std::uint64_t id);

}  // namespace boc::py
