// See xidata_bridge.h. C, because <bocpy/xidata.h> is C only (and needs
// CPython's internal headers from 3.13 on).
#include "xidata_bridge.h"

#include <bocpy/xidata.h>

int boc_xidata_registered(PyObject* obj) { return xidata_supported(obj) ? 1 : 0; }

void* boc_xidata_take(PyObject* obj) {
  XIDATA_T* x = XIDATA_NEW();
  if (x == NULL) return NULL;
  if (XIDATA_GETXIDATA(obj, x) < 0) {
    // A failed get has cleared what it filled: only the memory is left.
    PyMem_RawFree(x);
    return NULL;
  }
  return x;
}

PyObject* boc_xidata_new_object(void* x) { return XIDATA_NEWOBJECT((XIDATA_T*)x); }

int64_t boc_xidata_interp(const void* x) { return XIDATA_INTERPID((const XIDATA_T*)x); }

int boc_xidata_interp_is_current(const void* x) {
#if PY_VERSION_HEX >= 0x030D0000
  PyThreadState* ts = PyThreadState_GetUnchecked();
#else
  PyThreadState* ts = _PyThreadState_UncheckedGet();
#endif
  return ts != NULL && PyInterpreterState_GetID(ts->interp) == boc_xidata_interp(x);
}

void boc_xidata_free(void* x) { XIDATA_FREE((XIDATA_T*)x); }
