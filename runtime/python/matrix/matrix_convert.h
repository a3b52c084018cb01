// Glue between CPython objects and the Matrix kernels: owned references,
// C++-exception-to-Python-error translation, FASTCALL argument parsing and
// the coercion rules for operands, axes and sizes. Used by matrix_type.cpp,
// matrix_methods.cpp and matrix_index.cpp only.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "matrix_kernels.h"
#include "py_ref.h"

namespace boc::py {

/// Sets the Python error matching the C++ exception being handled; call it
/// only inside a catch block. ShapeError and std::invalid_argument become
/// ValueError, IndexError and std::out_of_range IndexError, std::bad_alloc
/// and std::length_error MemoryError, anything else RuntimeError.
void set_error_from_exception() noexcept;

/// Runs f (which returns PyObject*, nullptr with a Python error set on
/// failure) and turns any C++ exception into a Python error. Every entry
/// point called by CPython goes through this or guarded_int, so no C++
/// exception ever unwinds through CPython's C frames.
template <class F>
PyObject* guarded(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    set_error_from_exception();
    return nullptr;
  }
}

/// As guarded, for entry points returning int (-1 on failure).
template <class F>
int guarded_int(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    set_error_from_exception();
    return -1;
  }
}

/// Parses a METH_FASTCALL | METH_KEYWORDS call into out[0..names.size()).
/// @details The first max_positional names may be passed positionally, the
/// rest only by keyword; the first `required` names must be present. Missing
/// optional arguments are left untouched (initialise out[] with the defaults,
/// usually nullptr). Raises TypeError in Python's wording on any misuse.
bool parse_args(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                std::initializer_list<const char*> names, std::size_t max_positional, std::size_t required,
                PyObject** out);

/// True for int, bool, float and anything with __float__ or __index__
/// (numpy scalars), but not for complex or str.
bool is_real_number(PyObject* obj);

/// Converts a real number to double. TypeError ("<what> must be a real
/// number, not <type>") if it is not one; OverflowError for huge ints.
bool to_double(PyObject* obj, double& out, const char* what);

/// Copies a flat sequence (any iterable) of real numbers. TypeError if obj is
/// not iterable or an item is not a real number.
bool sequence_to_doubles(PyObject* obj, std::vector<double>& out, const char* what);

/// obj as a list or tuple (PySequence_Fast; new reference), or nullptr with
/// sequence_to_doubles' TypeError for something that is not iterable.
PyObject* fast_sequence(PyObject* obj, const char* what);

/// Converts n items (real numbers) into out[0..n), with sequence_to_doubles'
/// errors.
bool items_to_doubles(PyObject* const* items, Py_ssize_t n, double* out, const char* what);

/// True if obj is a Matrix of any interpreter's `bocpy._math` (the check is
/// on the type's dealloc slot, shared by every per-interpreter Matrix type).
bool is_matrix(PyObject* obj);

/// How an object takes part in arithmetic (spec 5.7): a Matrix as itself, a
/// real number as a 1x1 matrix, a list/tuple of numbers as a 1 x n row.
struct Operand {
  matrix::ConstView view;
  double scalar = 0.0;
  matrix::Dense owned;         ///< storage of a coerced list/tuple
  PyObject* matrix = nullptr;  ///< borrowed, when the operand is a Matrix
  bool is_number = false;

  Operand() = default;
  Operand(const Operand&) = delete;
  Operand& operator=(const Operand&) = delete;
};

enum class Coerced { kOk, kNotImplemented, kError };

/// Fills op from obj. kNotImplemented (no error set) for types that are not
/// operands, so the number slots can return NotImplemented; kError (error
/// set) for a list/tuple with a non-number (TypeError) or no items
/// (ValueError).
Coerced coerce_operand(PyObject* obj, Operand& op);

/// As coerce_operand, but TypeError ("<what> must be a Matrix, a real number
/// or a list of numbers") instead of kNotImplemented.
bool require_operand(PyObject* obj, Operand& op, const char* what);

/// Coerces the right-hand side of an assignment into a selection of shape
/// sel (m[key] = value, put): as coerce_operand, except that a flat list or
/// tuple whose length equals sel.rows becomes a column when sel is a single
/// column with several rows. Other types: TypeError("Invalid value").
bool coerce_assigned_value(PyObject* obj, matrix::Shape sel, Operand& op);

/// Parses a reduction axis: None -> kAll (if allow_none), 0 / -2 -> k0,
/// 1 / -1 -> k1; other ints ValueError, beyond a C int OverflowError; bool
/// and non-ints TypeError (bocpy's messages).
bool parse_axis(PyObject* obj, matrix::Axis& axis, bool allow_none);

/// Parses the axis of take/put/concat: as parse_axis without None, but a bad
/// int raises KeyError (as bocpy does).
bool parse_selection_axis(PyObject* obj, matrix::Axis& axis);

/// Parses a (rows, columns) size: a 2-item sequence of ints >= 1.
/// TypeError for other objects, AssertionError for dimensions < 1.
bool parse_size(PyObject* obj, std::size_t& rows, std::size_t& cols);

/// Parses one dimension (an int >= 1): TypeError / AssertionError.
bool parse_dimension(PyObject* obj, std::size_t& out);

/// Normalises one index (negative counts from the end) against extent.
/// TypeError for non-ints; overflow_error (e.g. OverflowError or IndexError)
/// for ints beyond Py_ssize_t; IndexError when out of range.
bool normalize_index(PyObject* obj, std::size_t extent, std::size_t& out, PyObject* overflow_error,
                     const char* axis_name = "row");

/// Parses a non-empty list/tuple of indices (or a single int) against extent.
/// IndexError for an empty list or an index out of range, TypeError for
/// non-ints, OverflowError for huge ints.
bool parse_index_list(PyObject* obj, std::size_t extent, std::vector<std::size_t>& out, const char* axis_name = "row");

/// The broadcast shape of two (three) operands; on mismatch raises
/// ValueError("Dimension mismatch between operands: shape mismatch: (3, 2)
/// vs (4, 2)") -- bocpy's message followed by both shapes.
bool broadcast_operands(matrix::Shape a, matrix::Shape b, matrix::Shape& out);
bool broadcast_operands(matrix::Shape a, matrix::Shape b, matrix::Shape c, matrix::Shape& out);

/// mx::scatter, with a value that does not fit the selection reported in
/// bocpy's words ("cannot assign 3x3 matrix to a selection of shape 2x3").
bool scatter_checked(matrix::MutView dst, const matrix::IndexSet& rows, const matrix::IndexSet& cols,
                     matrix::ConstView value, bool accumulate);

/// Raises ValueError(shape_mismatch_message(a, b) + suffix).
void raise_shape_mismatch(matrix::Shape a, matrix::Shape b, const std::string& suffix = {});

}  // namespace boc::py
