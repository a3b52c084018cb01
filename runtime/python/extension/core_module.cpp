// bocpy._core as an extension module: enters the runtime in libbocpy_native.so.
#include "native_entry.h"

PyMODINIT_FUNC PyInit__core(void) { return bocpy_native_init_core(); }
