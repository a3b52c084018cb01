// Creating an own-GIL sub-interpreter on the calling thread: the interpreter, its only thread state and its end all
// live on one OS thread. Used for the runtime's workers and by tests that
// cross values into a sub-interpreter.
#pragma once

#include <Python.h>

#include <string>

namespace boc::py {

/// The calling thread must have no current thread state. On success returns
/// the new interpreter's thread state, current, with its GIL held (end it with
/// Py_EndInterpreter on this thread). On failure returns nullptr, describes the
/// problem in `error`, and the thread again has no thread state.
PyThreadState* new_own_gil_interpreter(std::string& error);

}  // namespace boc::py
