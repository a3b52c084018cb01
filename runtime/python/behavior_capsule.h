// bocpy._core.BehaviorCapsule: a behavior built but not yet handed to the
// runtime. bocpy's whencall builds one from (registry key, result, cowns,
// captures) and calls schedule(); core_schedule.cpp does the same steps
// inline while bocpy._core's own BehaviorCapsule and terminator_inc are in
// place, and through the module's attributes when something replaced them.
#pragma once

#include <Python.h>

#include "interp_state.h"
#include "py_behavior.h"

namespace boc::py {

/// Adds the BehaviorCapsule type to `module` (st->behavior_capsule_type).
int add_behavior_capsule_type(PyObject* module, InterpState* st);

/// Encodes the capture tuple `caps` into spec.captures. A pinned body
/// scheduled on main may capture what cannot cross (it never leaves main):
/// then the tuple itself is kept in spec.raw_captures. False + Python error.
bool encode_captures(PyObject* caps, bool any_pinned, PyBehavior::Spec& spec);

/// Hands `spec` to the running runtime. Outside a behavior, a cown this
/// interpreter holds (e.g. rescued by wait()) is handed back first. False +
/// RuntimeError when no runtime runs or it is shutting down.
bool submit_behavior(PyBehavior::Spec&& spec);

}  // namespace boc::py
