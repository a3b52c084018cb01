// The `bocpy.Matrix` Python type: a heap type created per interpreter from
// matrix_type_spec() by the `bocpy._math` module (matrix_module.cpp). An
// object never leaves its interpreter, but its buffer can: crossing into a
// cown or a behavior moves the buffer (matrix_transport.h), and from then on
// only the interpreter that holds it may read or write it, as in bocpy.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "matrix_kernels.h"

namespace boc::py {

struct MathState;

/// A buffer that has crossed interpreters at least once. Every object that
/// refers to it (the sender's, the receivers') shares it; only the object(s)
/// of the interpreter named by `owner` may touch `value`.
struct MatrixStore {
  static constexpr std::int64_t kNoOwner = -1;  ///< in flight (in a parcel)
  matrix::Dense value;
  std::atomic<std::int64_t> owner{kNoOwner};
};

/// The instance layout. `value` and `shared` are constructed with placement
/// new right after tp_alloc and destroyed in the dealloc slot.
struct MatrixObject {
  PyObject_HEAD
      /// The buffer while it has never crossed (the common case: no indirection,
      /// no ownership check). Empty (0 x 0) once moved into `shared`, and for an
      /// object made by Matrix.__new__ alone.
      matrix::Dense value;
  /// Set once the buffer crossed (see matrix_share in matrix_transport.h).
  std::shared_ptr<MatrixStore> shared;
  /// Live buffer exports (memoryview); shape changes and crossing are refused
  /// while > 0.
  Py_ssize_t exports;
  /// Shape and strides handed out by the buffer protocol.
  Py_ssize_t buffer_shape[2];
  Py_ssize_t buffer_strides[2];
  /// The state of the module that made the type (its object pool), cached:
  /// valid while the object lives, since the object holds its type and the
  /// type its module.
  struct MathState* state;
};

inline MatrixObject* as_matrix(PyObject* obj) { return reinterpret_cast<MatrixObject*>(obj); }

/// The id of the interpreter running on this thread.
inline std::int64_t current_interpreter_id() { return PyInterpreterState_GetID(PyInterpreterState_Get()); }

/// The slow path of owned_value: a shared buffer (ownership check) or an
/// uninitialised object. nullptr with RuntimeError / ValueError set.
matrix::Dense* shared_value(MatrixObject* m);

/// The value of obj (a Matrix) if this interpreter may use it, else nullptr
/// with bocpy's RuntimeError ("The current interpreter does not own this
/// matrix") set. Every entry point reads matrices through this.
inline matrix::Dense* owned_value(PyObject* obj) {
  MatrixObject* m = as_matrix(obj);
  if (!m->shared && m->value.rows != 0) [[likely]] {
    return &m->value;
  }
  return shared_value(m);
}

/// True if this interpreter may use obj's buffer (the `acquired` property).
bool matrix_acquired(PyObject* obj);

/// The spec every interpreter's Matrix type is created from.
PyType_Spec* matrix_type_spec();

/// True for the Matrix type of any interpreter (all share one dealloc slot).
bool is_matrix_type(PyTypeObject* type);

/// Wraps value in a new object of type (a Matrix type). New reference, or
/// nullptr with an error set.
PyObject* matrix_wrap(PyTypeObject* type, matrix::Dense&& value);

/// A new object of type (a Matrix type) holding a rows x cols buffer whose
/// elements are unspecified: the caller writes every one before the object
/// is used. Small matrices come from the interpreter's object pool (no
/// allocation). Throws (std::invalid_argument / std::length_error /
/// std::bad_alloc) for bad dimensions or no memory; call it inside guarded().
/// nullptr with an error set if CPython's allocation fails.
PyObject* matrix_alloc(PyTypeObject* type, std::size_t rows, std::size_t cols);

/// As matrix_alloc, with like's type (like is a Matrix of this interpreter).
PyObject* matrix_alloc_like(PyObject* like, std::size_t rows, std::size_t cols);

/// Frees the pooled objects of state and stops pooling (module clear).
void matrix_pool_close(MathState* state);

/// The spec of the row iterator type (iter(m)), one per interpreter.
PyType_Spec* matrix_row_iter_spec();

/// Wraps a shared (crossed) buffer in a new object of type. New reference,
/// or nullptr with an error set.
PyObject* matrix_wrap_shared(PyTypeObject* type, std::shared_ptr<MatrixStore> store);

/// The module-level reconstructor `_matrix_unpickle(rows, columns, data)`
/// used by Matrix.__reduce__: data holds rows*columns native-endian doubles.
PyObject* matrix_unpickle(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

/// What a reduction returns to Python: a float for Axis::kAll, else a Matrix
/// of type. Shared with matrix_methods.cpp.
PyObject* reduction_result(PyTypeObject* type, matrix::Dense&& value, matrix::Axis axis);

}  // namespace boc::py
