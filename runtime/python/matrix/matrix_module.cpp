#include "matrix_module.h"

#include "matrix_attributes.h"
#include "matrix_transport.h"
#include "matrix_type.h"

namespace boc::py {
namespace {

int math_exec(PyObject* module) {
  MathState* state = math_state(module);
  auto* type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, matrix_type_spec(), nullptr));
  if (type == nullptr) {
    return -1;
  }
  state->matrix_type = type;  // the state owns this reference
  if (matrix_bind_class_methods(type) < 0) {
    return -1;
  }
  auto* iter_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, matrix_row_iter_spec(), nullptr));
  if (iter_type == nullptr) {
    return -1;
  }
  state->row_iter_type = iter_type;
  auto* method_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, matrix_method_spec(), nullptr));
  if (method_type == nullptr) {
    return -1;
  }
  state->method_type = method_type;
  state->method_pool_count = 0;
  for (MathState::AttributeEntry& entry : state->attribute_cache) {
    entry = {nullptr, nullptr};
  }
  state->pool_count = 0;
  state->pool_open = true;
  // PyModule_AddType takes its own reference and names the attribute after
  // the part of tp_name behind the last dot: `Matrix`.
  return PyModule_AddType(module, type);
}

int math_traverse(PyObject* module, visitproc visit, void* arg) {
  MathState* state = math_state(module);
  if (state != nullptr) {
    Py_VISIT(state->matrix_type);
    Py_VISIT(state->row_iter_type);
    Py_VISIT(state->method_type);
  }
  return 0;
}

int math_clear(PyObject* module) {
  MathState* state = math_state(module);
  if (state != nullptr) {
    matrix_pool_close(state);  // before the types go: pooled objects are of them
    matrix_attributes_close(state);
    Py_CLEAR(state->method_type);
    Py_CLEAR(state->row_iter_type);
    Py_CLEAR(state->matrix_type);
  }
  return 0;
}

void math_free(void* module) {
  math_clear(static_cast<PyObject*>(module));
  matrix_types_forget();  // matrix_transport.cpp: this interpreter's id may come back
}

PyMethodDef g_math_methods[] = {
    {"_matrix_unpickle", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(matrix_unpickle)), METH_FASTCALL,
     "_matrix_unpickle(rows, columns, data, /)\n--\n\n"
     "Rebuild a Matrix from its pickled form: data holds rows*columns\n"
     "native-endian float64 values in row-major order."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef_Slot g_math_slots[] = {{Py_mod_exec, reinterpret_cast<void*>(math_exec)},
#ifdef Py_mod_multiple_interpreters
                                   {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
                                   {Py_mod_gil, Py_MOD_GIL_USED},
#endif
                                   {0, nullptr}};

PyModuleDef g_math_module = {
    PyModuleDef_HEAD_INIT, "bocpy._math",  "Native dense float64 matrices for bocpy (the Matrix type).",
    sizeof(MathState),     g_math_methods, g_math_slots,
    math_traverse,         math_clear,     math_free,
};

}  // namespace

PyModuleDef* math_module_def() { return &g_math_module; }

MathState* math_state(PyObject* module) { return static_cast<MathState*>(PyModule_GetState(module)); }

MathState* math_state_from_type(PyTypeObject* type) {
  PyObject* module = PyType_GetModuleByDef(type, &g_math_module);  // borrowed
  return module == nullptr ? nullptr : math_state(module);
}

PyObject* current_math_module() {
  PyObject* name = PyUnicode_FromString(kMathModuleName);
  if (name == nullptr) {
    return nullptr;
  }
  PyObject* module = PyImport_GetModule(name);  // new reference or nullptr
  Py_DECREF(name);
  if (module == nullptr) {
    if (PyErr_Occurred()) {
      return nullptr;
    }
    module = PyImport_ImportModule(kMathModuleName);
    if (module == nullptr) {
      return nullptr;
    }
  }
  if (!PyModule_Check(module) || PyModule_GetDef(module) != &g_math_module) {
    Py_DECREF(module);
    PyErr_Format(PyExc_TypeError, "sys.modules['%s'] is not the native module", kMathModuleName);
    return nullptr;
  }
  return module;
}

}  // namespace boc::py

extern "C" PyObject* boc_py_init_math(void) { return PyModuleDef_Init(boc::py::math_module_def()); }
