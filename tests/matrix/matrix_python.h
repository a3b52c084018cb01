// The embedded CPython that the Matrix test and benchmark binaries share:
// `bocpy._math` registered, the interpreter CMake chose, a stub `bocpy`
// package (the runtime's real one is not needed here) and a way to run a
// Python file as __main__.
#pragma once

#include <Python.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace boc::matrix_test {

/// Registers bocpy._math and initialises CPython (isolated config, no signal
/// handlers). Returns "" or what failed.
std::string start_python();

/// Current interpreter, GIL held: makes `import bocpy._math` work through a
/// bare parent package that re-exports Matrix, as the real package does.
bool install_stub_package();

/// Runs code in a fresh namespace of the current interpreter, with `names`
/// bound in it. Returns the namespace (new reference), or nullptr after
/// printing the error.
PyObject* run_code(const char* code, std::initializer_list<std::pair<const char*, PyObject*>> names = {});

/// Runs the Python file at path as __main__ with sys.argv = [path, *args].
/// Returns its exit status (SystemExit honoured), or -1 if it could not run.
int run_script(const std::string& path, const std::vector<std::string>& args = {});

}  // namespace boc::matrix_test
