#pragma once

// Attribute lookup of Matrix instances (its tp_getattro / tp_setattro).
//
// CPython 3.13 never specialises LOAD_ATTR for a C getset descriptor, so
// `row.x` took the generic way (type lookup, descriptor, getter) on every
// read; bocpy's examples/boids.py reads .x/.y twice per neighbour per boid.
// Matrix is final and immutable and has no instance dict, so the descriptor
// a name finds never changes: each interpreter's module state caches it by
// the name's identity and calls a getset's getter / setter directly.
//
// Overriding tp_getattro also ends the specialisation of `m.method(...)`,
// after which CPython builds a builtin method object (GC-tracked, allocated
// and freed) per call. Instance methods therefore come back as pooled,
// untracked `bocpy.MatrixMethod` objects that call the C function directly
// and are the real builtin method to everything else: their attributes
// (even __class__, so isinstance and inspect see a builtin method), repr,
// hash, equality and pickling go to a real one, made on demand.

#include <Python.h>

namespace boc::py {

struct MathState;

/// tp_getattro of every interpreter's Matrix type.
PyObject* matrix_getattro(PyObject* self, PyObject* name);

/// tp_setattro of every interpreter's Matrix type.
int matrix_setattro(PyObject* self, PyObject* name, PyObject* value);

/// The spec of the bound-method type (`bocpy.MatrixMethod`).
PyType_Spec* matrix_method_spec();

/// Replaces type's class-method descriptors (Matrix.vector, .concat, ...) in
/// its dict by the builtin methods they bind to, once: CPython 3.13
/// specialises `Matrix.vector(...)` for a plain callable in a type's dict
/// (no descriptor), but binds a class-method descriptor anew on every call.
/// The object is the same one the descriptor would have made (a builtin
/// method of the type). 0, or -1 with an error set.
int matrix_bind_class_methods(PyTypeObject* type);

/// Empties state's descriptor cache and frees its pooled bound-method
/// objects; called once the module is cleared, before its types go.
void matrix_attributes_close(MathState* state);

}  // namespace boc::py
