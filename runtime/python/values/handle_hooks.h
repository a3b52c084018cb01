// Access to the process-global cown-handle hooks (set_handle_hooks in
// parcel.h). Internal to boc_values.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include "boc/cown.h"

namespace boc::py::detail {

/// The cown behind a handle object (new ref), or an empty ref when obj is no
/// handle or no hooks are installed. May leave an exception set only if the
/// hook itself failed; callers check PyErr_Occurred() on an empty result.
CownRef unwrap_handle(PyObject* obj);

/// A new handle object for cown in the current interpreter, or nullptr with an
/// exception (also when no hooks are installed).
PyObject* wrap_handle(const CownRef& cown);

}  // namespace boc::py::detail
