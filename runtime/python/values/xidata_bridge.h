// The parcel codec's view of CPython's cross-interpreter data (XIData): a C
// translation unit (xidata_bridge.c) over the public <bocpy/xidata.h>, so the
// runtime goes through the same version ladder as a consumer extension does.
// Internal to boc_values.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// True if obj's type is registered as shareable in the current interpreter
/// (GIL held). Never sets an error.
int boc_xidata_registered(PyObject* obj);

/// A new XIData filled from obj by its type's getdata callback (GIL held),
/// or NULL with the callback's exception.
void* boc_xidata_take(PyObject* obj);

/// A new object in the current interpreter from x (its new_object callback),
/// or NULL with an exception. x is only read.
PyObject* boc_xidata_new_object(void* x);

/// The interpreter that filled x (the one that must free it).
int64_t boc_xidata_interp(const void* x);

/// True if the calling thread holds the GIL of the interpreter that filled x.
/// Needs no GIL.
int boc_xidata_interp_is_current(const void* x);

/// Frees x (its free callback, its object, its memory). Only with the GIL of
/// boc_xidata_interp(x) held.
void boc_xidata_free(void* x);

#ifdef __cplusplus
}
#endif
