/* xidata.h: one spelling of CPython's cross-interpreter-data ("XIData") API
 * for CPython 3.12, 3.13 and 3.14, so that one C source registers a type as
 * cross-interpreter shareable on each of them. Included by bocpy.h.
 *
 * CPython keeps this API internal and renames it between releases:
 *   3.12  _PyCrossInterpreterData_*   (cpython/pystate.h, part of Python.h)
 *   3.13  _PyCrossInterpreterData_*   (internal/pycore_crossinterp.h)
 *   3.14  _PyXIData_*                 (internal/pycore_crossinterp.h)
 * The 3.14 arm follows that release's header; this project builds and tests
 * the 3.12 and 3.13 arms. Older CPythons have no own-GIL interpreters, which
 * this runtime needs, so they are refused.
 *
 * The macros:
 *   XIDATA_T                    the XIData struct: data, obj, interpid,
 *                               new_object, free
 *   XIDATA_NEW()                a new zeroed XIDATA_T (PyMem_Raw memory)
 *   XIDATA_GETXIDATA(obj, x)    fill *x from obj by the getdata callback of
 *                               obj's type in the current interpreter (0, or
 *                               -1 with an exception)
 *   XIDATA_INIT(x, interp, data, obj, new_object)
 *                               what a getdata callback calls: interp is the
 *                               interpreter owning `data` (the caller's,
 *                               tstate->interp); x must be fresh (zeroed),
 *                               never initialised twice; obj, if not NULL,
 *                               is kept (a new reference) until x is freed
 *   XIDATA_SET_FREE(x, fn)      fn(data) runs when x is freed (the default
 *                               after XIDATA_INIT is none)
 *   XIDATA_NEWOBJECT(x)         a new object in the current interpreter, by
 *                               x's new_object callback
 *   XIDATA_FREE(x)              runs the free callback, drops obj and frees
 *                               x: only in the interpreter x->interpid names,
 *                               with its GIL (both touch its objects)
 *   XIDATA_INTERPID(x)          the id of the interpreter x was filled in
 *   XIDATA_REGISTERCLASS(type, getdata)
 *                               registers a type (0, or -1 with an
 *                               exception). The registry of a heap type is
 *                               per interpreter: register from the module's
 *                               Py_mod_exec slot, so it runs in every
 *                               interpreter that imports the module; never
 *                               twice with different callbacks
 *   XIDATA_GETDATA_FUNC(name)   declares a getdata callback `name` whose body
 *                               sees (PyThreadState *tstate, PyObject *obj,
 *                               XIDATA_T *xidata); it returns 0 or -1 with an
 *                               exception
 *   xidata_supported(obj)       true if obj's type is registered in the
 *                               current interpreter
 *
 * Lifecycle: register once per interpreter; then per hand-off, the sender
 * fills an XIData (getdata), the receiver builds its object (new_object), and
 * the sender's interpreter frees the XIData. The bocpy runtime does all of
 * that itself when a registered value crosses in a Cown or a message; an
 * extension only registers its type and writes the two callbacks.
 */
#ifndef BOCPY_XIDATA_H
#define BOCPY_XIDATA_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>
#include <stdbool.h>

#if PY_VERSION_HEX < 0x030C0000
#error "bocpy's C ABI needs CPython 3.12 or newer (own-GIL sub-interpreters)"
#endif

#if PY_VERSION_HEX >= 0x030D0000
/* From 3.13 the API sits in an internal header that insists on
 * Py_BUILD_CORE; define it for this one include only. */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE
#define BOCPY_XIDATA_UNDEF_BUILD_CORE
#endif
#include <internal/pycore_crossinterp.h>
#ifdef BOCPY_XIDATA_UNDEF_BUILD_CORE
#undef Py_BUILD_CORE
#undef BOCPY_XIDATA_UNDEF_BUILD_CORE
#endif
#endif

#if PY_VERSION_HEX >= 0x030E0000 /* 3.14: _PyXIData_* */

#define XIDATA_T _PyXIData_t
#define XIDATA_NEW() _PyXIData_New()
#define XIDATA_INIT _PyXIData_Init
#define XIDATA_SET_FREE(x, fn) _PyXIData_SET_FREE((x), (fn))
#define XIDATA_NEWOBJECT _PyXIData_NewObject
#define XIDATA_FREE _PyXIData_Free
#define XIDATA_INTERPID(x) _PyXIData_INTERPID(x)
#define XIDATA_GETXIDATA(obj, x) _PyObject_GetXIDataNoFallback(PyThreadState_Get(), (obj), (x))
#define XIDATA_REGISTERCLASS(type, getdata) \
  _PyXIData_RegisterClass(PyThreadState_Get(), (type), (_PyXIData_getdata_t){.basic = (getdata)})

static inline bool xidata_supported(PyObject* obj) {
  _PyXIData_getdata_t found = _PyXIData_Lookup(PyThreadState_Get(), obj);
  return found.basic != NULL || found.fallback != NULL;
}

#else /* 3.12 and 3.13: _PyCrossInterpreterData_* */

#define XIDATA_T _PyCrossInterpreterData
#define XIDATA_INIT _PyCrossInterpreterData_Init
#define XIDATA_NEWOBJECT _PyCrossInterpreterData_NewObject
#define XIDATA_GETXIDATA(obj, x) _PyObject_GetCrossInterpreterData((obj), (x))
#define XIDATA_REGISTERCLASS(type, getdata) _PyCrossInterpreterData_RegisterClass((type), (getdata))

static inline void bocpy_xidata_set_free(XIDATA_T* x, void (*fn)(void*)) { x->free = fn; }
#define XIDATA_SET_FREE(x, fn) bocpy_xidata_set_free((x), (fn))

static inline bool xidata_supported(PyObject* obj) { return _PyCrossInterpreterData_Lookup(obj) != NULL; }

#if PY_VERSION_HEX >= 0x030D0000
#define XIDATA_INTERPID(x) _PyCrossInterpreterData_INTERPID(x)
#define XIDATA_NEW() _PyCrossInterpreterData_New()
#define XIDATA_FREE _PyCrossInterpreterData_Free
#else
/* 3.12 exports neither New nor Free. Its Release would, from the wrong
 * interpreter, borrow that interpreter's thread state; freeing is only ever
 * done in the owning interpreter here, so it clears the fields directly. */
#define XIDATA_INTERPID(x) ((x)->interp)
static inline XIDATA_T* bocpy_xidata_new(void) {
  XIDATA_T* x = (XIDATA_T*)PyMem_RawCalloc(1, sizeof(XIDATA_T));
  if (x == NULL) {
    PyErr_NoMemory();
    return NULL;
  }
  x->interp = -1;
  return x;
}
static inline void bocpy_xidata_free(XIDATA_T* x) {
  if (x->free != NULL && x->data != NULL) x->free(x->data);
  x->data = NULL;
  Py_CLEAR(x->obj);
  PyMem_RawFree(x);
}
#define XIDATA_NEW() bocpy_xidata_new()
#define XIDATA_FREE bocpy_xidata_free
#endif

#endif /* version arms */

/* The getdata callback's C signature is the same on 3.12 to 3.14; the macro
 * keeps consumers free of it (and of unused-parameter warnings). */
#if defined(__GNUC__) || defined(__clang__)
#define BOCPY_XIDATA_MAYBE_UNUSED __attribute__((unused))
#else
#define BOCPY_XIDATA_MAYBE_UNUSED
#endif
#define XIDATA_GETDATA_FUNC(name)                                                                           \
  static int name(PyThreadState* tstate BOCPY_XIDATA_MAYBE_UNUSED, PyObject* obj BOCPY_XIDATA_MAYBE_UNUSED, \
                  XIDATA_T* xidata BOCPY_XIDATA_MAYBE_UNUSED)

#endif /* BOCPY_XIDATA_H */
