// The `bocpy._core` module: its definition, per-interpreter state and exec,
// which adds each method group (core_*.h, module_*.h and the rest).
#include "module_core.h"

#include "behavior_capsule.h"
#include "core_diagnostics.h"
#include "core_lifecycle.h"
#include "core_pump.h"
#include "core_schedule.h"
#include "interp_state.h"
#include "log_forwarding.h"
#include "matrix_module.h"
#include "messaging.h"
#include "module_cown.h"
#include "module_registry.h"
#include "noticeboard.h"
#include "package_install.h"
#include "py_cown.h"
#include "system_info.h"
#include "terminator.h"

namespace boc::py {
namespace {

// The functions without a group of their own here.
PyMethodDef core_methods[] = {
    {"_forward_log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(forward_log)), METH_FASTCALL, nullptr},
    {nullptr, nullptr, 0, nullptr}};

int core_exec(PyObject* module) {
  InterpState* st = new (core_state(module)) InterpState();
  st->interp_id = current_interp_id();
  st->module = module;
  if (add_cown_types(module, st) < 0) return -1;
  if (add_schedule_functions(module, st) < 0) return -1;
  if (add_lifecycle_functions(module) < 0) return -1;
  if (add_pump_functions(module) < 0) return -1;
  if (add_diagnostics_functions(module) < 0) return -1;
  if (add_terminator_functions(module) < 0) return -1;
  if (add_behavior_capsule_type(module, st) < 0) return -1;
  if (watch_whencall_steps(module, st) < 0) return -1;  // core_schedule.cpp
  if (add_system_functions(module) < 0) return -1;
  if (add_noticeboard_functions(module) < 0 || add_messaging_functions(module) < 0) return -1;
  if (add_registry_functions(module) < 0) return -1;  // module_registry.cpp
  register_state(st);
  install_handle_hooks();
  return 0;
}

void core_free(void* module) {
  InterpState* st = core_state(static_cast<PyObject*>(module));
  if (st == nullptr) return;
  unregister_state(st);
  clear_state_caches(st);
  Py_CLEAR(st->capsule_type);
  Py_CLEAR(st->cown_type);
  Py_CLEAR(st->pinned_type);
  Py_CLEAR(st->when_type);
  Py_CLEAR(st->behavior_capsule_type);
  unwatch_whencall_steps(st);
  Py_CLEAR(st->pump_result_type);
  st->~InterpState();
}

PyModuleDef_Slot core_slots[] = {{Py_mod_exec, reinterpret_cast<void*>(core_exec)},
#ifdef Py_mod_multiple_interpreters
                                 {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
                                 {Py_mod_gil, Py_MOD_GIL_USED},
#endif
                                 {0, nullptr}};

PyModuleDef core_def = {PyModuleDef_HEAD_INIT,
                        "bocpy._core",
                        "Behavior-Oriented Concurrency runtime core (C++).",
                        sizeof(InterpState),
                        core_methods,
                        core_slots,
                        nullptr,
                        nullptr,
                        core_free};

}  // namespace

void register_builtin_modules() {
  PyImport_AppendInittab("bocpy", boc_py_init_package);
  PyImport_AppendInittab("bocpy._core", boc_py_init_core);
  PyImport_AppendInittab(kMathModuleName, boc_py_init_math);
}

}  // namespace boc::py

extern "C" PyObject* boc_py_init_core(void) { return PyModuleDef_Init(&boc::py::core_def); }
