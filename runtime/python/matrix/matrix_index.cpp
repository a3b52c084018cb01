#include "matrix_index.h"

#include <cstddef>
#include <cstring>
#include <vector>

#include "matrix_convert.h"
#include "matrix_type.h"

namespace boc::py {
namespace {

namespace mx = boc::matrix;

/// One axis of a parsed key. `set` may point into `list`, so an AxisKey is
/// filled in place and never moved.
struct AxisKey {
  mx::IndexSet set;
  std::vector<std::size_t> list;
  bool is_list = false;
  bool is_full = false;  // a bare `:`

  AxisKey() = default;
  AxisKey(const AxisKey&) = delete;
  AxisKey& operator=(const AxisKey&) = delete;
};

bool parse_axis_key(PyObject* key, std::size_t extent, AxisKey& out, const char* axis_name) {
  if (PySlice_Check(key)) {
    auto* slice = reinterpret_cast<PySliceObject*>(key);
    out.is_full = slice->start == Py_None && slice->stop == Py_None && slice->step == Py_None;
    Py_ssize_t start = 0;
    Py_ssize_t stop = 0;
    Py_ssize_t step = 0;
    if (PySlice_Unpack(key, &start, &stop, &step) < 0) {
      return false;
    }
    const Py_ssize_t count = PySlice_AdjustIndices(static_cast<Py_ssize_t>(extent), &start, &stop, step);
    if (count <= 0) {
      PyErr_SetString(PyExc_IndexError, "empty selection");
      return false;
    }
    out.set = {start, step, static_cast<std::size_t>(count), nullptr};
    return true;
  }
  if (PyList_Check(key)) {
    if (!parse_index_list(key, extent, out.list, axis_name)) {
      return false;
    }
    out.set = mx::IndexSet::of(out.list);
    out.is_list = true;
    return true;
  }
  if (PyIndex_Check(key)) {
    std::size_t index = 0;
    if (!normalize_index(key, extent, index, PyExc_OverflowError, axis_name)) {
      return false;
    }
    out.set = mx::IndexSet::single(index);
    return true;
  }
  PyErr_Format(PyExc_TypeError,
               "Matrix indices must be ints, slices, lists of ints, a (row, "
               "column) tuple or a mask Matrix, not %.200s",
               Py_TYPE(key)->tp_name);
  return false;
}

/// Parses a non-mask key into row and column selections (spec 5.5 rules).
bool parse_key(PyObject* key, const mx::Dense& m, AxisKey& rows, AxisKey& cols) {
  if (PyTuple_Check(key)) {
    if (PyTuple_GET_SIZE(key) != 2) {
      PyErr_SetString(PyExc_KeyError, "Index must be one dimension (row) or two dimensions (row, column)");
      return false;
    }
    if (!parse_axis_key(PyTuple_GET_ITEM(key, 0), m.rows, rows, "row") ||
        !parse_axis_key(PyTuple_GET_ITEM(key, 1), m.cols, cols, "column")) {
      return false;
    }
  } else {
    if (!parse_axis_key(key, m.rows, rows, "row")) {
      return false;
    }
    cols.set = mx::IndexSet::all(m.cols);
    cols.is_full = true;
  }
  if ((rows.is_list && !cols.is_full) || (cols.is_list && !rows.is_full)) {
    PyErr_SetString(PyExc_IndexError,
                    "list indices are only supported as m[[rows]], "
                    "m[[rows], :] or m[:, [columns]]; use take() otherwise");
    return false;
  }
  return true;
}

/// Row `index` of m (an int key, negative from the end) as a new 1 x
/// columns Matrix, or its element when m has one column (bocpy's m[i]).
PyObject* row_of(PyObject* self, const mx::Dense& m, std::size_t row) {
  if (m.cols == 1) {
    return PyFloat_FromDouble(m.data[row]);
  }
  PyObject* out = matrix_alloc_like(self, 1, m.cols);
  if (out != nullptr) {
    std::memcpy(as_matrix(out)->value.data.data(), m.data.data() + row * m.cols, m.cols * sizeof(double));
  }
  return out;
}

/// The row an int key names (negative from the end), or false with the
/// general path's error (IndexError naming the row, OverflowError beyond
/// Py_ssize_t).
bool int_key_row(PyObject* key, const mx::Dense& m, std::size_t& row) {
  return normalize_index(key, m.rows, row, PyExc_OverflowError, "row");
}

}  // namespace

PyObject* matrix_subscript(PyObject* self, PyObject* key) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* owned = owned_value(self);
    if (owned == nullptr) {
      return nullptr;
    }
    const mx::Dense& m = *owned;
    if (PyLong_CheckExact(key)) {  // m[i]: the common case, no key parsing
      std::size_t row = 0;
      return int_key_row(key, m, row) ? row_of(self, m, row) : nullptr;
    }
    if (is_matrix(key)) {
      const mx::Dense* mask = owned_value(key);
      return mask == nullptr ? nullptr : matrix_wrap(Py_TYPE(self), mx::mask_select(m, *mask));
    }
    AxisKey rows;
    AxisKey cols;
    if (!parse_key(key, m, rows, cols)) {
      return nullptr;
    }
    const bool fancy = rows.is_list || cols.is_list;
    if (!fancy && rows.set.count == 1 && cols.set.count == 1) {
      return PyFloat_FromDouble(m(rows.set[0], cols.set[0]));
    }
    return matrix_wrap(Py_TYPE(self), mx::gather(m, rows.set, cols.set));
  });
}

int matrix_ass_subscript(PyObject* self, PyObject* key, PyObject* value) {
  return guarded_int([&]() -> int {
    if (value == nullptr) {
      PyErr_SetString(PyExc_TypeError, "Matrix does not support item deletion");
      return -1;
    }
    mx::Dense* owned = owned_value(self);
    if (owned == nullptr) {
      return -1;
    }
    mx::Dense& m = *owned;
    if (PyLong_CheckExact(key) && is_matrix(value) && value != self) {
      // m[i] = row: a matrix of exactly the row's shape is copied in; any
      // other value takes the general path below (broadcasts, errors).
      // Errors in the general path's order: the key, then the value.
      std::size_t row = 0;
      if (!int_key_row(key, m, row)) {
        return -1;
      }
      const mx::Dense* v = owned_value(value);
      if (v == nullptr) {
        return -1;
      }
      if (v->rows == 1 && v->cols == m.cols) {
        std::memcpy(m.data.data() + row * m.cols, v->data.data(), m.cols * sizeof(double));
        return 0;
      }
    }
    if (is_matrix(key)) {
      const mx::Dense* mask = owned_value(key);
      Operand v;
      if (mask == nullptr || !coerce_assigned_value(value, m.shape(), v)) {
        return -1;
      }
      mx::mask_assign(m, *mask, v.view);
      return 0;
    }
    AxisKey rows;
    AxisKey cols;
    if (!parse_key(key, m, rows, cols)) {
      return -1;
    }
    Operand v;
    if (!coerce_assigned_value(value, {rows.set.count, cols.set.count}, v)) {
      return -1;
    }
    if (v.matrix == self) {
      // scatter() must not read from the buffer it writes: copy first.
      v.owned = m;
      v.view = mx::ConstView(v.owned);
    }
    if (!scatter_checked(m, rows.set, cols.set, v.view, false)) {
      return -1;
    }
    return 0;
  });
}

PyObject* matrix_item(PyObject* self, Py_ssize_t i) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* owned = owned_value(self);
    if (owned == nullptr) {
      return nullptr;
    }
    const mx::Dense& m = *owned;
    if (i < 0 || static_cast<std::size_t>(i) >= m.rows) {
      PyErr_SetString(PyExc_IndexError, "Matrix row index out of range");
      return nullptr;
    }
    return row_of(self, m, static_cast<std::size_t>(i));
  });
}

}  // namespace boc::py
