// The cown handle types of `bocpy._core`: CownCapsule (what behavior bodies
// receive), Cown (what users create) and PinnedCown (a Cown whose value never
// leaves the main interpreter). All three wrap one PyCown reference.
#pragma once

#include <Python.h>

#include "interp_state.h"
#include "py_cown.h"

namespace boc::py {

struct CapsuleObject {
  PyObject_HEAD PyCown* cown;  // strong reference
};

/// Creates the three heap types into `state` and adds them to the module.
int add_cown_types(PyObject* module, InterpState* state);

/// New CownCapsule / Cown / PinnedCown wrapper around cown (new reference).
PyObject* new_capsule(InterpState* state, const Ref<PyCown>& cown);
PyObject* new_cown_handle(InterpState* state, const Ref<PyCown>& cown);

/// The PyCown behind a handle object (borrowed), or nullptr (no error set).
PyCown* cown_of(InterpState* state, PyObject* obj);

/// Installs the parcel hooks that move handles between interpreters.
void install_handle_hooks();

}  // namespace boc::py
