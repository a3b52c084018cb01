// Whether the encoder may write an instance of a class natively (class
// reference plus __dict__, plain_class.h) or must leave it to pickle, asked
// once per instance encoded. The answer depends on the class (its version
// tag), sys.modules, the class's module dict and copyreg.dispatch_table, so
// it is remembered per thread until one of those changes: CPython bumps the
// version tag of a modified class, and a dict watcher sees every change to
// the three dicts. Internal to boc_values.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

namespace boc::py::detail {

/// For a plain class t (plain_class(t) is true): t.__module__ (a str borrowed
/// from the class) when pickle would write its instances as
/// copyreg.__newobj__(t) + __dict__ (no dispatch_table entry, and
/// sys.modules[t.__module__] resolves t.__qualname__ to t); nullptr with no
/// error when pickle must decide; nullptr with an error on failure.
PyObject* native_class_module(PyTypeObject* t);

}  // namespace boc::py::detail
