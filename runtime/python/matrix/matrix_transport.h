// Moving matrices between interpreters. A Matrix object never leaves its
// interpreter; the value transport copies the buffer out of the sender's
// object (matrix_export) into a C++ parcel and builds a new object in the
// receiving interpreter (matrix_import). No pickle is involved.
//
// All three functions need the calling thread to hold the GIL of the
// interpreter that owns (or will own) the object.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstddef>
#include <vector>

namespace boc::py {

/// True if obj is an instance of this interpreter's bocpy Matrix type
/// (imports bocpy._math if needed; never sets an error, and keeps any error
/// that was already set).
bool matrix_check(PyObject* obj);

/// Copies shape and data out. Returns false with a Python error set (TypeError)
/// if obj is not a Matrix.
bool matrix_export(PyObject* obj, std::size_t& rows, std::size_t& cols,
                   std::vector<double>& data);

/// Creates a new Matrix in the current interpreter from the buffer (adopting
/// it, no copy). New reference, or nullptr with an error set: ValueError if
/// rows or cols is 0 or data.size() != rows * cols, ImportError if
/// bocpy._math cannot be imported.
PyObject* matrix_import(std::size_t rows, std::size_t cols,
                        std::vector<double>&& data);

}  // namespace boc::py
