// What libbocpy_native.so exports to the extension modules (native_entry.cpp).
#pragma once

#include <Python.h>

extern "C" {
PyObject* bocpy_native_init_core(void);
PyObject* bocpy_native_init_math(void);
}
