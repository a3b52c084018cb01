#include "matrix_convert.h"

#include <climits>
#include <cstdint>

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#include "matrix_type.h"

namespace boc::py {

namespace mx = boc::matrix;

void set_error_from_exception() noexcept {
  try {
    throw;
  } catch (const mx::ShapeError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const mx::IndexError& e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::length_error& e) {
    PyErr_SetString(PyExc_MemoryError, e.what());
  } catch (const std::invalid_argument& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::out_of_range& e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception in bocpy._math");
  }
}

bool parse_args(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                std::initializer_list<const char*> names, std::size_t max_positional, std::size_t required,
                PyObject** out) {
  const std::size_t count = names.size();
  if (static_cast<std::size_t>(nargs) > max_positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zu positional argument%s (%zd given)", fname, max_positional,
                 max_positional == 1 ? "" : "s", nargs);
    return false;
  }
  // A bit per name (methods take at most a handful): no heap allocation on
  // the per-call path.
  std::uint64_t seen = 0;
  const auto bit = [](std::size_t i) { return std::uint64_t{1} << i; };
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    out[i] = args[i];
    seen |= bit(static_cast<std::size_t>(i));
  }
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    std::size_t index = count;
    std::size_t j = 0;
    for (const char* name : names) {
      if (PyUnicode_CompareWithASCIIString(key, name) == 0) {
        index = j;
        break;
      }
      ++j;
    }
    if (index == count) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
      return false;
    }
    if ((seen & bit(index)) != 0) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'", fname, key);
      return false;
    }
    seen |= bit(index);
    out[index] = args[nargs + k];
  }
  std::size_t j = 0;
  for (const char* name : names) {
    if (j >= required) {
      break;
    }
    if ((seen & bit(j)) == 0) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, name);
      return false;
    }
    ++j;
  }
  return true;
}

bool is_real_number(PyObject* obj) {
  if (PyFloat_Check(obj) || PyLong_Check(obj)) {
    return true;
  }
  if (PyComplex_Check(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj)) {
    return false;
  }
  PyNumberMethods* nb = Py_TYPE(obj)->tp_as_number;
  return nb != nullptr && (nb->nb_float != nullptr || nb->nb_index != nullptr);
}

namespace {

/// The value of a real number that is not a float (-1.0 with an error set on
/// failure). An exact int or a bool converts directly, the value float(obj)
/// would give without building the float object (int and bool cannot
/// override __float__); anything else goes through __float__ / __index__.
double real_as_double(PyObject* obj) {
  if (PyLong_CheckExact(obj) || PyBool_Check(obj)) {
    return PyLong_AsDouble(obj);  // OverflowError for huge ints, as float(obj)
  }
  return PyFloat_AsDouble(obj);
}

}  // namespace

bool to_double(PyObject* obj, double& out, const char* what) {
  if (PyFloat_Check(obj)) {
    out = PyFloat_AS_DOUBLE(obj);
    return true;
  }
  if (!is_real_number(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a real number, not %.200s", what, Py_TYPE(obj)->tp_name);
    return false;
  }
  out = real_as_double(obj);
  return !(out == -1.0 && PyErr_Occurred());
}

PyObject* fast_sequence(PyObject* obj, const char* what) {
  PyObject* seq = PySequence_Fast(obj, "");
  if (seq == nullptr) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s must be a sequence of real numbers, not %.200s", what, Py_TYPE(obj)->tp_name);
  }
  return seq;
}

bool sequence_to_doubles(PyObject* obj, std::vector<double>& out, const char* what) {
  PyRef seq(fast_sequence(obj, what));
  if (!seq) {
    return false;
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
  out.resize(static_cast<std::size_t>(n));
  return items_to_doubles(PySequence_Fast_ITEMS(seq.get()), n, out.data(), what);
}

bool items_to_doubles(PyObject* const* items, Py_ssize_t n, double* out, const char* what) {
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!is_real_number(item)) {
      PyErr_Format(PyExc_TypeError, "%s must contain only real numbers, found %.200s", what, Py_TYPE(item)->tp_name);
      return false;
    }
    if (!to_double(item, out[i], what)) {
      return false;
    }
  }
  return true;
}

bool is_matrix(PyObject* obj) { return obj != nullptr && is_matrix_type(Py_TYPE(obj)); }

Coerced coerce_operand(PyObject* obj, Operand& op) {
  if (is_matrix(obj)) {
    const mx::Dense* value = owned_value(obj);
    if (value == nullptr) {
      return Coerced::kError;
    }
    op.view = mx::ConstView(*value);
    op.matrix = obj;
    return Coerced::kOk;
  }
  if (PyFloat_Check(obj)) {
    op.scalar = PyFloat_AS_DOUBLE(obj);
    op.view = mx::ConstView::scalar(op.scalar);
    op.is_number = true;
    return Coerced::kOk;
  }
  if (is_real_number(obj)) {
    op.scalar = real_as_double(obj);
    if (op.scalar == -1.0 && PyErr_Occurred()) {
      return Coerced::kError;
    }
    op.view = mx::ConstView::scalar(op.scalar);
    op.is_number = true;
    return Coerced::kOk;
  }
  if (PyList_Check(obj) || PyTuple_Check(obj)) {
    std::vector<double> values;
    if (!sequence_to_doubles(obj, values, "a list operand")) {
      return Coerced::kError;
    }
    if (values.empty()) {
      PyErr_SetString(PyExc_ValueError, "an empty sequence cannot be used as a Matrix operand");
      return Coerced::kError;
    }
    const std::size_t n = values.size();
    op.owned = mx::Dense(1, n, std::move(values));
    op.view = mx::ConstView(op.owned);
    return Coerced::kOk;
  }
  return Coerced::kNotImplemented;
}

bool require_operand(PyObject* obj, Operand& op, const char* what) {
  switch (coerce_operand(obj, op)) {
    case Coerced::kOk: return true;
    case Coerced::kError: return false;
    case Coerced::kNotImplemented: break;
  }
  PyErr_Format(PyExc_TypeError,
               "%s must be a Matrix, a real number or a list of numbers, not "
               "%.200s",
               what, Py_TYPE(obj)->tp_name);
  return false;
}

bool coerce_assigned_value(PyObject* obj, mx::Shape sel, Operand& op) {
  switch (coerce_operand(obj, op)) {
    case Coerced::kOk: break;
    case Coerced::kError: return false;
    case Coerced::kNotImplemented: PyErr_SetString(PyExc_TypeError, "Invalid value"); return false;
  }
  if (op.matrix == nullptr && !op.is_number && sel.cols == 1 && sel.rows > 1 && op.owned.cols == sel.rows) {
    op.owned.rows = sel.rows;
    op.owned.cols = 1;
    op.view = mx::ConstView(op.owned);
  }
  return true;
}

bool parse_axis(PyObject* obj, mx::Axis& axis, bool allow_none) {
  // bocpy's decoder (_math.c): TypeError for non-ints and bool,
  // OverflowError beyond a C int, ValueError for other ints.
  if (obj == nullptr || obj == Py_None) {
    if (allow_none) {
      axis = mx::Axis::kAll;
      return true;
    }
    PyErr_SetString(PyExc_TypeError, "axis must be an int or None");
    return false;
  }
  if (PyBool_Check(obj)) {
    PyErr_SetString(PyExc_TypeError, "axis must be an int or None, not bool");
    return false;
  }
  if (!PyLong_Check(obj)) {
    PyErr_SetString(PyExc_TypeError, "axis must be an int or None");
    return false;
  }
  const long value = PyLong_AsLong(obj);
  if (value == -1 && PyErr_Occurred()) {
    return false;  // OverflowError from CPython
  }
  if (value < INT_MIN || value > INT_MAX) {
    PyErr_Format(PyExc_OverflowError, "axis %ld out of int range", value);
    return false;
  }
  if (value == 0 || value == -2) {
    axis = mx::Axis::k0;
    return true;
  }
  if (value == 1 || value == -1) {
    axis = mx::Axis::k1;
    return true;
  }
  PyErr_SetString(PyExc_ValueError, "axis must be -2, -1, 0, or 1");
  return false;
}

bool parse_selection_axis(PyObject* obj, mx::Axis& axis) {
  if (obj == nullptr) {
    axis = mx::Axis::k0;
    return true;
  }
  if (PyBool_Check(obj) || !PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "axis must be an int, not %.200s", Py_TYPE(obj)->tp_name);
    return false;
  }
  const long value = PyLong_AsLong(obj);
  if (value == -1 && PyErr_Occurred()) {
    return false;
  }
  if (value < INT_MIN || value > INT_MAX) {  // bocpy parses it as a C int
    PyErr_SetString(PyExc_OverflowError, "signed integer is greater than maximum");
    return false;
  }
  if (value == 0 || value == -2) {
    axis = mx::Axis::k0;
    return true;
  }
  if (value == 1 || value == -1) {
    axis = mx::Axis::k1;
    return true;
  }
  PyErr_SetString(PyExc_KeyError, "Invalid axis (must be 0 or 1)");
  return false;
}

bool parse_dimension(PyObject* obj, std::size_t& out) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "matrix dimensions must be ints, not %.200s", Py_TYPE(obj)->tp_name);
    return false;
  }
  const Py_ssize_t value = PyLong_AsSsize_t(obj);
  if (value == -1 && PyErr_Occurred()) {
    return false;
  }
  if (value < 1) {
    PyErr_SetString(PyExc_AssertionError, "Rows and columns must both be > 0");
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

bool parse_size(PyObject* obj, std::size_t& rows, std::size_t& cols) {
  if (!(PyTuple_Check(obj) || PyList_Check(obj)) || PySequence_Size(obj) != 2) {
    PyErr_Format(PyExc_TypeError, "size must be a (rows, columns) tuple, not %.200s", Py_TYPE(obj)->tp_name);
    return false;
  }
  PyRef r(PySequence_GetItem(obj, 0));
  PyRef c(PySequence_GetItem(obj, 1));
  if (!r || !c) {
    return false;
  }
  return parse_dimension(r.get(), rows) && parse_dimension(c.get(), cols);
}

bool normalize_index(PyObject* obj, std::size_t extent, std::size_t& out, PyObject* overflow_error,
                     const char* axis_name) {
  // Fast path: a small exact int (the common case, e.g. take/scatter index
  // lists), read without the generic __index__ protocol calls.
  if (PyLong_CheckExact(obj) && PyUnstable_Long_IsCompact(reinterpret_cast<PyLongObject*>(obj))) {
    Py_ssize_t value = PyUnstable_Long_CompactValue(reinterpret_cast<PyLongObject*>(obj));
    const auto n = static_cast<Py_ssize_t>(extent);
    if (value < 0) {
      value += n;
    }
    if (value >= 0 && value < n) [[likely]] {
      out = static_cast<std::size_t>(value);
      return true;
    }
  }
  if (!PyIndex_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "indices must be integers, not %.200s", Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t value = PyNumber_AsSsize_t(obj, overflow_error);
  if (value == -1 && PyErr_Occurred()) {
    return false;
  }
  const auto n = static_cast<Py_ssize_t>(extent);
  if (value < 0) {
    value += n;
  }
  if (value < 0 || value >= n) {
    PyErr_Format(PyExc_IndexError, "%s index %R out of range for dimension of size %zd", axis_name, obj, n);
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

bool parse_index_list(PyObject* obj, std::size_t extent, std::vector<std::size_t>& out, const char* axis_name) {
  if (PyLong_CheckExact(obj) || PyBool_Check(obj)) {
    out.resize(1);
    return normalize_index(obj, extent, out[0], PyExc_OverflowError, axis_name);
  }
  if (is_matrix_type(Py_TYPE(obj))) {
    // A row or column Matrix of whole numbers (e.g. the ids a behavior got
    // back) indexes like the list of its values.
    const matrix::Dense* owned = owned_value(obj);
    if (owned == nullptr) {
      return false;
    }
    const matrix::Dense& m = *owned;
    if (m.rows != 1 && m.cols != 1) {
      PyErr_Format(PyExc_TypeError, "an index Matrix must be a row or a column, got (%zu, %zu)", m.rows, m.cols);
      return false;
    }
    const auto n = static_cast<double>(extent);
    out.resize(m.data.size());
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      double v = m.data[i];
      if (!(v > -9.0e18 && v < 9.0e18) || v != static_cast<double>(static_cast<long long>(v))) {
        char text[64];
        std::snprintf(text, sizeof text, "%.17g", v);
        PyErr_Format(PyExc_TypeError, "index Matrix holds %s, not a whole number", text);
        return false;
      }
      if (v < 0) v += n;
      if (v < 0 || v >= n) {
        PyErr_Format(PyExc_IndexError, "%s index %lld out of range for dimension of size %zu", axis_name,
                     static_cast<long long>(m.data[i]), extent);
        return false;
      }
      out[i] = static_cast<std::size_t>(v);
    }
    return true;
  }
  if (!(PyList_Check(obj) || PyTuple_Check(obj))) {
    PyErr_Format(PyExc_TypeError,
                 "indices must be a list or tuple of ints (or a row/column Matrix "
                 "of whole numbers), not %.200s",
                 Py_TYPE(obj)->tp_name);
    return false;
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
  if (n == 0) {
    PyErr_SetString(PyExc_IndexError, "indices must not be empty");
    return false;
  }
  PyObject** items = PySequence_Fast_ITEMS(obj);
  out.resize(static_cast<std::size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!normalize_index(items[i], extent, out[static_cast<std::size_t>(i)], PyExc_OverflowError, axis_name)) {
      return false;
    }
  }
  return true;
}

bool broadcast_operands(mx::Shape a, mx::Shape b, mx::Shape& out) {
  try {
    out = mx::broadcast_shape(a, b);
    return true;
  } catch (const mx::ShapeError& e) {
    PyErr_Format(PyExc_ValueError, "Dimension mismatch between operands: %s", e.what());
    return false;
  }
}

bool broadcast_operands(mx::Shape a, mx::Shape b, mx::Shape c, mx::Shape& out) {
  try {
    out = mx::broadcast_shape(a, b, c);
    return true;
  } catch (const mx::ShapeError& e) {
    PyErr_Format(PyExc_ValueError, "Dimension mismatch between operands: %s", e.what());
    return false;
  }
}

bool scatter_checked(mx::MutView dst, const mx::IndexSet& rows, const mx::IndexSet& cols, mx::ConstView value,
                     bool accumulate) {
  try {
    mx::scatter(dst, rows, cols, value, accumulate);
    return true;
  } catch (const mx::ShapeError&) {
    PyErr_Format(PyExc_ValueError, "cannot assign %zux%zu matrix to a selection of shape %zux%zu", value.rows,
                 value.cols, rows.count, cols.count);
    return false;
  }
}

void raise_shape_mismatch(mx::Shape a, mx::Shape b, const std::string& suffix) {
  const std::string message = mx::shape_mismatch_message(a, b) + suffix;
  PyErr_SetString(PyExc_ValueError, message.c_str());
}

}  // namespace boc::py
