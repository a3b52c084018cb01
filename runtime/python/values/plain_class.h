// Plain user-class instances in parcels: what lets the encoder write an
// instance of an ordinary Python class natively (class reference plus its
// attributes) instead of pickling it, with exactly the result pickle
// protocol 5 would give. Internal to boc_values.
//
// "Plain" is what pickle would reduce through object.__reduce_ex__ to
// copyreg.__newobj__(cls) and the instance __dict__ as state: a class
// written in Python, derived from object only in layout (no __slots__, no
// builtin base with its own data), with no metaclass, no pickling hooks
// (__reduce_ex__, __reduce__, __getstate__, __setstate__, __getnewargs__,
// __getnewargs_ex__), no __getattribute__/__getattr__, object's __new__, and
// no copyreg.dispatch_table entry.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace boc::py::detail {

/// Slot of type t in a per-thread table of `size` (a power of two, <= 32)
/// entries: the per-type verdict caches here and in native_class.cpp.
inline std::size_t type_slot(const PyTypeObject* t, std::size_t size) noexcept {
  return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(t) >> 4) * 0x9E3779B97F4A7C15ull >> 59) &
         (size - 1);
}

/// True if instances of t pickle as copyreg.__newobj__(t) + their __dict__
/// (see above; the copyreg.dispatch_table check is separate). Cached per
/// thread and type version, so repeated calls cost a few loads. Never sets
/// an error.
bool plain_class(PyTypeObject* t) noexcept;

/// True if t has an entry in the current interpreter's copyreg.dispatch_table
/// (pickle consults it before anything else). -1 with an error set on failure.
int in_dispatch_table(PyTypeObject* t);

/// t.__module__ as a str (borrowed from the type's dict), nullptr (no error)
/// if it has none or it is not a str. `key` is the str "__module__".
PyObject* class_module(PyTypeObject* t, PyObject* key) noexcept;

/// True if `sys.modules[t.__module__]` resolves t's __qualname__ to t itself
/// (pickle's "not the same object" check), without importing anything.
/// False (no error) when it does not; the caller pickles instead, which
/// gives pickle's own answer.
bool class_findable(PyTypeObject* t, PyObject* module_name);

/// The class `module.qualname` (strs) in the current interpreter, as the
/// unpickler finds it (new reference); nullptr with the unpickler's own error
/// if it cannot be found.
PyObject* find_class(PyObject* module, PyObject* qualname);

/// A new instance of cls (tp_new with no arguments, like pickle's NEWOBJ)
/// whose state is set from `names`/`values` (equal lengths, names exact str)
/// as pickle's BUILD does: __setstate__(dict) if the class has one, else
/// stored into the instance __dict__ (bypassing __setattr__). nullptr with an
/// error on failure.
PyObject* build_instance(PyObject* cls, PyObject* const* names, PyObject* const* values, Py_ssize_t n);

}  // namespace boc::py::detail
