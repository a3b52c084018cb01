// reusable_value.h: when a released cown's object can be handed back as is.
#include "reusable_value.h"

#include "plain_class.h"

#ifdef BOC_VALUES_WITH_MATRIX
#include "matrix_transport.h"
#endif

namespace boc::py {
namespace {

// More attributes than this and the object is decoded as usual: a kept
// object is memory the interpreter holds for a cown that may never return.
constexpr Py_ssize_t kMaxAttributes = 32;

// Immutable values whose identity no decode would preserve anyway.
bool scalar(PyObject* v) noexcept {
  PyTypeObject* t = Py_TYPE(v);
  return t == &PyLong_Type || t == &PyFloat_Type || t == &PyUnicode_Type || t == &PyBool_Type || v == Py_None ||
         t == &PyBytes_Type || t == &PyComplex_Type;
}

// Weak references would see the object live on where a decode gives a new
// one. The list head sits at tp_weaklistoffset (negative, in the pre-header,
// for managed weak references), as CPython's own weakref code reads it.
bool weakly_referenced(PyObject* obj) noexcept {
  const Py_ssize_t offset = Py_TYPE(obj)->tp_weaklistoffset;
  return offset != 0 && *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + offset) != nullptr;
}

}  // namespace

bool prepare_reusable(PyObject* obj, bool* was_tracked) noexcept {
  PyTypeObject* t = Py_TYPE(obj);
  // The cown's reference is the only one: no frame, global or container in
  // this interpreter can change the object before it is handed back.
  if (Py_REFCNT(obj) != 1 || weakly_referenced(obj)) return false;
#ifdef BOC_VALUES_WITH_MATRIX
  if (matrix_check(obj)) {
    // Its buffer went into the parcel's store; reclaim_reusable() takes the
    // store back on reuse (no memoryview can exist: it would hold a reference).
    *was_tracked = false;
    return true;
  }
#endif
  if (!detail::plain_class(t)) return false;
  // Releasing it would have run __del__ now; keeping it would run it later.
  if (t->tp_finalize != nullptr || t->tp_del != nullptr) return false;
  // The encoder already materialised the instance dict (parcel_codec.cpp),
  // so this is a plain read.
  PyObject* dict = PyObject_GenericGetDict(obj, nullptr);
  if (dict == nullptr) {
    PyErr_Clear();
    return false;
  }
  // Ours and the instance's: nobody else holds obj.__dict__.
  bool ok = PyDict_CheckExact(dict) && Py_REFCNT(dict) == 2 && PyDict_GET_SIZE(dict) <= kMaxAttributes;
  Py_ssize_t pos = 0;
  PyObject *key, *value;
  while (ok && PyDict_Next(dict, &pos, &key, &value)) ok = scalar(value);
  // A dict of scalars may be left untracked (CPython untracks such dicts
  // itself); it is tracked again as soon as a container is stored in it.
  if (ok && PyObject_GC_IsTracked(dict)) PyObject_GC_UnTrack(dict);
  Py_DECREF(dict);
  if (!ok) return false;
  *was_tracked = PyObject_GC_IsTracked(obj) != 0;
  if (*was_tracked) PyObject_GC_UnTrack(obj);
  return true;
}

bool droppable_last_value(PyObject* obj) noexcept {
  if (scalar(obj)) return true;
#ifdef BOC_VALUES_WITH_MATRIX
  return matrix_private(obj);
#else
  return false;
#endif
}

void restore_reusable(PyObject* obj, bool was_tracked) noexcept {
  if (was_tracked) PyObject_GC_Track(obj);
}

bool reclaim_reusable(PyObject* obj) noexcept {
#ifdef BOC_VALUES_WITH_MATRIX
  if (matrix_check(obj)) return matrix_reclaim(obj);
#endif
  (void)obj;
  return true;
}

}  // namespace boc::py
