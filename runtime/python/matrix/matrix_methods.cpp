#include "matrix_methods.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "matrix_convert.h"
#include "matrix_module.h"
#include "matrix_type.h"

namespace boc::py {
namespace {

namespace mx = boc::matrix;

template <class F>
PyCFunction cfunc(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

/// The process-wide generator behind uniform/normal/seed. Like bocpy's C
/// rand() it is shared by every interpreter; unlike rand() it is locked and
/// the same on every platform.
struct SharedRandom {
  std::mutex mutex;
  mx::Random rng;
};

SharedRandom& shared_random() {
  static SharedRandom instance;
  return instance;
}

bool truthy(PyObject* obj, bool& out) {
  if (obj == nullptr) {
    out = false;
    return true;
  }
  const int value = PyObject_IsTrue(obj);
  if (value < 0) {
    return false;
  }
  out = value != 0;
  return true;
}

/// self's value, or nullptr with RuntimeError/ValueError set (see
/// owned_value in matrix_type.h).
#define BOC_SELF(name)                       \
  mx::Dense* name##_ptr = owned_value(self); \
  if (name##_ptr == nullptr) {               \
    return nullptr;                          \
  }                                          \
  mx::Dense& name = *name##_ptr

/// Resolves where a result of `shape` is written: self (in_place), out, or
/// nowhere yet (target == nullptr: the caller allocates a new Matrix).
/// bocpy's messages (_math.c use_out_target / unary methods).
bool resolve_target(PyObject* self, PyObject* in_place_obj, PyObject* out_obj, mx::Shape shape, mx::Dense*& target) {
  bool in_place = false;
  if (!truthy(in_place_obj, in_place)) {
    return false;
  }
  PyObject* out = (out_obj == nullptr || out_obj == Py_None) ? nullptr : out_obj;
  if (in_place && out != nullptr) {
    PyErr_SetString(PyExc_ValueError, "out and in_place are mutually exclusive");
    return false;
  }
  target = nullptr;
  if (in_place) {
    target = owned_value(self);
    if (target == nullptr) {
      return false;
    }
    if (target->shape() != shape) {
      raise_shape_mismatch(shape, target->shape(),
                           " (an in-place result must keep the matrix's "
                           "shape)");
      return false;
    }
    return true;
  }
  if (out == nullptr) {
    return true;
  }
  if (!is_matrix(out)) {
    PyErr_SetString(PyExc_TypeError, "out must be a Matrix");
    return false;
  }
  target = owned_value(out);
  if (target == nullptr) {
    return false;
  }
  if (target->shape() != shape) {
    PyErr_Format(PyExc_ValueError, "out shape %zux%zu does not match result %zux%zu", target->rows, target->cols,
                 shape.rows, shape.cols);
    return false;
  }
  return true;
}

/// The object a resolved target belongs to (self for in_place, else out).
PyObject* target_object(PyObject* self, PyObject* out_obj, const mx::Dense* target) {
  return (out_obj != nullptr && out_obj != Py_None && owned_value(out_obj) == target) ? out_obj : self;
}

/// bocpy's orientation rules for 2-D vectors (_math.c classify_vec2_axis):
/// 1x2 and Nx2 are rows (k1), 2x1 and 2xN are columns (k0), 2x2 is rows
/// unless axis=0; an axis that contradicts the only valid orientation, or
/// any other shape, is invalid (false).
bool classify_vec2(mx::Shape shape, bool has_axis, mx::Axis axis, mx::Axis& out) {
  const std::size_t m = shape.rows;
  const std::size_t n = shape.cols;
  if (m == 2 && n == 2) {
    out = has_axis && axis == mx::Axis::k0 ? mx::Axis::k0 : mx::Axis::k1;
    return true;
  }
  if (n == 2) {
    out = mx::Axis::k1;
    return !(has_axis && axis == mx::Axis::k0);
  }
  if (m == 2) {
    out = mx::Axis::k0;
    return !(has_axis && axis == mx::Axis::k1);
  }
  return false;
}

/// Parses the optional axis of angle/perpendicular/cross: sets has_axis.
bool parse_optional_axis(PyObject* obj, bool& has_axis, mx::Axis& axis) {
  has_axis = obj != nullptr && obj != Py_None;
  return parse_axis(obj, axis, true);
}

// ---- Copies, pickling, conversion -------------------------------------------

PyObject* m_copy(PyObject* self, PyObject* /*unused*/) {
  return guarded([&]() -> PyObject* {
    BOC_SELF(m);
    PyObject* out = matrix_alloc_like(self, m.rows, m.cols);
    if (out != nullptr) {
      std::memcpy(as_matrix(out)->value.data.data(), m.data.data(), m.size() * sizeof(double));
    }
    return out;
  });
}

PyObject* m_deepcopy(PyObject* self, PyObject* /*memo*/) { return m_copy(self, nullptr); }

PyObject* m_reduce(PyObject* self, PyObject* /*unused*/) {
  if (!as_matrix(self)->shared && as_matrix(self)->value.rows == 0) {
    PyErr_SetString(PyExc_ValueError, "Cannot pickle an uninitialized matrix");
    return nullptr;
  }
  BOC_SELF(m);
  // The reconstructor is looked up on the module that defined this type.
  PyObject* module = PyType_GetModuleByDef(Py_TYPE(self), math_module_def());
  if (module == nullptr) {
    return nullptr;
  }
  PyRef unpickle(PyObject_GetAttrString(module, "_matrix_unpickle"));
  if (!unpickle) {
    return nullptr;
  }
  PyRef bytes(PyBytes_FromStringAndSize(reinterpret_cast<const char*>(m.data.data()),
                                        static_cast<Py_ssize_t>(m.size() * sizeof(double))));
  if (!bytes) {
    return nullptr;
  }
  return Py_BuildValue("(O(nnO))", unpickle.get(), static_cast<Py_ssize_t>(m.rows), static_cast<Py_ssize_t>(m.cols),
                       bytes.get());
}

PyObject* m_tolist(PyObject* self, PyObject* /*unused*/) {
  BOC_SELF(m);
  PyRef rows(PyList_New(static_cast<Py_ssize_t>(m.rows)));
  if (!rows) {
    return nullptr;
  }
  for (std::size_t r = 0; r < m.rows; ++r) {
    PyObject* row = PyList_New(static_cast<Py_ssize_t>(m.cols));
    if (row == nullptr) {
      return nullptr;
    }
    PyList_SET_ITEM(rows.get(), static_cast<Py_ssize_t>(r), row);
    for (std::size_t c = 0; c < m.cols; ++c) {
      PyObject* item = PyFloat_FromDouble(m(r, c));
      if (item == nullptr) {
        return nullptr;
      }
      PyList_SET_ITEM(row, static_cast<Py_ssize_t>(c), item);
    }
  }
  return rows.release();
}

/// Transposes self's buffer in place (BufferError while a memoryview of it
/// exists, since the view's shape would lie).
bool transpose_self(PyObject* self, mx::Dense& m) {
  if (as_matrix(self)->exports > 0) {
    PyErr_SetString(PyExc_BufferError,
                    "cannot change the shape of a Matrix while a buffer "
                    "(memoryview) of it exists");
    return false;
  }
  if (m.rows == 1 || m.cols == 1) {
    std::swap(m.rows, m.cols);  // same row-major order
  } else {
    m = mx::transpose(m);
  }
  return true;
}

/// transpose(in_place=False): bocpy's signature (in_place may be positional).
PyObject* m_transpose(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* in_place_obj = nullptr;
    bool in_place = false;
    if (!parse_args("transpose", args, nargs, kwnames, {"in_place"}, 1, 0, &in_place_obj) ||
        !truthy(in_place_obj, in_place)) {
      return nullptr;
    }
    BOC_SELF(m);
    if (in_place) {
      return transpose_self(self, m) ? Py_NewRef(self) : nullptr;
    }
    return matrix_wrap(Py_TYPE(self), mx::transpose(m));
  });
}

PyObject* m_transpose_in_place(PyObject* self, PyObject* /*unused*/) {
  return guarded([&]() -> PyObject* {
    BOC_SELF(m);
    if (!transpose_self(self, m)) {
      return nullptr;
    }
    Py_RETURN_NONE;
  });
}

PyObject* m_reshape(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("reshape", args, nargs, kwnames, {"rows", "columns"}, 2, 2, argv)) {
      return nullptr;
    }
    std::size_t rows = 0;
    std::size_t cols = 0;
    if (!parse_dimension(argv[0], rows) || !parse_dimension(argv[1], cols)) {
      return nullptr;
    }
    BOC_SELF(m);
    return matrix_wrap(Py_TYPE(self), mx::reshape(m, mx::Shape{rows, cols}));
  });
}

// ---- Selection --------------------------------------------------------------

PyObject* m_take(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("take", args, nargs, kwnames, {"indices", "axis"}, 2, 1, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    mx::Axis axis = mx::Axis::k0;
    if (!parse_selection_axis(argv[1], axis)) {
      return nullptr;
    }
    const bool rows = axis == mx::Axis::k0;
    std::vector<std::size_t> indices;
    if (PyLong_Check(argv[0])) {  // take() wants a sequence (or an index Matrix)
      PyErr_SetString(PyExc_TypeError, "Indices must be specified as a list or a tuple of ints");
      return nullptr;
    }
    if (!parse_index_list(argv[0], rows ? m.rows : m.cols, indices, rows ? "row" : "column")) {
      return nullptr;
    }
    const mx::IndexSet picked = mx::IndexSet::of(indices);
    const mx::IndexSet all = mx::IndexSet::all(rows ? m.cols : m.rows);
    PyRef out(matrix_alloc_like(self, rows ? picked.count : m.rows, rows ? m.cols : picked.count));
    if (out) {
      mx::gather(m, rows ? picked : all, rows ? all : picked, as_matrix(out.get())->value);
    }
    return out.release();
  });
}

/// put(indices, value, axis=0, accumulate=False): returns self, as bocpy.
PyObject* m_put(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_args("put", args, nargs, kwnames, {"indices", "value", "axis", "accumulate"}, 4, 2, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    mx::Axis axis = mx::Axis::k0;
    bool accumulate = false;
    if (!parse_selection_axis(argv[2], axis) || !truthy(argv[3], accumulate)) {
      return nullptr;
    }
    const bool rows = axis == mx::Axis::k0;
    std::vector<std::size_t> indices;
    if (!parse_index_list(argv[0], rows ? m.rows : m.cols, indices, rows ? "row" : "column")) {
      return nullptr;
    }
    const mx::IndexSet picked = mx::IndexSet::of(indices);
    const mx::IndexSet all = mx::IndexSet::all(rows ? m.cols : m.rows);
    const mx::Shape sel = rows ? mx::Shape{picked.count, m.cols} : mx::Shape{m.rows, picked.count};
    Operand value;
    if (!coerce_assigned_value(argv[1], sel, value)) {
      return nullptr;
    }
    if (value.matrix != nullptr && owned_value(value.matrix) == &m) {
      value.owned = m;  // scatter() must not read the buffer it writes
      value.view = mx::ConstView(value.owned);
    }
    const bool ok = rows ? scatter_checked(m, picked, all, value.view, accumulate)
                         : scatter_checked(m, all, picked, value.view, accumulate);
    return ok ? Py_NewRef(self) : nullptr;
  });
}

// ---- Reductions -------------------------------------------------------------

constexpr const char* reduction_name(mx::Reduction op) {
  switch (op) {
    case mx::Reduction::kSum: return "sum";
    case mx::Reduction::kMean: return "mean";
    case mx::Reduction::kSumSquares: return "magnitude_squared";
    case mx::Reduction::kMagnitude: return "magnitude";
    case mx::Reduction::kMin: return "min";
    case mx::Reduction::kMax: return "max";
    case mx::Reduction::kArgMin: return "argmin";
    case mx::Reduction::kArgMax: return "argmax";
  }
  return "reduce";
}

template <mx::Reduction Op>
PyObject* m_reduction(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* axis_obj = nullptr;
    if (!parse_args(reduction_name(Op), args, nargs, kwnames, {"axis"}, 1, 0, &axis_obj)) {
      return nullptr;
    }
    mx::Axis axis = mx::Axis::kAll;
    if (!parse_axis(axis_obj, axis, true)) {
      return nullptr;
    }
    BOC_SELF(m);
    if (axis == mx::Axis::kAll) {  // a number: no result matrix to allocate
      const double value = mx::reduce_all(Op, m);
      if constexpr (Op == mx::Reduction::kArgMin || Op == mx::Reduction::kArgMax) {
        return PyLong_FromSize_t(static_cast<std::size_t>(value));
      }
      return PyFloat_FromDouble(value);
    }
    const mx::Shape shape = mx::reduced_shape(m.shape(), axis);
    PyObject* out = matrix_alloc_like(self, shape.rows, shape.cols);
    if (out != nullptr) {
      mx::reduce(Op, m, axis, as_matrix(out)->value);
    }
    return out;
  });
}

PyObject* m_normalize(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("normalize", args, nargs, kwnames, {"axis", "in_place"}, 2, 0, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    mx::Axis axis = mx::Axis::kAll;
    bool in_place = false;
    if (!parse_axis(argv[0], axis, true) || !truthy(argv[1], in_place)) {
      return nullptr;
    }
    if (in_place) {
      mx::normalize(m, axis, m);
      return Py_NewRef(self);
    }
    PyObject* out = matrix_alloc_like(self, m.rows, m.cols);
    if (out != nullptr) {
      mx::normalize(m, axis, as_matrix(out)->value);
    }
    return out;
  });
}

/// vecdot(other, axis=None) with bocpy's operand rules (_math.c
/// Matrix_vecdot): same shape, a row or column vector against a matrix, or
/// two vectors of one length in any orientation (walked flat).
PyObject* m_vecdot(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("vecdot", args, nargs, kwnames, {"other", "axis"}, 2, 1, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    Operand other;
    if (!require_operand(argv[0], other, "other")) {
      return nullptr;
    }
    const mx::Shape a = m.shape();
    mx::ConstView b = other.view;
    const bool vectors = (a.rows == 1 || a.cols == 1) && (b.rows == 1 || b.cols == 1) && a.size() == b.size();
    if (a == b.shape() || (a.rows == b.rows && (a.cols == 1 || b.cols == 1)) ||
        (a.cols == b.cols && (a.rows == 1 || b.rows == 1))) {
      // broadcasts as is
    } else if (vectors) {
      b = mx::ConstView(b.data, a.rows, a.cols);  // walk both flat
    } else {
      PyErr_Format(PyExc_ValueError, "vecdot: lhs %zux%zu incompatible with rhs %zux%zu", a.rows, a.cols, b.rows,
                   b.cols);
      return nullptr;
    }
    mx::Axis axis = mx::Axis::kAll;
    if (!parse_axis(argv[1], axis, true)) {
      return nullptr;
    }
    return reduction_result(Py_TYPE(self), mx::vecdot(m, b, axis), axis);
  });
}

// ---- Geometry ---------------------------------------------------------------

PyObject* m_angle(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* axis_obj = nullptr;
    if (!parse_args("angle", args, nargs, kwnames, {"axis"}, 1, 0, &axis_obj)) {
      return nullptr;
    }
    BOC_SELF(m);
    bool has_axis = false;
    mx::Axis axis = mx::Axis::kAll;
    mx::Axis layout = mx::Axis::k1;
    if (!parse_optional_axis(axis_obj, has_axis, axis)) {
      return nullptr;
    }
    if (!classify_vec2(m.shape(), has_axis, axis, layout)) {
      PyErr_SetString(PyExc_ValueError, "angle requires a 2D vector or Nx2 or 2xN matrix");
      return nullptr;
    }
    mx::Dense result = mx::angle(m, layout);
    if (m.size() == 2) {  // one vector: a float
      return PyFloat_FromDouble(result.data[0]);
    }
    return matrix_wrap(Py_TYPE(self), std::move(result));
  });
}

/// perpendicular(axis=None, in_place=False): (x, y) -> (-y, x).
PyObject* m_perpendicular(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("perpendicular", args, nargs, kwnames, {"axis", "in_place"}, 2, 0, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    bool has_axis = false;
    bool in_place = false;
    mx::Axis axis = mx::Axis::kAll;
    mx::Axis layout = mx::Axis::k1;
    if (!truthy(argv[1], in_place) || !parse_optional_axis(argv[0], has_axis, axis)) {
      return nullptr;
    }
    if (!classify_vec2(m.shape(), has_axis, axis, layout)) {
      PyErr_SetString(PyExc_ValueError, "perpendicular requires a 2D vector or Nx2 or 2xN matrix");
      return nullptr;
    }
    if (in_place) {
      // Into the existing buffer (a memoryview of it stays valid): each
      // (x, y) pair becomes (-y, x).
      double* p = m.data.data();
      if (layout == mx::Axis::k1) {
        mx::rotate_pairs(p, p, m.rows);
      } else {
        double* y = p + m.cols;
        for (std::size_t v = 0; v < m.cols; ++v) {
          const double x = p[v];
          p[v] = -y[v];
          y[v] = x;
        }
      }
      return Py_NewRef(self);
    }
    return matrix_wrap(Py_TYPE(self), mx::perpendicular(m, layout));
  });
}

/// cross(other, axis=None) with bocpy's shape rules (_math.c
/// classify_cross_axis and Matrix_cross).
PyObject* m_cross(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("cross", args, nargs, kwnames, {"other", "axis"}, 2, 1, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    bool has_axis = false;
    mx::Axis axis = mx::Axis::kAll;
    if (!parse_optional_axis(argv[1], has_axis, axis)) {
      return nullptr;
    }
    Operand other;
    if (!require_operand(argv[0], other, "other")) {
      return nullptr;
    }
    const std::size_t rows = m.rows;
    const std::size_t cols = m.cols;
    const bool ax0 = has_axis && axis == mx::Axis::k0;
    const bool ax1 = has_axis && axis == mx::Axis::k1;
    // dim: vector length (2 or 3); layout: k1 = vectors are rows.
    std::size_t dim = 0;
    mx::Axis layout = mx::Axis::k1;
    bool valid = true;
    if (rows == cols && (rows == 2 || rows == 3)) {
      dim = rows;
      layout = ax0 ? mx::Axis::k0 : mx::Axis::k1;
    } else if (rows == 1 && (cols == 2 || cols == 3)) {
      dim = cols;
      valid = !ax0;
    } else if (cols == 1 && (rows == 2 || rows == 3)) {
      dim = rows;
      layout = mx::Axis::k0;
      valid = !ax1;
    } else if (cols == 2 && rows != 3) {
      dim = 2;
      valid = !ax0;
    } else if (rows == 2 && cols != 3) {
      dim = 2;
      layout = mx::Axis::k0;
      valid = !ax1;
    } else if (cols == 3 && rows != 2) {
      dim = 3;
      valid = !ax0;
    } else if (rows == 3 && cols != 2) {
      dim = 3;
      layout = mx::Axis::k0;
      valid = !ax1;
    } else if (cols == 2) {  // 3x2: always a batch of 2-D rows
      dim = 2;
    } else if (rows == 2) {  // 2x3: always a batch of 2-D columns
      dim = 2;
      layout = mx::Axis::k0;
    } else {
      valid = false;
    }
    if (!valid) {
      PyErr_SetString(PyExc_ValueError,
                      "cross requires a 2D or 3D vector or Nx2 or 2xN or Nx3 "
                      "or 3xN matrix");
      return nullptr;
    }
    const mx::ConstView b = other.view;
    const bool single = m.size() == dim;
    const bool same_shape = b.shape() == m.shape();
    const bool vector_rhs = b.size() == dim && (b.rows == 1 || b.cols == 1);
    if (single ? b.size() != dim : !(same_shape || vector_rhs)) {
      const char* kind = single                   ? (dim == 2 ? "2D vector" : "3D vector")
                         : layout == mx::Axis::k1 ? (dim == 2 ? "Nx2 batch" : "Nx3 batch")
                                                  : (dim == 2 ? "2xN batch" : "3xN batch");
      PyErr_Format(PyExc_ValueError, "cross: %s lhs %zux%zu incompatible with rhs %zux%zu", kind, rows, cols, b.rows,
                   b.cols);
      return nullptr;
    }
    // A vector operand in any orientation is read as one vector laid out
    // like self's vectors (a row for k1, a column for k0).
    const mx::ConstView rhs = same_shape && !single    ? b
                              : layout == mx::Axis::k1 ? mx::ConstView(b.data, 1, dim)
                                                       : mx::ConstView(b.data, dim, 1);
    mx::Dense result = mx::cross(m, rhs, layout);
    if (dim == 2 && single) {
      return PyFloat_FromDouble(result.data[0]);
    }
    return matrix_wrap(Py_TYPE(self), std::move(result));
  });
}

PyObject* m_pairwise_diff(PyObject* self, PyObject* other_obj) {
  return guarded([&]() -> PyObject* {
    BOC_SELF(m);
    Operand other;
    if (!require_operand(other_obj, other, "other")) {
      return nullptr;
    }
    std::vector<mx::Dense> parts = mx::pairwise_diff(m, other.view);
    PyRef tuple(PyTuple_New(static_cast<Py_ssize_t>(parts.size())));
    if (!tuple) {
      return nullptr;
    }
    for (std::size_t c = 0; c < parts.size(); ++c) {
      PyObject* item = matrix_wrap(Py_TYPE(self), std::move(parts[c]));
      if (item == nullptr) {
        return nullptr;
      }
      PyTuple_SET_ITEM(tuple.get(), static_cast<Py_ssize_t>(c), item);
    }
    return tuple.release();
  });
}

PyObject* m_pairwise_dist2(PyObject* self, PyObject* other_obj) {
  return guarded([&]() -> PyObject* {
    BOC_SELF(m);
    Operand other;
    if (!require_operand(other_obj, other, "other")) {
      return nullptr;
    }
    return matrix_wrap(Py_TYPE(self), mx::pairwise_dist2(m, other.view));
  });
}

// ---- Element-wise operations with out= --------------------------------------

constexpr const char* binary_name(mx::BinaryOp op) {
  switch (op) {
    case mx::BinaryOp::kAdd: return "add";
    case mx::BinaryOp::kSubtract: return "subtract";
    case mx::BinaryOp::kMultiply: return "multiply";
    case mx::BinaryOp::kDivide: return "divide";
    case mx::BinaryOp::kLess: return "less";
    case mx::BinaryOp::kLessEqual: return "less_equal";
    case mx::BinaryOp::kGreater: return "greater";
    case mx::BinaryOp::kGreaterEqual: return "greater_equal";
    case mx::BinaryOp::kEqual: return "equal";
    case mx::BinaryOp::kNotEqual: return "not_equal";
    case mx::BinaryOp::kMinimum: return "minimum";
    case mx::BinaryOp::kMaximum: return "maximum";
  }
  return "binary";
}

template <mx::BinaryOp Op>
PyObject* m_binary(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args(binary_name(Op), args, nargs, kwnames, {"other", "out"}, 1, 1, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    Operand other;
    mx::Shape shape;
    mx::Dense* target = nullptr;
    if (!require_operand(argv[0], other, "other") || !broadcast_operands(m.shape(), other.view.shape(), shape) ||
        !resolve_target(self, nullptr, argv[1], shape, target)) {
      return nullptr;
    }
    if (target != nullptr) {
      mx::binary(Op, m, other.view, *target);
      return Py_NewRef(argv[1]);
    }
    return matrix_wrap(Py_TYPE(self), mx::binary(Op, m, other.view));
  });
}

PyObject* m_matmul(PyObject* self, PyObject* other_obj) {
  return guarded([&]() -> PyObject* {
    BOC_SELF(m);
    Operand other;
    const Coerced coerced = coerce_operand(other_obj, other);
    if (coerced == Coerced::kError) {
      return nullptr;
    }
    if (coerced == Coerced::kNotImplemented || other.is_number) {
      PyErr_Format(PyExc_TypeError, "matmul() needs a Matrix or a list of numbers, not %.200s",
                   Py_TYPE(other_obj)->tp_name);
      return nullptr;
    }
    return matrix_wrap(Py_TYPE(self), mx::matmul(m, other.view));
  });
}

constexpr const char* unary_name(mx::UnaryOp op) {
  switch (op) {
    case mx::UnaryOp::kNegate: return "negate";
    case mx::UnaryOp::kAbs: return "abs";
    case mx::UnaryOp::kSqrt: return "sqrt";
    case mx::UnaryOp::kCeil: return "ceil";
    case mx::UnaryOp::kFloor: return "floor";
    case mx::UnaryOp::kRound: return "round";
  }
  return "unary";
}

/// negate/abs/sqrt/ceil/floor/round(in_place=False, *, out=None).
template <mx::UnaryOp Op>
PyObject* m_unary(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args(unary_name(Op), args, nargs, kwnames, {"in_place", "out"}, 1, 0, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    mx::Dense* target = nullptr;
    if (!resolve_target(self, argv[0], argv[1], m.shape(), target)) {
      return nullptr;
    }
    if (target != nullptr) {
      mx::unary(Op, m, *target);
      return Py_NewRef(target_object(self, argv[1], target));
    }
    return matrix_wrap(Py_TYPE(self), mx::unary(Op, m));
  });
}

/// A clip bound: None means unbounded (an infinite scalar).
bool clip_bound(PyObject* obj, double infinity, Operand& op, const char* what) {
  if (obj == nullptr || obj == Py_None) {
    op.scalar = infinity;
    op.view = mx::ConstView::scalar(op.scalar);
    op.is_number = true;
    return true;
  }
  return require_operand(obj, op, what);
}

/// clip(min=None, max=None, *, in_place=False, out=None): either bound may
/// be omitted, not both (bocpy).
PyObject* m_clip(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_args("clip", args, nargs, kwnames, {"min", "max", "in_place", "out"}, 2, 0, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    const bool has_min = argv[0] != nullptr && argv[0] != Py_None;
    const bool has_max = argv[1] != nullptr && argv[1] != Py_None;
    if (!has_min && !has_max) {
      PyErr_SetString(PyExc_ValueError, "clip: must provide min and/or max");
      return nullptr;
    }
    constexpr double kInf = std::numeric_limits<double>::infinity();
    Operand lo;
    Operand hi;
    if (!clip_bound(argv[0], -kInf, lo, "min") || !clip_bound(argv[1], kInf, hi, "max")) {
      return nullptr;
    }
    if (has_min && has_max && lo.is_number && hi.is_number && hi.scalar < lo.scalar) {
      PyErr_SetString(PyExc_AssertionError, "maxval < minval");
      return nullptr;
    }
    mx::Shape shape;
    mx::Dense* target = nullptr;
    if (!broadcast_operands(m.shape(), lo.view.shape(), hi.view.shape(), shape) ||
        !resolve_target(self, argv[2], argv[3], shape, target)) {
      return nullptr;
    }
    if (target != nullptr) {
      mx::clip(m, lo.view, hi.view, *target);
      return Py_NewRef(target_object(self, argv[3], target));
    }
    mx::Dense out = mx::Dense::uninit(shape.rows, shape.cols);
    mx::clip(m, lo.view, hi.view, out);
    return matrix_wrap(Py_TYPE(self), std::move(out));
  });
}

/// An fma / scaled_add operand in bocpy's rules (_math.c
/// classify_broadcast_operand): a real number or a 1x1 matrix is a scalar;
/// a matrix of self's shape, a 1 x columns row or a rows x 1 column
/// broadcasts to self's shape; anything else is refused. The result always
/// has self's shape. A list/tuple counts as a 1 x n row (an extension).
bool classify_fma_operand(const char* op_name, PyObject* obj, mx::Shape self, const char* what, Operand& op) {
  if (!is_matrix(obj) && !is_real_number(obj) && !PyList_Check(obj) && !PyTuple_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be a Matrix or a real number", op_name, what);
    return false;
  }
  if (coerce_operand(obj, op) != Coerced::kOk) {
    return false;
  }
  const mx::Shape s = op.view.shape();
  if (s.size() == 1 || s == self || (s.rows == 1 && s.cols == self.cols) || (s.cols == 1 && s.rows == self.rows)) {
    return true;
  }
  PyErr_Format(PyExc_ValueError, "%s: %s shape %zux%zu incompatible with self %zux%zu", op_name, what, s.rows, s.cols,
               self.rows, self.cols);
  return false;
}

/// fma(b, c, /, in_place=False, *, out=None): self * b + c, one rounding.
PyObject* m_fma(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_args("fma", args, nargs, kwnames, {"b", "c", "in_place", "out"}, 3, 2, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    Operand b;
    Operand c;
    mx::Dense* target = nullptr;
    if (!classify_fma_operand("fma", argv[0], m.shape(), "b", b) ||
        !classify_fma_operand("fma", argv[1], m.shape(), "c", c) ||
        !resolve_target(self, argv[2], argv[3], m.shape(), target)) {
      return nullptr;
    }
    if (target != nullptr) {
      mx::fused_multiply_add(m, b.view, c.view, *target);
      return Py_NewRef(target_object(self, argv[3], target));
    }
    mx::Dense out = mx::Dense::uninit(m.rows, m.cols);
    mx::fused_multiply_add(m, b.view, c.view, out);
    return matrix_wrap(Py_TYPE(self), std::move(out));
  });
}

/// scaled_add(s, x, /, in_place=False, *, out=None): self + s * x with two
/// roundings; s as fma's multiplier, x a matrix (or list) of self's shape.
PyObject* m_scaled_add(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_args("scaled_add", args, nargs, kwnames, {"s", "x", "in_place", "out"}, 3, 2, argv)) {
      return nullptr;
    }
    BOC_SELF(m);
    Operand s;
    Operand x;
    if (!classify_fma_operand("scaled_add", argv[0], m.shape(), "s", s)) {
      return nullptr;
    }
    if (!is_matrix(argv[1]) && !PyList_Check(argv[1]) && !PyTuple_Check(argv[1])) {
      PyErr_SetString(PyExc_TypeError, "Expected a list/tuple of numbers");
      return nullptr;
    }
    if (coerce_operand(argv[1], x) != Coerced::kOk) {
      return nullptr;
    }
    if (x.view.shape() != m.shape()) {
      PyErr_Format(PyExc_ValueError, "scaled_add: x shape %zux%zu does not match self %zux%zu", x.view.rows,
                   x.view.cols, m.rows, m.cols);
      return nullptr;
    }
    mx::Dense* target = nullptr;
    if (!resolve_target(self, argv[2], argv[3], m.shape(), target)) {
      return nullptr;
    }
    mx::Dense out;
    if (target == nullptr) {
      out = mx::Dense::uninit(m.rows, m.cols);
      target = &out;
    }
    mx::scaled_add(m, s.view, x.view, *target);
    if (target == &out) {
      return matrix_wrap(Py_TYPE(self), std::move(out));
    }
    return Py_NewRef(target_object(self, argv[3], target));
  });
}

// ---- Class methods ----------------------------------------------------------

PyTypeObject* as_type(PyObject* cls) { return reinterpret_cast<PyTypeObject*>(cls); }

template <int Fill>
PyObject* c_filled(PyObject* cls, PyObject* size) {
  return guarded([&]() -> PyObject* {
    std::size_t rows = 0;
    std::size_t cols = 0;
    if (!parse_size(size, rows, cols)) {
      return nullptr;
    }
    return matrix_wrap(as_type(cls), mx::Dense(rows, cols, static_cast<double>(Fill)));
  });
}

enum class Distribution { kUniform, kNormal };

template <Distribution D>
PyObject* c_random(PyObject* cls, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    constexpr bool kUniform = D == Distribution::kUniform;
    const char* name = kUniform ? "uniform" : "normal";
    PyObject* argv[3] = {nullptr, nullptr, nullptr};
    const bool parsed = kUniform ? parse_args(name, args, nargs, kwnames, {"minval", "maxval", "size"}, 3, 0, argv)
                                 : parse_args(name, args, nargs, kwnames, {"mean", "stddev", "size"}, 3, 0, argv);
    if (!parsed) {
      return nullptr;
    }
    double a = 0.0;
    double b = 1.0;
    if ((argv[0] != nullptr && argv[0] != Py_None && !to_double(argv[0], a, kUniform ? "minval" : "mean")) ||
        (argv[1] != nullptr && argv[1] != Py_None && !to_double(argv[1], b, kUniform ? "maxval" : "stddev"))) {
      return nullptr;
    }
    SharedRandom& shared = shared_random();
    if (argv[2] == nullptr || argv[2] == Py_None) {
      std::lock_guard<std::mutex> lock(shared.mutex);
      const double value = kUniform ? a + (b - a) * shared.rng.next_double() : a + b * shared.rng.next_normal();
      return PyFloat_FromDouble(value);
    }
    std::size_t rows = 0;
    std::size_t cols = 0;
    if (!parse_size(argv[2], rows, cols)) {
      return nullptr;
    }
    mx::Dense out = mx::Dense::uninit(rows, cols);
    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      if constexpr (kUniform) {
        mx::fill_uniform(shared.rng, a, b, out);
      } else {
        mx::fill_normal(shared.rng, a, b, out);
      }
    }
    return matrix_wrap(as_type(cls), std::move(out));
  });
}

PyObject* c_seed(PyObject* /*cls*/, PyObject* value) {
  if (PyBool_Check(value) || !PyLong_Check(value)) {
    PyErr_Format(PyExc_TypeError, "seed must be an int, not %.200s", Py_TYPE(value)->tp_name);
    return nullptr;
  }
  const unsigned long long seed = PyLong_AsUnsignedLongLongMask(value);
  if (seed == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    return nullptr;
  }
  SharedRandom& shared = shared_random();
  std::lock_guard<std::mutex> lock(shared.mutex);
  shared.rng.seed(seed);
  Py_RETURN_NONE;
}

PyObject* c_vector(PyObject* cls, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("vector", args, nargs, kwnames, {"values", "as_column"}, 2, 1, argv)) {
      return nullptr;
    }
    bool as_column = false;
    if (!truthy(argv[1], as_column)) {
      return nullptr;
    }
    PyRef seq(fast_sequence(argv[0], "values"));
    if (!seq) {
      return nullptr;
    }
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(seq.get());
    if (count == 0) {
      PyErr_SetString(PyExc_ValueError, "vector() needs at least one value");
      return nullptr;
    }
    // Straight into the result's buffer (from the object pool for short vectors).
    const auto n = static_cast<std::size_t>(count);
    PyRef out(as_column ? matrix_alloc(as_type(cls), n, 1) : matrix_alloc(as_type(cls), 1, n));
    if (!out ||
        !items_to_doubles(PySequence_Fast_ITEMS(seq.get()), count, as_matrix(out.get())->value.data.data(), "values")) {
      return nullptr;
    }
    return out.release();
  });
}

PyObject* c_concat(PyObject* cls, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[2] = {nullptr, nullptr};
    if (!parse_args("concat", args, nargs, kwnames, {"values", "axis"}, 2, 1, argv)) {
      return nullptr;
    }
    mx::Axis axis = mx::Axis::k0;
    if (!parse_selection_axis(argv[1], axis)) {
      return nullptr;
    }
    PyObject* values = argv[0];
    if (!(PyList_Check(values) || PyTuple_Check(values))) {
      PyErr_Format(PyExc_TypeError, "concat() needs a list or tuple of matrices, not %.200s", Py_TYPE(values)->tp_name);
      return nullptr;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(values);
    if (n == 0) {
      Py_RETURN_NONE;
    }
    // Hold the items: a list could otherwise change under us.
    PyRef items(PySequence_Tuple(values));
    if (!items) {
      return nullptr;
    }
    std::vector<mx::Dense> owned;
    owned.reserve(static_cast<std::size_t>(n));
    std::vector<mx::ConstView> parts;
    parts.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = PyTuple_GET_ITEM(items.get(), i);
      if (is_matrix(item)) {
        const mx::Dense* part = owned_value(item);
        if (part == nullptr) {
          return nullptr;
        }
        parts.emplace_back(*part);
        continue;
      }
      std::vector<double> flat;
      if (!sequence_to_doubles(item, flat, "concat() items")) {
        return nullptr;
      }
      if (flat.empty()) {
        PyErr_SetString(PyExc_ValueError, "concat() items must not be empty");
        return nullptr;
      }
      const std::size_t len = flat.size();
      owned.push_back(axis == mx::Axis::k0 ? mx::Dense(1, len, std::move(flat)) : mx::Dense(len, 1, std::move(flat)));
      parts.emplace_back(owned.back());
    }
    try {
      return matrix_wrap(as_type(cls), mx::concat(parts, axis));
    } catch (const mx::ShapeError& e) {
      // bocpy asserts here; keep its exception type.
      PyErr_SetString(PyExc_AssertionError, e.what());
      return nullptr;
    }
  });
}

PyObject* c_where(PyObject* cls, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[3] = {nullptr, nullptr, nullptr};
    if (!parse_args("where", args, nargs, kwnames, {"mask", "a", "b"}, 3, 3, argv)) {
      return nullptr;
    }
    Operand mask;
    Operand a;
    Operand b;
    mx::Shape shape;
    if (!require_operand(argv[0], mask, "mask") || !require_operand(argv[1], a, "a") ||
        !require_operand(argv[2], b, "b") ||
        !broadcast_operands(mask.view.shape(), a.view.shape(), b.view.shape(), shape)) {
      return nullptr;
    }
    // where() broadcasts (an extension), but a 1x1 Matrix is a matrix, not
    // a scalar: it must match the mask's shape (bocpy's test_one_by_one_not_
    // scalar).
    for (const Operand* op : {&a, &b}) {
      if (op->matrix != nullptr && op->view.size() == 1 && shape.size() != 1) {
        PyErr_SetString(PyExc_ValueError,
                        "where() matrix or list/tuple operands must match the "
                        "mask shape");
        return nullptr;
      }
    }
    return matrix_wrap(as_type(cls), mx::where(mask.view, a.view, b.view));
  });
}

PyObject* c_allclose(PyObject* /*cls*/, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* argv[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    if (!parse_args("allclose", args, nargs, kwnames, {"lhs", "rhs", "rtol", "atol", "equal_nan"}, 5, 2, argv)) {
      return nullptr;
    }
    Operand lhs;
    Operand rhs;
    double rtol = 1e-05;
    double atol = 1e-08;
    bool equal_nan = false;
    if (!require_operand(argv[0], lhs, "lhs") || !require_operand(argv[1], rhs, "rhs") ||
        (argv[2] != nullptr && !to_double(argv[2], rtol, "rtol")) ||
        (argv[3] != nullptr && !to_double(argv[3], atol, "atol")) || !truthy(argv[4], equal_nan)) {
      return nullptr;
    }
    return PyBool_FromLong(mx::allclose(lhs.view, rhs.view, rtol, atol, equal_nan) ? 1 : 0);
  });
}

// ---- The table --------------------------------------------------------------

constexpr int kFast = METH_FASTCALL | METH_KEYWORDS;

#define BOC_AXIS_DOC(name, what)                                             \
  name "($self, /, axis=None)\n--\n\n" what                                  \
       "\n\naxis=None reduces every element to a float; axis=0 (or -2) "     \
       "gives a 1 x columns Matrix\n(one value per column); axis=1 (or -1) " \
       "gives a rows x 1 Matrix (one value per row)."

#define BOC_UNARY_DOC(name, what)                                          \
  name "($self, /, in_place=False, *, out=None)\n--\n\n" what              \
       "\n\nReturns a new Matrix, or writes into self (in_place=True) or " \
       "into out (a Matrix of the\nsame shape) and returns that."

#define BOC_BINARY_DOC(name, what)                                           \
  name "($self, /, other, *, out=None)\n--\n\n" what                         \
       "\n\nother: a Matrix, a real number or a list (a 1 x n row); shapes " \
       "broadcast (n x k with\n1 x k, n x 1 or 1 x 1; n x 1 with 1 x m). "   \
       "out: an optional Matrix of the result's shape\nto write into (it "   \
       "is returned)."

PyMethodDef g_methods[] = {
    // Copies, pickling, conversion.
    {"copy", m_copy, METH_NOARGS, "copy($self, /)\n--\n\nReturn a deep copy of this matrix."},
    {"__copy__", m_copy, METH_NOARGS, nullptr},
    {"__deepcopy__", m_deepcopy, METH_O, nullptr},
    {"__reduce__", m_reduce, METH_NOARGS,
     "__reduce__($self, /)\n--\n\nPickle as bocpy._math._matrix_unpickle("
     "rows, columns, raw native-endian float64 bytes)."},
    {"tolist", m_tolist, METH_NOARGS,
     "tolist($self, /)\n--\n\nThe elements as a list of rows (lists of "
     "floats)."},
    {"transpose", cfunc(m_transpose), kFast,
     "transpose($self, /, in_place=False)\n--\n\nReturn a new, transposed "
     "matrix (same as m.T), or transpose self and return it\n(in_place=True; "
     "BufferError while a memoryview of it exists)."},
    {"transpose_in_place", m_transpose_in_place, METH_NOARGS,
     "transpose_in_place($self, /)\n--\n\nTranspose this matrix in place "
     "(BufferError while a memoryview of it exists)."},
    {"reshape", cfunc(m_reshape), kFast,
     "reshape($self, /, rows, columns)\n--\n\nReturn a copy with a new shape "
     "and the same row-major elements (ValueError\nif rows * columns differs "
     "from size)."},

    // Selection.
    {"take", cfunc(m_take), kFast,
     "take($self, /, indices, axis=0)\n--\n\nReturn a new Matrix with the "
     "listed rows (axis=0) or columns (axis=1).\n\nindices: a non-empty list "
     "or tuple of ints; negatives count from the end,\nrepeats repeat. "
     "IndexError (empty / out of range), TypeError (non-int),\nKeyError "
     "(bad axis)."},
    {"put", cfunc(m_put), kFast,
     "put($self, /, indices, value, axis=0, accumulate=False)\n--\n\nWrite "
     "value into the listed rows (axis=0) or columns (axis=1), in place.\n\n"
     "value: a real number, a Matrix or a list broadcast to the selection. "
     "Indices are\nvalidated before anything is written; a repeated index "
     "gets the last write, or\nevery contribution with accumulate=True. "
     "Returns self."},

    // Reductions.
    {"sum", cfunc(m_reduction<mx::Reduction::kSum>), kFast, BOC_AXIS_DOC("sum", "Sum of the elements.")},
    {"mean", cfunc(m_reduction<mx::Reduction::kMean>), kFast, BOC_AXIS_DOC("mean", "Arithmetic mean of the elements.")},
    {"magnitude", cfunc(m_reduction<mx::Reduction::kMagnitude>), kFast,
     BOC_AXIS_DOC("magnitude",
                  "Euclidean (L2) magnitude: m.magnitude(1) is the norm of "
                  "every row.")},
    {"magnitude_squared", cfunc(m_reduction<mx::Reduction::kSumSquares>), kFast,
     BOC_AXIS_DOC("magnitude_squared", "Sum of the squared elements.")},
    {"min", cfunc(m_reduction<mx::Reduction::kMin>), kFast,
     BOC_AXIS_DOC("min", "Minimum element (NaN if any element is NaN).")},
    {"max", cfunc(m_reduction<mx::Reduction::kMax>), kFast,
     BOC_AXIS_DOC("max", "Maximum element (NaN if any element is NaN).")},
    {"argmin", cfunc(m_reduction<mx::Reduction::kArgMin>), kFast,
     BOC_AXIS_DOC("argmin",
                  "Index of the first minimum (of the first NaN if any); "
                  "with axis=None an int\nflat row-major index, else a "
                  "Matrix of row (axis=0) or column (axis=1) indices.")},
    {"argmax", cfunc(m_reduction<mx::Reduction::kArgMax>), kFast,
     BOC_AXIS_DOC("argmax",
                  "Index of the first maximum (of the first NaN if any); "
                  "see argmin.")},
    {"normalize", cfunc(m_normalize), kFast,
     "normalize($self, /, axis=None, in_place=False)\n--\n\nDivide by the "
     "L2 magnitude of the whole matrix (axis=None), of each column\n"
     "(axis=0) or of each row (axis=1). A zero magnitude leaves zeros (no "
     "NaN).\nin_place=True writes into self and returns self."},
    {"vecdot", cfunc(m_vecdot), kFast,
     "vecdot($self, /, other, axis=None)\n--\n\nSum of self * other "
     "(broadcast): a float for axis=None, a dot product per\ncolumn "
     "(axis=0, 1 x columns) or per row (axis=1, rows x 1)."},

    // Geometry.
    {"angle", cfunc(m_angle), kFast,
     "angle($self, /, axis=None)\n--\n\natan2(y, x) of each 2-D vector. "
     "1 x 2 and 2 x 1 give a float; N x 2 (rows are\nvectors) gives N x 1; "
     "2 x N (columns are vectors) gives 1 x N; a 2 x 2 matrix is\nread as "
     "rows unless axis=0. Other shapes: ValueError."},
    {"perpendicular", cfunc(m_perpendicular), kFast,
     "perpendicular($self, /, axis=None, in_place=False)\n--\n\n(x, y) -> "
     "(-y, x) for each 2-D vector (layout as for angle()); same shape.\n"
     "in_place=True writes into self and returns self."},
    {"cross", cfunc(m_cross), kFast,
     "cross($self, /, other, axis=None)\n--\n\nCross product of 2-D or 3-D "
     "vectors (rows, or columns; layout as for angle()).\n2-D vectors give "
     "the scalar z component (a float for one pair, else one value\nper "
     "vector); 3-D vectors give vectors. Operands broadcast."},
    {"pairwise_diff", m_pairwise_diff, METH_O,
     "pairwise_diff($self, other, /)\n--\n\nDifferences between every row "
     "of self (n x k) and every row of other (m x k).\n\nReturns a tuple of "
     "k matrices, one per coordinate, each n x m:\n"
     "    dx, dy = a.pairwise_diff(b)    # dx[i, j] = a[i, 0] - b[j, 0]\n"
     "Row i holds boid i's offsets to every neighbour j, so masks from "
     "pairwise_dist2\n(also n x m) apply directly: (dx * mask).sum(1) is a "
     "per-boid sum. ValueError if the\ncolumn counts differ."},
    {"pairwise_dist2", m_pairwise_dist2, METH_O,
     "pairwise_dist2($self, other, /)\n--\n\nSquared Euclidean distances "
     "between every row of self (n x k) and every row of\nother (m x k): an "
     "n x m Matrix, d[i, j] = |self[i] - other[j]|^2, equal to\n"
     "dx*dx + dy*dy from pairwise_diff."},

    // Element-wise operations.
    {"add", cfunc(m_binary<mx::BinaryOp::kAdd>), kFast, BOC_BINARY_DOC("add", "Element-wise self + other.")},
    {"subtract", cfunc(m_binary<mx::BinaryOp::kSubtract>), kFast,
     BOC_BINARY_DOC("subtract", "Element-wise self - other.")},
    {"multiply", cfunc(m_binary<mx::BinaryOp::kMultiply>), kFast,
     BOC_BINARY_DOC("multiply", "Element-wise self * other.")},
    {"divide", cfunc(m_binary<mx::BinaryOp::kDivide>), kFast,
     BOC_BINARY_DOC("divide", "Element-wise self / other (IEEE: x/0 is inf or nan).")},
    {"minimum", cfunc(m_binary<mx::BinaryOp::kMinimum>), kFast,
     BOC_BINARY_DOC("minimum", "Element-wise minimum (NaN propagates).")},
    {"maximum", cfunc(m_binary<mx::BinaryOp::kMaximum>), kFast,
     BOC_BINARY_DOC("maximum", "Element-wise maximum (NaN propagates).")},
    {"less", cfunc(m_binary<mx::BinaryOp::kLess>), kFast, BOC_BINARY_DOC("less", "0/1 mask of self < other.")},
    {"less_equal", cfunc(m_binary<mx::BinaryOp::kLessEqual>), kFast,
     BOC_BINARY_DOC("less_equal", "0/1 mask of self <= other.")},
    {"greater", cfunc(m_binary<mx::BinaryOp::kGreater>), kFast, BOC_BINARY_DOC("greater", "0/1 mask of self > other.")},
    {"greater_equal", cfunc(m_binary<mx::BinaryOp::kGreaterEqual>), kFast,
     BOC_BINARY_DOC("greater_equal", "0/1 mask of self >= other.")},
    {"equal", cfunc(m_binary<mx::BinaryOp::kEqual>), kFast,
     BOC_BINARY_DOC("equal",
                    "0/1 mask of self == other (the == operator compares "
                    "whole matrices).")},
    {"not_equal", cfunc(m_binary<mx::BinaryOp::kNotEqual>), kFast,
     BOC_BINARY_DOC("not_equal", "0/1 mask of self != other.")},
    {"lt", cfunc(m_binary<mx::BinaryOp::kLess>), kFast, "lt($self, /, other, *, out=None)\n--\n\nAlias of less()."},
    {"le", cfunc(m_binary<mx::BinaryOp::kLessEqual>), kFast,
     "le($self, /, other, *, out=None)\n--\n\nAlias of less_equal()."},
    {"gt", cfunc(m_binary<mx::BinaryOp::kGreater>), kFast,
     "gt($self, /, other, *, out=None)\n--\n\nAlias of greater()."},
    {"ge", cfunc(m_binary<mx::BinaryOp::kGreaterEqual>), kFast,
     "ge($self, /, other, *, out=None)\n--\n\nAlias of greater_equal()."},
    {"eq", cfunc(m_binary<mx::BinaryOp::kEqual>), kFast, "eq($self, /, other, *, out=None)\n--\n\nAlias of equal()."},
    {"ne", cfunc(m_binary<mx::BinaryOp::kNotEqual>), kFast,
     "ne($self, /, other, *, out=None)\n--\n\nAlias of not_equal()."},
    {"matmul", m_matmul, METH_O,
     "matmul($self, other, /)\n--\n\nMatrix product (same as self @ other); "
     "ValueError unless self.columns == other.rows."},
    {"negate", cfunc(m_unary<mx::UnaryOp::kNegate>), kFast, BOC_UNARY_DOC("negate", "Element-wise -x.")},
    {"abs", cfunc(m_unary<mx::UnaryOp::kAbs>), kFast, BOC_UNARY_DOC("abs", "Element-wise |x|.")},
    {"sqrt", cfunc(m_unary<mx::UnaryOp::kSqrt>), kFast,
     BOC_UNARY_DOC("sqrt", "Element-wise square root (NaN for x < 0).")},
    {"ceil", cfunc(m_unary<mx::UnaryOp::kCeil>), kFast, BOC_UNARY_DOC("ceil", "Element-wise ceiling.")},
    {"floor", cfunc(m_unary<mx::UnaryOp::kFloor>), kFast, BOC_UNARY_DOC("floor", "Element-wise floor.")},
    {"round", cfunc(m_unary<mx::UnaryOp::kRound>), kFast,
     BOC_UNARY_DOC("round",
                   "Element-wise rounding to the nearest integer, halves away "
                   "from zero (C round()).")},
    {"clip", cfunc(m_clip), kFast,
     "clip($self, /, min=None, max=None, *, in_place=False, out=None)\n--\n\n"
     "Clamp every element to [min, max]; either bound may be omitted (None), "
     "not both\n(ValueError). Bounds are real numbers, matrices or lists "
     "(broadcast); NaN elements\nstay NaN. AssertionError if scalar max < "
     "min."},
    {"clamp", cfunc(m_clip), kFast,
     "clamp($self, /, min=None, max=None, *, in_place=False, out=None)\n--\n\n"
     "Alias of clip()."},
    {"fma", cfunc(m_fma), kFast,
     "fma($self, b, c, /, in_place=False, *, out=None)\n--\n\nFused self * "
     "b + c with one rounding (std::fma). b and c: a real number, a 1x1\n"
     "matrix, a matrix of self's shape, a 1 x columns row or a rows x 1 "
     "column; the\nresult has self's shape. in_place=True writes into self "
     "and returns it."},
    {"scaled_add", cfunc(m_scaled_add), kFast,
     "scaled_add($self, s, x, /, in_place=False, *, out=None)\n--\n\nself + "
     "s * x with two roundings (distinct from fma). s as fma's b; x a "
     "matrix\nof self's shape. in_place=True writes into self and returns "
     "it."},

    // Class methods.
    {"zeros", cfunc(c_filled<0>), METH_O | METH_CLASS,
     "zeros($type, size, /)\n--\n\nA (rows, columns) matrix of zeros."},
    {"ones", cfunc(c_filled<1>), METH_O | METH_CLASS, "ones($type, size, /)\n--\n\nA (rows, columns) matrix of ones."},
    {"uniform", cfunc(c_random<Distribution::kUniform>), kFast | METH_CLASS,
     "uniform($type, /, minval=0.0, maxval=1.0, size=None)\n--\n\nUniform "
     "samples in [minval, maxval): a float for size=None, else a\n(rows, "
     "columns) Matrix. Uses the process-wide generator (see seed())."},
    {"normal", cfunc(c_random<Distribution::kNormal>), kFast | METH_CLASS,
     "normal($type, /, mean=0.0, stddev=1.0, size=None)\n--\n\nNormal "
     "samples: a float for size=None, else a (rows, columns) Matrix."},
    {"seed", cfunc(c_seed), METH_O | METH_CLASS,
     "seed($type, value, /)\n--\n\nSeed the process-wide generator "
     "(xoshiro256**, the same stream on every\nplatform; shared by all "
     "interpreters and locked)."},
    {"vector", cfunc(c_vector), kFast | METH_CLASS,
     "vector($type, /, values, as_column=False)\n--\n\nA 1 x n row (or n x "
     "1 column) from a non-empty flat sequence of numbers."},
    {"concat", cfunc(c_concat), kFast | METH_CLASS,
     "concat($type, /, values, axis=0)\n--\n\nStack matrices (or flat number "
     "sequences: rows for axis=0, columns for\naxis=1) vertically (axis=0) "
     "or horizontally (axis=1). Returns None for an\nempty list; "
     "AssertionError if the shapes do not fit."},
    {"where", cfunc(c_where), kFast | METH_CLASS,
     "where($type, /, mask, a, b)\n--\n\nElement-wise mask != 0 ? a : b. "
     "mask, a and b are matrices, real numbers or lists\nand broadcast "
     "together."},
    {"allclose", cfunc(c_allclose), kFast | METH_CLASS,
     "allclose($type, /, lhs, rhs, rtol=1e-05, atol=1e-08, "
     "equal_nan=False)\n--\n\nTrue if |lhs - rhs| <= atol + rtol * |rhs| "
     "element-wise; False if the shapes differ."},
    {nullptr, nullptr, 0, nullptr}};

#undef BOC_AXIS_DOC
#undef BOC_UNARY_DOC
#undef BOC_BINARY_DOC

}  // namespace

PyMethodDef* matrix_methods() { return g_methods; }

}  // namespace boc::py
