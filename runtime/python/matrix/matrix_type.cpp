#include "matrix_type.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "matrix_attributes.h"
#include "matrix_convert.h"
#include "matrix_index.h"
#include "matrix_methods.h"
#include "matrix_module.h"

namespace boc::py {
namespace {

namespace mx = boc::matrix;

// ---- Object pool ------------------------------------------------------------
//
// A flock cell makes and drops thousands of 1 x 2 matrices (rows, sums,
// differences), each an object (pymalloc) plus a buffer (malloc). A Matrix
// whose buffer holds at most kPoolCapacity doubles and never crossed is not
// freed on dealloc: the object, with its buffer, goes on its interpreter's
// pool (MathState, reached through the type: every Matrix type is a heap
// type made by PyType_FromModuleAndSpec, so it knows its module) and
// matrix_alloc / Matrix() hand it out again after PyObject_Init. A pooled
// object holds no reference to its type (dealloc dropped it; the module
// state's own reference keeps the type alive while the pool is open). The
// pool is per interpreter, so an object is only ever reused (and finally
// freed, by matrix_pool_close) by the interpreter whose allocator made it.

constexpr std::size_t kPoolCapacity = 16;  ///< doubles: buffers up to 128 bytes are kept

MathState* pool_state(PyTypeObject* type) { return static_cast<MathState*>(PyType_GetModuleState(type)); }

/// An object from state's pool, re-initialised as a new reference of type,
/// with its old buffer still in place (any shape), or nullptr if the pool is
/// empty.
PyObject* pool_take(MathState* state, PyTypeObject* type) {
  if (state == nullptr || state->pool_count == 0) {
    return nullptr;
  }
  PyObject* obj = state->pool[--state->pool_count];
  PyObject_Init(obj, type);  // takes a reference to type
  return obj;
}

void matrix_dealloc(PyObject* obj) {
  PyTypeObject* type = Py_TYPE(obj);
  MatrixObject* m = as_matrix(obj);
  const std::size_t capacity = m->value.data.capacity();
  if (!m->shared && capacity != 0 && capacity <= kPoolCapacity) {
    MathState* state = m->state;
    if (state != nullptr && state->pool_open && state->pool_count < MathState::kPoolMax) {
      m->exports = 0;
      state->pool[state->pool_count++] = obj;
      Py_DECREF(type);  // the module state still holds one while the pool is open
      return;
    }
  }
  m->value.~Dense();
  m->shared.~shared_ptr();  // the store outlives us if a parcel holds it
  type->tp_free(obj);
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

/// Matrix.__new__: an uninitialised object (bocpy allows Matrix.__new__(Matrix)
/// and rejects any use of it); __init__ gives it its value. A pooled object
/// keeps its buffer's capacity (rows = 0 marks it uninitialised), so
/// Matrix(1, 2) allocates nothing.
PyObject* matrix_new(PyTypeObject* type, PyObject* /*args*/, PyObject* /*kwds*/) {
  if (type->tp_dealloc == matrix_dealloc) {
    if (PyObject* obj = pool_take(pool_state(type), type)) {
      MatrixObject* m = as_matrix(obj);
      m->value.rows = 0;
      m->value.cols = 0;
      m->value.data.clear();
      return obj;
    }
  }
  return guarded([&]() -> PyObject* { return matrix_wrap(type, mx::Dense()); });
}

/// Matrix(rows, columns, values=None) (spec 5.3).
int matrix_init(PyObject* self, PyObject* args, PyObject* kwds) {
  return guarded_int([&]() -> int {
    static const char* const kKeywords[] = {"rows", "columns", "values", nullptr};
    PyObject* rows_obj = nullptr;
    PyObject* cols_obj = nullptr;
    PyObject* values = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:Matrix", const_cast<char**>(kKeywords), &rows_obj, &cols_obj,
                                     &values)) {
      return -1;
    }
    std::size_t rows = 0;
    std::size_t cols = 0;
    if (!parse_dimension(rows_obj, rows) || !parse_dimension(cols_obj, cols)) {
      return -1;
    }
    mx::check_dimensions(rows, cols);
    MatrixObject* m = as_matrix(self);
    if (m->exports > 0) {
      PyErr_SetString(PyExc_BufferError,
                      "cannot re-initialise a Matrix while a memoryview of it "
                      "exists");
      return -1;
    }
    mx::Dense value;
    if (values == Py_None || is_real_number(values)) {
      double fill = 0.0;
      if (values != Py_None && !to_double(values, fill, "values")) {
        return -1;
      }
      // In place: a pooled object's buffer is reused.
      m->shared.reset();  // re-initialising detaches from a crossed buffer
      m->value.data.assign(rows * cols, fill);
      m->value.rows = rows;
      m->value.cols = cols;
      return 0;
    } else {
      std::vector<double> data;
      if (is_matrix(values)) {
        const mx::Dense* src = owned_value(values);
        if (src == nullptr) {
          return -1;
        }
        data.assign(src->data.begin(), src->data.end());
      } else if (!sequence_to_doubles(values, data, "values")) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "Values must be either a number or a list/tuple of MxN numbers");
        return -1;
      }
      if (data.size() != rows * cols) {
        PyErr_SetString(PyExc_TypeError, "Values must be either a number or a list/tuple of MxN numbers");
        return -1;
      }
      value = mx::Dense(rows, cols, std::move(data));
    }
    m->shared.reset();  // re-initialising detaches from a crossed buffer
    m->value = std::move(value);
    return 0;
  });
}

// ---- Text -------------------------------------------------------------------

/// repr: Matrix(rows, columns, [v0, v1, ...]) with round-trip float repr, so
/// eval(repr(m)) == m for finite values.
PyObject* matrix_repr(PyObject* self) {
  return guarded([&]() -> PyObject* {
    if (!matrix_acquired(self)) {
      return PyUnicode_FromString("Matrix(<not acquired>)");
    }
    const mx::Dense& m = *owned_value(self);
    std::string text = "Matrix(" + std::to_string(m.rows) + ", " + std::to_string(m.cols) + ", [";
    for (std::size_t i = 0; i < m.size(); ++i) {
      char* value = PyOS_double_to_string(m.data[i], 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
      if (value == nullptr) {
        return nullptr;
      }
      if (i != 0) {
        text += ", ";
      }
      text += value;
      PyMem_Free(value);
    }
    text += "])";
    return PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
  });
}

/// str: a right-aligned grid with %g values, [[1 2]\n [3 4]].
PyObject* matrix_str(PyObject* self) {
  return guarded([&]() -> PyObject* {
    if (!matrix_acquired(self)) {
      return PyUnicode_FromString("<not acquired>");
    }
    const mx::Dense& m = *owned_value(self);
    std::vector<std::string> cells(m.size());
    std::size_t width = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%g", m.data[i]);
      cells[i] = buffer;
      width = cells[i].size() > width ? cells[i].size() : width;
    }
    std::string text;
    for (std::size_t r = 0; r < m.rows; ++r) {
      text += r == 0 ? "[[" : " [";
      for (std::size_t c = 0; c < m.cols; ++c) {
        const std::string& cell = cells[r * m.cols + c];
        if (c != 0) {
          text += ' ';
        }
        text.append(width - cell.size(), ' ');
        text += cell;
      }
      text += r + 1 == m.rows ? "]]" : "]\n";
    }
    return PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
  });
}

// ---- Comparison -------------------------------------------------------------

/// The first strict ordering between x[i] and y[i] (or the scalar y) decides;
/// equal and NaN pairs are skipped (bocpy's lexicographic rule, _math.c).
int lexicographic(const double* x, const double* y, std::size_t n, bool scalar) {
  for (std::size_t i = 0; i < n; ++i) {
    const double b = scalar ? y[0] : y[i];
    if (x[i] < b) {
      return -1;
    }
    if (x[i] > b) {
      return 1;
    }
  }
  return 0;
}

PyObject* bool_from_sign(int sign, int op) {
  bool result = false;
  switch (op) {
    case Py_LT: result = sign < 0; break;
    case Py_LE: result = sign <= 0; break;
    case Py_GT: result = sign > 0; break;
    case Py_GE: result = sign >= 0; break;
    case Py_EQ: result = sign == 0; break;
    case Py_NE: result = sign != 0; break;
    default: Py_RETURN_NOTIMPLEMENTED;
  }
  return PyBool_FromLong(result ? 1 : 0);
}

/// All six operators compare lexicographically and return one bool, as in
/// bocpy: against a matrix of the same shape, a real number (every element
/// against it) or a list/tuple (a 1 x n row). == / != are total (a shape
/// mismatch or an uncoercible list is simply unequal); the ordering
/// operators raise ValueError on a shape mismatch. A 1x1 matrix is not a
/// scalar here. Element-wise masks come from less()/equal()/... instead.
PyObject* matrix_richcompare(PyObject* a, PyObject* b, int op) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* x = owned_value(a);
    if (x == nullptr) {
      return nullptr;
    }
    if (is_real_number(b)) {
      double scalar = 0.0;
      if (!to_double(b, scalar, "other")) {
        return nullptr;
      }
      return bool_from_sign(lexicographic(x->data.data(), &scalar, x->size(), true), op);
    }
    mx::Dense coerced;
    const mx::Dense* y = nullptr;
    if (is_matrix(b)) {
      y = owned_value(b);
      if (y == nullptr) {
        return nullptr;
      }
    } else if (PyList_Check(b) || PyTuple_Check(b)) {
      std::vector<double> values;
      const bool ok = sequence_to_doubles(b, values, "a list operand");
      if (!ok || values.empty()) {
        if (!ok && !PyErr_ExceptionMatches(PyExc_TypeError)) {
          return nullptr;
        }
        PyErr_Clear();
        if (op == Py_EQ || op == Py_NE) {
          return PyBool_FromLong(op == Py_NE ? 1 : 0);
        }
        if (ok) {
          PyErr_SetString(PyExc_ValueError, "cannot coerce an empty list/tuple to a matrix");
        } else {
          PyErr_SetString(PyExc_TypeError, "Expected a list/tuple of numbers");
        }
        return nullptr;
      }
      const std::size_t n = values.size();
      coerced = mx::Dense(1, n, std::move(values));
      y = &coerced;
    } else {
      Py_RETURN_NOTIMPLEMENTED;
    }
    if (x->shape() != y->shape()) {
      if (op == Py_EQ || op == Py_NE) {
        return PyBool_FromLong(op == Py_NE ? 1 : 0);
      }
      PyErr_SetString(PyExc_ValueError,
                      "ordering comparison requires a matrix, list, or tuple "
                      "operand of the same shape (or a scalar operand)");
      return nullptr;
    }
    return bool_from_sign(lexicographic(x->data.data(), y->data.data(), x->size(), false), op);
  });
}

// ---- Number protocol --------------------------------------------------------

/// out[i] = x[i] (op) y[i] (y_step 0: y is one scalar) for the four
/// arithmetic operators; false for any other op. One IEEE operation per
/// element, exactly as mx::binary.
bool arithmetic(mx::BinaryOp op, const double* x, const double* y, std::size_t y_step, double* out, std::size_t n) {
  switch (op) {
    case mx::BinaryOp::kAdd:
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] + y[i * y_step];
      return true;
    case mx::BinaryOp::kSubtract:
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] - y[i * y_step];
      return true;
    case mx::BinaryOp::kMultiply:
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * y[i * y_step];
      return true;
    case mx::BinaryOp::kDivide:
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] / y[i * y_step];
      return true;
    default: return false;
  }
}

constexpr std::size_t kSmall = 16;  ///< elements: the direct loops below

/// The right operand of a small fast path: a Matrix of exactly x's shape
/// (step 1) or an exact float (step 0). False for anything else (the general
/// path decides), with no error set.
bool small_operand(PyObject* b, const mx::Dense& x, const double*& y, std::size_t& step, double& scalar) {
  if (PyFloat_CheckExact(b)) {
    scalar = PyFloat_AS_DOUBLE(b);
    y = &scalar;
    step = 0;
    return true;
  }
  if (is_matrix(b)) {
    MatrixObject* mb = as_matrix(b);
    if (!mb->shared && mb->value.rows == x.rows && mb->value.cols == x.cols) {
      y = mb->value.data.data();
      step = 1;
      return true;
    }
  }
  return false;
}

/// a (op) b for the operator slots (spec 5.7): numbers and lists are coerced,
/// shapes broadcast, anything else is NotImplemented.
PyObject* number_binary(PyObject* a, PyObject* b, mx::BinaryOp op) {
  if (is_matrix(a)) {
    // Small same-shape / float operands (1 x 2 vectors): no coercion, no
    // broadcast bookkeeping, a pooled result.
    MatrixObject* ma = as_matrix(a);
    const mx::Dense& x = ma->value;
    const double* y = nullptr;
    std::size_t step = 0;
    double scalar = 0.0;
    if (!ma->shared && x.rows != 0 && x.size() <= kSmall && small_operand(b, x, y, step, scalar)) {
      return guarded([&]() -> PyObject* {
        PyObject* out = matrix_alloc_like(a, x.rows, x.cols);
        if (out != nullptr && !arithmetic(op, x.data.data(), y, step, as_matrix(out)->value.data.data(), x.size())) {
          mx::binary(op, x, step == 0 ? mx::ConstView::scalar(scalar) : mx::ConstView(y, x.rows, x.cols),
                     as_matrix(out)->value);
        }
        return out;
      });
    }
  }
  return guarded([&]() -> PyObject* {
    Operand lhs;
    Operand rhs;
    const Coerced ca = coerce_operand(a, lhs);
    if (ca == Coerced::kError) {
      return nullptr;
    }
    const Coerced cb = coerce_operand(b, rhs);
    if (cb == Coerced::kError) {
      return nullptr;
    }
    if (ca == Coerced::kNotImplemented || cb == Coerced::kNotImplemented ||
        (lhs.matrix == nullptr && rhs.matrix == nullptr)) {
      Py_RETURN_NOTIMPLEMENTED;
    }
    mx::Shape shape;
    if (!broadcast_operands(lhs.view.shape(), rhs.view.shape(), shape)) {
      return nullptr;
    }
    PyTypeObject* type = Py_TYPE(lhs.matrix != nullptr ? a : b);
    PyRef out(matrix_alloc(type, shape.rows, shape.cols));
    if (out) {
      mx::binary(op, lhs.view, rhs.view, as_matrix(out.get())->value);
    }
    return out.release();
  });
}

/// a (op)= b: written into a when the result keeps a's shape, else
/// ValueError (bocpy's rebinding quirk for `vector += matrix` is not copied).
PyObject* number_inplace(PyObject* a, PyObject* b, mx::BinaryOp op) {
  if (!is_matrix(a)) {
    return number_binary(a, b, op);
  }
  {
    MatrixObject* ma = as_matrix(a);
    mx::Dense& x = ma->value;
    const double* y = nullptr;
    std::size_t step = 0;
    double scalar = 0.0;
    // Same shape or a float: written in place, element by element (b may
    // be a itself: each element is read before it is written).
    if (!ma->shared && x.rows != 0 && x.size() <= kSmall && small_operand(b, x, y, step, scalar) &&
        arithmetic(op, x.data.data(), y, step, x.data.data(), x.size())) {
      return Py_NewRef(a);
    }
  }
  return guarded([&]() -> PyObject* {
    Operand rhs;
    const Coerced cb = coerce_operand(b, rhs);
    if (cb == Coerced::kError) {
      return nullptr;
    }
    if (cb == Coerced::kNotImplemented) {
      Py_RETURN_NOTIMPLEMENTED;
    }
    mx::Dense* target_ptr = owned_value(a);
    if (target_ptr == nullptr) {
      return nullptr;
    }
    mx::Dense& target = *target_ptr;
    mx::Shape shape;
    if (!broadcast_operands(target.shape(), rhs.view.shape(), shape)) {
      return nullptr;
    }
    if (shape != target.shape()) {
      // bocpy's two messages (_math.c) for the shapes it also refuses.
      if (target.size() == 1) {
        PyErr_SetString(PyExc_ValueError, "in-place scalar broadcast would change operand shape");
        return nullptr;
      }
      if (shape.rows != rhs.view.rows || shape.cols != rhs.view.cols) {
        PyErr_SetString(PyExc_ValueError, "in-place outer broadcast would change operand shape");
        return nullptr;
      }
      raise_shape_mismatch(target.shape(), rhs.view.shape(),
                           " (an in-place result must keep the left "
                           "operand's shape)");
      return nullptr;
    }
    mx::binary(op, target, rhs.view, target);
    return Py_NewRef(a);
  });
}

PyObject* nb_add(PyObject* a, PyObject* b) { return number_binary(a, b, mx::BinaryOp::kAdd); }
PyObject* nb_subtract(PyObject* a, PyObject* b) { return number_binary(a, b, mx::BinaryOp::kSubtract); }
PyObject* nb_multiply(PyObject* a, PyObject* b) { return number_binary(a, b, mx::BinaryOp::kMultiply); }
PyObject* nb_true_divide(PyObject* a, PyObject* b) { return number_binary(a, b, mx::BinaryOp::kDivide); }
PyObject* nb_inplace_add(PyObject* a, PyObject* b) { return number_inplace(a, b, mx::BinaryOp::kAdd); }
PyObject* nb_inplace_subtract(PyObject* a, PyObject* b) { return number_inplace(a, b, mx::BinaryOp::kSubtract); }
PyObject* nb_inplace_multiply(PyObject* a, PyObject* b) { return number_inplace(a, b, mx::BinaryOp::kMultiply); }
PyObject* nb_inplace_true_divide(PyObject* a, PyObject* b) { return number_inplace(a, b, mx::BinaryOp::kDivide); }

PyObject* nb_matrix_multiply(PyObject* a, PyObject* b) {
  return guarded([&]() -> PyObject* {
    Operand lhs;
    Operand rhs;
    const Coerced ca = coerce_operand(a, lhs);
    if (ca == Coerced::kError) {
      return nullptr;
    }
    const Coerced cb = coerce_operand(b, rhs);
    if (cb == Coerced::kError) {
      return nullptr;
    }
    if (ca == Coerced::kNotImplemented || cb == Coerced::kNotImplemented || lhs.is_number || rhs.is_number) {
      Py_RETURN_NOTIMPLEMENTED;
    }
    PyTypeObject* type = Py_TYPE(lhs.matrix != nullptr ? a : b);
    return matrix_wrap(type, mx::matmul(lhs.view, rhs.view));
  });
}

PyObject* nb_negative(PyObject* self) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* m = owned_value(self);
    return m == nullptr ? nullptr : matrix_wrap(Py_TYPE(self), mx::unary(mx::UnaryOp::kNegate, *m));
  });
}

PyObject* nb_absolute(PyObject* self) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* m = owned_value(self);
    return m == nullptr ? nullptr : matrix_wrap(Py_TYPE(self), mx::unary(mx::UnaryOp::kAbs, *m));
  });
}

PyObject* nb_positive(PyObject* self) {
  return guarded([&]() -> PyObject* {
    const mx::Dense* m = owned_value(self);
    return m == nullptr ? nullptr : matrix_wrap(Py_TYPE(self), mx::Dense(*m));
  });
}

// ---- Sequence / mapping length and iteration --------------------------------

Py_ssize_t matrix_length(PyObject* self) {
  const mx::Dense* m = owned_value(self);
  return m == nullptr ? -1 : static_cast<Py_ssize_t>(m->rows);
}

// iter(m): the rows in order (1 x columns matrices; floats for a single
// column), as iterating through m[i] would, with the same errors (an
// unowned matrix raises RuntimeError at the next step), but without an
// IndexError at the end and with rows from the pool.
struct RowIterObject {
  PyObject_HEAD PyObject* matrix;  ///< nullptr once exhausted
  Py_ssize_t index;
};

PyObject* matrix_iter(PyObject* self) {
  MathState* state = as_matrix(self)->state;
  if (state == nullptr || state->row_iter_type == nullptr) {
    return PySeqIter_New(self);
  }
  PyTypeObject* type = state->row_iter_type;
  PyObject* obj = type->tp_alloc(type, 0);
  if (obj == nullptr) {
    return nullptr;
  }
  auto* it = reinterpret_cast<RowIterObject*>(obj);
  it->matrix = Py_NewRef(self);
  it->index = 0;
  return obj;
}

PyObject* row_iter_next(PyObject* self) {
  auto* it = reinterpret_cast<RowIterObject*>(self);
  if (it->matrix == nullptr) {
    return nullptr;
  }
  const mx::Dense* owned = owned_value(it->matrix);
  if (owned == nullptr) {
    return nullptr;
  }
  const mx::Dense& m = *owned;
  if (static_cast<std::size_t>(it->index) >= m.rows) {
    Py_CLEAR(it->matrix);
    return nullptr;
  }
  const auto row = static_cast<std::size_t>(it->index++);
  if (m.cols == 1) {
    return PyFloat_FromDouble(m.data[row]);
  }
  return guarded([&]() -> PyObject* {
    PyObject* out = matrix_alloc_like(it->matrix, 1, m.cols);
    if (out != nullptr) {
      std::memcpy(as_matrix(out)->value.data.data(), m.data.data() + row * m.cols, m.cols * sizeof(double));
    }
    return out;
  });
}

PyObject* row_iter_length_hint(PyObject* self, PyObject* /*unused*/) {
  auto* it = reinterpret_cast<RowIterObject*>(self);
  Py_ssize_t left = 0;
  if (it->matrix != nullptr && matrix_acquired(it->matrix)) {
    left = static_cast<Py_ssize_t>(owned_value(it->matrix)->rows) - it->index;
  }
  return PyLong_FromSsize_t(left < 0 ? 0 : left);
}

void row_iter_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_CLEAR(reinterpret_cast<RowIterObject*>(self)->matrix);
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef g_row_iter_methods[] = {
    {"__length_hint__", row_iter_length_hint, METH_NOARGS, "Private method returning an estimate of len(list(it))."},
    {nullptr, nullptr, 0, nullptr}};

// ---- Buffer protocol (memoryview(m): writable, format 'd', shape (rows,
// cols))

int matrix_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  MatrixObject* m = as_matrix(self);
  mx::Dense* value = owned_value(self);
  if (value == nullptr) {
    return -1;
  }
  const auto len = static_cast<Py_ssize_t>(value->size() * sizeof(double));
  if (PyBuffer_FillInfo(view, self, value->data.data(), len, 0, flags) < 0) {
    return -1;
  }
  m->buffer_shape[0] = static_cast<Py_ssize_t>(value->rows);
  m->buffer_shape[1] = static_cast<Py_ssize_t>(value->cols);
  m->buffer_strides[0] = static_cast<Py_ssize_t>(value->cols * sizeof(double));
  m->buffer_strides[1] = static_cast<Py_ssize_t>(sizeof(double));
  if ((flags & PyBUF_FORMAT) == PyBUF_FORMAT) {
    view->format = const_cast<char*>("d");
  }
  if ((flags & PyBUF_ND) == PyBUF_ND) {
    view->itemsize = static_cast<Py_ssize_t>(sizeof(double));
    view->ndim = 2;
    view->shape = m->buffer_shape;
    if ((flags & PyBUF_STRIDES) == PyBUF_STRIDES) {
      view->strides = m->buffer_strides;
    }
  }
  ++m->exports;
  return 0;
}

void matrix_releasebuffer(PyObject* self, Py_buffer* /*view*/) { --as_matrix(self)->exports; }

// ---- Properties -------------------------------------------------------------

#define BOC_OWNED(name, obj)                \
  const mx::Dense* name = owned_value(obj); \
  if (name == nullptr) {                    \
    return nullptr;                         \
  }

PyObject* get_rows(PyObject* self, void* /*closure*/) {
  BOC_OWNED(m, self);
  return PyLong_FromSize_t(m->rows);
}

PyObject* get_columns(PyObject* self, void* /*closure*/) {
  BOC_OWNED(m, self);
  return PyLong_FromSize_t(m->cols);
}

PyObject* get_shape(PyObject* self, void* /*closure*/) {
  BOC_OWNED(m, self);
  return Py_BuildValue("(nn)", static_cast<Py_ssize_t>(m->rows), static_cast<Py_ssize_t>(m->cols));
}

PyObject* get_size(PyObject* self, void* /*closure*/) {
  BOC_OWNED(m, self);
  return PyLong_FromSize_t(m->size());
}

PyObject* get_transposed(PyObject* self, void* /*closure*/) {
  return guarded([&]() -> PyObject* {
    BOC_OWNED(m, self);
    return matrix_wrap(Py_TYPE(self), mx::transpose(*m));
  });
}

PyObject* get_length(PyObject* self, void* /*closure*/) {
  return guarded([&]() -> PyObject* {
    BOC_OWNED(m, self);
    return PyFloat_FromDouble(mx::reduce_all(mx::Reduction::kMagnitude, *m));
  });
}

#undef BOC_OWNED

PyObject* get_acquired(PyObject* self, void* /*closure*/) { return PyBool_FromLong(matrix_acquired(self) ? 1 : 0); }

std::size_t component_index(void* closure) {
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(closure));
}

bool check_component(PyObject* self, std::size_t index) {
  const mx::Dense* value = owned_value(self);
  if (value == nullptr) {
    return false;
  }
  const mx::Dense& m = *value;
  if (index >= m.size()) {
    const std::string shape = mx::shape_string(m.shape());
    PyErr_Format(PyExc_IndexError, "a %s Matrix has no component %c (flat index %zu)", shape.c_str(), "xyzw"[index],
                 index);
    return false;
  }
  return true;
}

PyObject* get_component(PyObject* self, void* closure) {
  const std::size_t index = component_index(closure);
  const MatrixObject* m = as_matrix(self);
  if (!m->shared && index < m->value.data.size()) [[likely]] {  // never crossed, initialised
    return PyFloat_FromDouble(m->value.data[index]);
  }
  if (!check_component(self, index)) {
    return nullptr;
  }
  return PyFloat_FromDouble(owned_value(self)->data[index]);
}

int set_component(PyObject* self, PyObject* value, void* closure) {
  const std::size_t index = component_index(closure);
  if (value == nullptr) {
    PyErr_SetString(PyExc_TypeError, "cannot delete a Matrix component");
    return -1;
  }
  double v = 0.0;
  if (!check_component(self, index) || !to_double(value, v, "a component")) {
    return -1;
  }
  owned_value(self)->data[index] = v;
  return 0;
}

void* component(std::uintptr_t index) { return reinterpret_cast<void*>(index); }

PyGetSetDef g_getset[] = {
    {"rows", get_rows, nullptr, "The number of rows.", nullptr},
    {"columns", get_columns, nullptr, "The number of columns.", nullptr},
    {"cols", get_columns, nullptr, "Alias of columns.", nullptr},
    {"shape", get_shape, nullptr, "The (rows, columns) tuple.", nullptr},
    {"size", get_size, nullptr, "The number of elements (rows * columns).", nullptr},
    {"T", get_transposed, nullptr, "A new, transposed matrix.", nullptr},
    {"length", get_length, nullptr, "The Frobenius (L2) norm of all elements, as a float.", nullptr},
    {"acquired", get_acquired, nullptr,
     "True if the current interpreter holds this matrix's buffer (False once "
     "it moved\ninto a cown or a behavior, until it comes back).",
     nullptr},
    {"x", get_component, set_component, "The element at flat index 0 (get/set).", component(0)},
    {"y", get_component, set_component, "The element at flat index 1 (get/set).", component(1)},
    {"z", get_component, set_component, "The element at flat index 2 (get/set).", component(2)},
    {"w", get_component, set_component, "The element at flat index 3 (get/set).", component(3)},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

constexpr const char kMatrixDoc[] =
    "Matrix(rows, columns, values=None)\n--\n\n"
    "A dense, row-major 2-D matrix of float64 (at least 1 x 1).\n\n"
    "values: None (zeros), a real number (every element) or a flat sequence "
    "of exactly\nrows * columns numbers in row-major order.\n\n"
    "Arithmetic (+ - * / and their in-place forms) works with matrices, real "
    "numbers and\nlists (a 1 x n row) and broadcasts n x k with 1 x k, n x 1 "
    "and 1 x 1, and n x 1 with\n1 x m (outer); a mismatch raises ValueError "
    "naming both shapes. @ is the matrix\nproduct. == compares whole "
    "matrices; less()/equal()/... give 0/1 masks, where() and\nm[mask] "
    "select by them. pairwise_diff()/pairwise_dist2() give n x m "
    "all-pairs\nmatrices between two point sets. Indexing returns copies.";

template <class F>
void* slot(F f) {
  return reinterpret_cast<void*>(f);
}

}  // namespace

PyType_Spec* matrix_type_spec() {
  // Built once, thread-safely (several interpreters may import concurrently).
  static PyType_Spec* spec = [] {
    static PyType_Slot slots[] = {{Py_tp_doc, const_cast<char*>(kMatrixDoc)},
                                  {Py_tp_new, slot(matrix_new)},
                                  {Py_tp_init, slot(matrix_init)},
                                  {Py_tp_dealloc, slot(matrix_dealloc)},
                                  {Py_tp_repr, slot(matrix_repr)},
                                  {Py_tp_str, slot(matrix_str)},
                                  {Py_tp_richcompare, slot(matrix_richcompare)},
                                  {Py_tp_iter, slot(matrix_iter)},
                                  {Py_tp_methods, matrix_methods()},
                                  {Py_tp_getset, g_getset},
                                  {Py_tp_getattro, slot(matrix_getattro)},
                                  {Py_tp_setattro, slot(matrix_setattro)},
                                  {Py_nb_add, slot(nb_add)},
                                  {Py_nb_subtract, slot(nb_subtract)},
                                  {Py_nb_multiply, slot(nb_multiply)},
                                  {Py_nb_true_divide, slot(nb_true_divide)},
                                  {Py_nb_inplace_add, slot(nb_inplace_add)},
                                  {Py_nb_inplace_subtract, slot(nb_inplace_subtract)},
                                  {Py_nb_inplace_multiply, slot(nb_inplace_multiply)},
                                  {Py_nb_inplace_true_divide, slot(nb_inplace_true_divide)},
                                  {Py_nb_matrix_multiply, slot(nb_matrix_multiply)},
                                  {Py_nb_negative, slot(nb_negative)},
                                  {Py_nb_positive, slot(nb_positive)},
                                  {Py_nb_absolute, slot(nb_absolute)},
                                  {Py_mp_length, slot(matrix_length)},
                                  {Py_mp_subscript, slot(matrix_subscript)},
                                  {Py_mp_ass_subscript, slot(matrix_ass_subscript)},
                                  {Py_sq_length, slot(matrix_length)},
                                  {Py_sq_item, slot(matrix_item)},
                                  {Py_bf_getbuffer, slot(matrix_getbuffer)},
                                  {Py_bf_releasebuffer, slot(matrix_releasebuffer)},
                                  {0, nullptr}};
    static PyType_Spec storage = {"bocpy.Matrix",  // __module__ 'bocpy', so repr and pickle say
                                                   // bocpy.Matrix
                                  static_cast<int>(sizeof(MatrixObject)), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, slots};
    return &storage;
  }();
  return spec;
}

PyType_Spec* matrix_row_iter_spec() {
  static PyType_Slot slots[] = {{Py_tp_dealloc, slot(row_iter_dealloc)},
                                {Py_tp_iter, slot(PyObject_SelfIter)},
                                {Py_tp_iternext, slot(row_iter_next)},
                                {Py_tp_methods, g_row_iter_methods},
                                {0, nullptr}};
  static PyType_Spec spec = {"bocpy.MatrixIterator", static_cast<int>(sizeof(RowIterObject)), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, slots};
  return &spec;
}

bool is_matrix_type(PyTypeObject* type) { return type->tp_dealloc == matrix_dealloc; }

namespace {

/// matrix_alloc with the pool to use (state may be null: no pool).
PyObject* alloc_from(MathState* state, PyTypeObject* type, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0 || rows > kPoolCapacity || cols > kPoolCapacity) {
    mx::check_dimensions(rows, cols);  // throws for 0; large ones are fine
  }
  const std::size_t n = rows * cols;
  if (n <= kPoolCapacity) {
    if (PyObject* obj = pool_take(state, type)) {
      MatrixObject* m = as_matrix(obj);
      try {
        m->value.data.resize(n);  // within the capacity unless the pooled buffer is smaller
      } catch (...) {
        Py_DECREF(obj);
        throw;
      }
      m->value.rows = rows;
      m->value.cols = cols;
      return obj;
    }
  }
  return matrix_wrap(type, mx::Dense::uninit(rows, cols));
}

}  // namespace

PyObject* matrix_alloc(PyTypeObject* type, std::size_t rows, std::size_t cols) {
  return alloc_from(pool_state(type), type, rows, cols);
}

PyObject* matrix_alloc_like(PyObject* like, std::size_t rows, std::size_t cols) {
  return alloc_from(as_matrix(like)->state, Py_TYPE(like), rows, cols);
}

void matrix_pool_close(MathState* state) {
  state->pool_open = false;
  while (state->pool_count > 0) {
    PyObject* obj = state->pool[--state->pool_count];
    MatrixObject* m = as_matrix(obj);
    m->value.~Dense();
    m->shared.~shared_ptr();
    PyObject_Free(obj);  // the type's tp_free (PyType_GenericAlloc's partner)
  }
}

PyObject* matrix_wrap(PyTypeObject* type, mx::Dense&& value) {
  PyObject* obj = type->tp_alloc(type, 0);
  if (obj == nullptr) {
    return nullptr;
  }
  MatrixObject* m = as_matrix(obj);
  new (&m->value) mx::Dense(std::move(value));
  new (&m->shared) std::shared_ptr<MatrixStore>();
  m->exports = 0;
  m->state = pool_state(type);
  if (m->state == nullptr) {
    PyErr_Clear();  // not ours to pool: freed as usual
  }
  return obj;
}

PyObject* matrix_wrap_shared(PyTypeObject* type, std::shared_ptr<MatrixStore> store) {
  PyObject* obj = matrix_wrap(type, mx::Dense());
  if (obj != nullptr) {
    as_matrix(obj)->shared = std::move(store);
  }
  return obj;
}

mx::Dense* shared_value(MatrixObject* m) {
  if (m->shared) {
    // Acquire: pairs with the release that handed the buffer to us
    // (matrix_adopt's CAS), so we see the previous owner's writes.
    if (m->shared->owner.load(std::memory_order_acquire) == current_interpreter_id()) {
      return &m->shared->value;
    }
    PyErr_SetString(PyExc_RuntimeError, "The current interpreter does not own this matrix");
    return nullptr;
  }
  PyErr_SetString(PyExc_ValueError, "the Matrix is not initialised");
  return nullptr;
}

bool matrix_acquired(PyObject* obj) {
  MatrixObject* m = as_matrix(obj);
  if (!m->shared) {
    return m->value.rows != 0;
  }
  // Acquire: as in shared_value.
  return m->shared->owner.load(std::memory_order_acquire) == current_interpreter_id();
}

PyObject* reduction_result(PyTypeObject* type, mx::Dense&& value, mx::Axis axis) {
  if (axis == mx::Axis::kAll) {
    return PyFloat_FromDouble(value.data[0]);
  }
  return matrix_wrap(type, std::move(value));
}

PyObject* matrix_unpickle(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  return guarded([&]() -> PyObject* {
    if (nargs != 3) {
      PyErr_Format(PyExc_TypeError, "_matrix_unpickle() takes 3 arguments (%zd given)", nargs);
      return nullptr;
    }
    std::size_t rows = 0;
    std::size_t cols = 0;
    if (!parse_dimension(args[0], rows) || !parse_dimension(args[1], cols)) {
      if (PyErr_ExceptionMatches(PyExc_AssertionError)) {
        PyErr_Clear();  // bocpy's reconstructor raises ValueError here
        PyErr_SetString(PyExc_ValueError, "Rows and columns must both be > 0");
      }
      return nullptr;
    }
    mx::check_dimensions(rows, cols);
    Py_buffer buffer;
    if (PyObject_GetBuffer(args[2], &buffer, PyBUF_SIMPLE) < 0) {
      return nullptr;
    }
    const std::size_t expected = rows * cols * sizeof(double);
    if (static_cast<std::size_t>(buffer.len) != expected) {
      PyErr_Format(PyExc_ValueError, "_matrix_unpickle(): %zu x %zu needs %zu bytes, got %zd", rows, cols, expected,
                   buffer.len);
      PyBuffer_Release(&buffer);
      return nullptr;
    }
    mx::Dense value;
    try {
      value = mx::Dense(rows, cols);
    } catch (...) {
      PyBuffer_Release(&buffer);
      throw;
    }
    std::memcpy(value.data.data(), buffer.buf, expected);
    PyBuffer_Release(&buffer);
    return matrix_wrap(math_state(module)->matrix_type, std::move(value));
  });
}

}  // namespace boc::py
