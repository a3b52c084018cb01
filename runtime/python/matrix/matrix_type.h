// The `bocpy.Matrix` Python type: a heap type created per interpreter from
// matrix_type_spec() by the `bocpy._math` module (matrix_module.cpp). Its
// objects own a boc::matrix::Dense and never leave their interpreter; values
// move between interpreters as copies (matrix_transport.h, pickling).
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "matrix_kernels.h"

namespace boc::py {

/// The instance layout. `value` is constructed with placement new right after
/// tp_alloc and destroyed in the dealloc slot.
struct MatrixObject {
  PyObject_HEAD matrix::Dense value;
  /// Live buffer exports (memoryview); shape changes are refused while > 0.
  Py_ssize_t exports;
  /// Shape and strides handed out by the buffer protocol.
  Py_ssize_t buffer_shape[2];
  Py_ssize_t buffer_strides[2];
};

inline MatrixObject* as_matrix(PyObject* obj) {
  return reinterpret_cast<MatrixObject*>(obj);
}

/// The spec every interpreter's Matrix type is created from.
PyType_Spec* matrix_type_spec();

/// True for the Matrix type of any interpreter (all share one dealloc slot).
bool is_matrix_type(PyTypeObject* type);

/// Wraps value in a new object of type (a Matrix type). New reference, or
/// nullptr with an error set.
PyObject* matrix_wrap(PyTypeObject* type, matrix::Dense&& value);

/// The module-level reconstructor `_matrix_unpickle(rows, columns, data)`
/// used by Matrix.__reduce__: data holds rows*columns native-endian doubles.
PyObject* matrix_unpickle(PyObject* module, PyObject* const* args,
                          Py_ssize_t nargs);

/// What a reduction returns to Python: a float for Axis::kAll, else a Matrix
/// of type. Shared with matrix_methods.cpp.
PyObject* reduction_result(PyTypeObject* type, matrix::Dense&& value,
                           matrix::Axis axis);

}  // namespace boc::py
