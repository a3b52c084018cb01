// libbocpy_native.so's entry points: the module initialisers of bocpy._core
// and bocpy._math, called by the two extension modules beside it
// (core_module.cpp, math_module.cpp).
#include "matrix_module.h"
#include "module_core.h"
#include "native_entry.h"

extern "C" PyObject* bocpy_native_init_core(void) { return boc_py_init_core(); }
extern "C" PyObject* bocpy_native_init_math(void) { return boc_py_init_math(); }
