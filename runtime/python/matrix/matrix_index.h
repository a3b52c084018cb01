// Indexing a Matrix (spec 5.5 and 5.6): m[key], m[key] = value and the
// sequence item used by iteration. Every read returns a copy, never a view.
//
// Keys: an int (negative counts from the end) or a slice selects rows; a
// (row_key, column_key) tuple selects both; a list of ints gathers rows
// (m[[r0, r1]], m[[rows], :]) or columns (m[:, [cols]]); a Matrix is a 0/1
// mask (rows x 1 picks rows, 1 x cols picks columns, the matrix's own shape
// picks elements into a 1 x k row). A single element selected by ints and
// slices reads as a float, anything else as a new Matrix.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace boc::py {

/// mp_subscript: m[key].
PyObject* matrix_subscript(PyObject* self, PyObject* key);

/// mp_ass_subscript: m[key] = value (value == nullptr: deletion, refused).
int matrix_ass_subscript(PyObject* self, PyObject* key, PyObject* value);

/// sq_item: row i as a 1 x cols Matrix, or a float when cols == 1.
PyObject* matrix_item(PyObject* self, Py_ssize_t i);

}  // namespace boc::py
