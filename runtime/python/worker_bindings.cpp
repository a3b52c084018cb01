// A worker's `__main__` from the script's bindings (worker_bindings.h).
#include "worker_bindings.h"

#include <Python.h>

#include "interp_state.h"
#include "py_ref.h"

namespace boc::py {

bool load_worker_bindings(const std::string& source, const std::string& main_file, const std::string& module_name) {
  PyRef transpiler(PyImport_ImportModule("bocpy.transpiler"));
  PyRef core(transpiler ? PyImport_ImportModule("bocpy._core") : nullptr);
  if (!core) return false;
  core_state(core.get())->loading_bindings = true;
  PyRef r(PyObject_CallMethod(transpiler.get(), "install_worker_main", "s#s#s#", source.data(),
                              static_cast<Py_ssize_t>(source.size()), main_file.data(),
                              static_cast<Py_ssize_t>(main_file.size()), module_name.data(),
                              static_cast<Py_ssize_t>(module_name.size())));
  core_state(core.get())->loading_bindings = false;
  return static_cast<bool>(r);
}

}  // namespace boc::py
