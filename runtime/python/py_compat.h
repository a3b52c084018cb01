// Small shims over CPython 3.12 / 3.13 differences.
#pragma once

#include <Python.h>

namespace boc::py {

/// The calling thread's current thread state, or nullptr (never aborts).
inline PyThreadState* current_tstate_unchecked() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  return PyThreadState_GetUnchecked();
#else
  return _PyThreadState_UncheckedGet();
#endif
}

#if PY_VERSION_HEX < 0x030D0000
/// PyImport_AddModuleRef (3.13): the module named `name`, created if needed; new reference.
inline PyObject* PyImport_AddModuleRef(const char* name) {
  PyObject* m = PyImport_AddModule(name);  // borrowed
  Py_XINCREF(m);
  return m;
}
#endif

/// True if this thread currently holds the main interpreter's GIL.
inline bool holds_main_gil() noexcept {
  PyThreadState* ts = current_tstate_unchecked();
  return ts != nullptr && ts->interp == PyInterpreterState_Main();
}

/// True if the calling code runs in the main interpreter (GIL held).
inline bool in_main_interpreter() noexcept { return PyInterpreterState_Get() == PyInterpreterState_Main(); }

}  // namespace boc::py
