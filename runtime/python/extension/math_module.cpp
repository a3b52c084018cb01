// bocpy._math as an extension module: enters the runtime in libbocpy_native.so.
#include "native_entry.h"

PyMODINIT_FUNC PyInit__math(void) { return bocpy_native_init_math(); }
