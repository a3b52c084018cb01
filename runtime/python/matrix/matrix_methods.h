// The named methods and class methods of `bocpy.Matrix` (its tp_methods).
// The operator slots, properties and indexing live in matrix_type.cpp and
// matrix_index.cpp.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace boc::py {

/// The sentinel-terminated method table of the Matrix type.
PyMethodDef* matrix_methods();

}  // namespace boc::py
