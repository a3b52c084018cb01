// Per-interpreter state of the `bocpy._core` module: its heap types and the
// cache of behavior functions rebuilt in this interpreter. Every interpreter
// that imports bocpy (main and each worker) has its own.
#pragma once

#include <Python.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kept_values.h"

namespace boc::py {

struct InterpState {
  std::int64_t interp_id = 0;
  PyObject* module = nullptr;  // borrowed: the module owns this state
  PyTypeObject* capsule_type = nullptr;
  PyTypeObject* cown_type = nullptr;
  PyTypeObject* pinned_type = nullptr;
  PyTypeObject* when_type = nullptr;
  PyTypeObject* behavior_capsule_type = nullptr;
  // The module's own terminator_inc and the interned names @when looks up to
  // see whether BehaviorCapsule / terminator_inc were replaced (core_schedule.cpp).
  PyObject* terminator_inc_fn = nullptr;
  PyObject* name_behavior_capsule = nullptr;
  PyObject* name_terminator_inc = nullptr;
  PyObject* name_terminator_dec = nullptr;
  // A dict watcher on the module's dict clears steps_known on any change, so
  // @when looks the two up only after the module changed (-1: no watcher,
  // look up every time).
  int module_dict_watcher = -1;
  bool steps_known = false;
  bool steps_replaced = false;
  PyObject* pump_result_type = nullptr;  // bocpy.PumpResult, set by bocpy.behaviors

  // Behavior code shipped to this interpreter: code id -> function with the
  // right globals (no defaults). Functions with free variables are rebuilt
  // per call from `codes` (their closure is a per-schedule snapshot).
  std::vector<PyObject*> functions;
  std::vector<PyObject*> codes;
  std::vector<PyObject*> globals;
  // Code objects registered from this interpreter -> their code id. Holds a
  // strong reference to each code object so the pointer stays unique.
  std::unordered_map<PyObject*, std::uint64_t> ids_by_code;

  // Objects this interpreter released and may take back (kept_values.h);
  // created on first use.
  std::unique_ptr<KeptValues> kept;

  // True while a worker executes the script bindings: scheduling is refused
  // so module-level @when statements do not multiply work per worker.
  bool loading_bindings = false;
};

/// The state of a bocpy._core module object (its PyModuleDef's m_size block).
inline InterpState* core_state(PyObject* module) { return static_cast<InterpState*>(PyModule_GetState(module)); }
/// The current interpreter's state, or nullptr if it has not imported bocpy._core.
InterpState* current_state() noexcept;
/// Registers/unregisters a state (module exec / module free).
void register_state(InterpState* state);
void unregister_state(InterpState* state);
/// Drops every cached object of the state (GIL held), e.g. before the
/// interpreter ends.
void clear_state_caches(InterpState* state);

}  // namespace boc::py
