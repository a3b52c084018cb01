#include "matrix_transport.h"

#include <string>
#include <utility>

#include "matrix_convert.h"
#include "matrix_module.h"
#include "matrix_type.h"

namespace boc::py {

bool matrix_check(PyObject* obj) {
  // Fast rejection without touching the import system: most values the
  // transport sees are not matrices.
  if (!is_matrix(obj)) {
    return false;
  }
  PyObject* saved = PyErr_GetRaisedException();
  bool result = false;
  PyObject* module = current_math_module();
  if (module != nullptr) {
    result = Py_TYPE(obj) == math_state(module)->matrix_type;
    Py_DECREF(module);
  }
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
  return result;
}

bool matrix_export(PyObject* obj, std::size_t& rows, std::size_t& cols,
                   std::vector<double>& data) {
  if (!matrix_check(obj)) {
    PyErr_Format(PyExc_TypeError, "expected a bocpy.Matrix, not %.200s",
                 obj == nullptr ? "NULL" : Py_TYPE(obj)->tp_name);
    return false;
  }
  const matrix::Dense& value = as_matrix(obj)->value;
  try {
    data.assign(value.data.begin(), value.data.end());
  } catch (...) {
    set_error_from_exception();
    return false;
  }
  rows = value.rows;
  cols = value.cols;
  return true;
}

PyObject* matrix_import(std::size_t rows, std::size_t cols,
                        std::vector<double>&& data) {
  return guarded([&]() -> PyObject* {
    if (rows == 0 || cols == 0 || data.size() / cols != rows ||
        data.size() % cols != 0) {
      const std::string message =
          "matrix_import: " + std::to_string(data.size()) +
          " values do not make a " + matrix::shape_string({rows, cols}) +
          " matrix";
      PyErr_SetString(PyExc_ValueError, message.c_str());
      return nullptr;
    }
    PyRef module(current_math_module());
    if (!module) {
      return nullptr;
    }
    matrix::Dense value(rows, cols, std::move(data));
    return matrix_wrap(math_state(module.get())->matrix_type, std::move(value));
  });
}

}  // namespace boc::py
