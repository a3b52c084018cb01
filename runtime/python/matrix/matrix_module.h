// The `bocpy._math` extension module: a multi-phase module compiled into the
// host binary. The host registers it before Py_Initialize:
//
//   PyImport_AppendInittab("bocpy._math", boc_py_init_math);
//
// Inittab entries are process-global, so every interpreter (main and own-GIL
// workers) can import it; each import runs the exec slot again and creates
// that interpreter's own Matrix heap type, kept in the module state. The
// module supports a per-interpreter GIL and holds no PyObject* in C++
// statics. Being a submodule, importing it needs the `bocpy` package first
// (the runtime's `bocpy/__init__.py` does `from bocpy._math import Matrix`).
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstddef>

namespace boc::py {

/// The fully qualified module name used with PyImport_AppendInittab.
inline constexpr const char* kMathModuleName = "bocpy._math";

/// Per-interpreter (per module object) state.
struct MathState {
  PyTypeObject* matrix_type;    ///< strong reference to this module's Matrix type
  PyTypeObject* row_iter_type;  ///< strong reference: the type of iter(m)
  /// Recycled Matrix objects of this interpreter (see matrix_type.cpp,
  /// "Object pool"): a small matrix's object and its buffer are kept on
  /// dealloc and handed out again by matrix_alloc, so the many 1 x 2 rows
  /// and results of a flock cell cost no malloc. Closed (pool_open false)
  /// once the module is cleared.
  static constexpr int kPoolMax = 256;
  PyObject* pool[kPoolMax];
  int pool_count;
  bool pool_open;
  /// The type of bound methods (matrix_method.h) and its pool of recycled
  /// objects (open while pool_open, as the Matrix pool).
  PyTypeObject* method_type;  ///< strong reference
  static constexpr int kMethodPoolMax = 32;
  PyObject* method_pool[kMethodPoolMax];
  int method_pool_count;
  /// The descriptors attribute names found on matrix_type, by the name's
  /// identity (matrix_attributes.h): the name is a strong reference, the
  /// descriptor is borrowed from the type's dict.
  struct AttributeEntry {
    PyObject* name;
    PyObject* descr;
  };
  static constexpr std::size_t kAttributeCacheSize = 64;
  AttributeEntry attribute_cache[kAttributeCacheSize];
};

/// The module definition (PyType_GetModuleByDef looks modules up by it).
PyModuleDef* math_module_def();

/// The state of a `bocpy._math` module object.
MathState* math_state(PyObject* module);

/// The state of the module that created type (or a base of it), via
/// PyType_GetModuleByDef. nullptr with TypeError set if type is not ours.
MathState* math_state_from_type(PyTypeObject* type);

/// The current interpreter's `bocpy._math` module (sys.modules, importing it
/// if needed). New reference, or nullptr with an error set.
PyObject* current_math_module();

}  // namespace boc::py

/// The module's init function (multi-phase: returns the PyModuleDef).
extern "C" PyObject* boc_py_init_math(void);
