// Shared by values_test and values_bench: one embedded CPython per process,
// own-GIL sub-interpreters on dedicated threads, and a trivial cown-handle
// type (a PyCapsule) installed through boc::py::set_handle_hooks.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <atomic>
#include <functional>
#include <string>

#include "boc/cown.h"
#include "parcel.h"

namespace boc::values_test {

/// Initialises CPython once (config.executable = BOC_PYTHON_EXECUTABLE),
/// registers bocpy._math when it is built, runs the prelude in the main
/// interpreter and releases the GIL.
void python_start();
/// Reacquires the main GIL and finalises CPython. Returns Py_FinalizeEx's result.
int python_stop();

/// Holds the main interpreter's GIL on the main thread for its lifetime.
class MainGil {
 public:
  MainGil();
  ~MainGil();
  MainGil(const MainGil&) = delete;
  MainGil& operator=(const MainGil&) = delete;
};

/// Runs body on a new thread inside a fresh own-GIL sub-interpreter (created,
/// used and ended on that thread, as the runtime's workers do), after running
/// the prelude there. Call without holding the main GIL. Returns "" or a
/// description of what went wrong while creating the interpreter.
std::string run_in_subinterpreter(const std::function<void()>& body);

/// Runs the same in `count` sub-interpreters concurrently; body gets its index.
std::string run_in_subinterpreters(int count, const std::function<void(int)>& body);

// ---- Python helpers (current interpreter, GIL held) ----

/// The current interpreter's __main__ dict (borrowed).
PyObject* main_dict();
/// Runs statements in __main__; returns "" or the formatted error.
std::string exec(const char* code);
/// Evaluates an expression in __main__; new ref or nullptr with the error set.
PyObject* eval(const char* expr);
/// Binds name in __main__ (does not steal obj).
void set_global(const char* name, PyObject* obj);
/// Evaluates expr and returns its truth (false on error, with the error printed
/// into *error when given).
bool eval_true(const char* expr, std::string* error = nullptr);
/// Fetches and clears the current exception as "TypeName: message" ("" if none).
std::string take_error();
/// The type name of the current exception ("" if none), without clearing it.
std::string error_type_name();

/// Whether bocpy._math (Matrix) is compiled in.
constexpr bool kHaveMatrix =
#ifdef BOC_VALUES_WITH_MATRIX
    true;
#else
    false;
#endif

// ---- Test cown handles ----

/// A cown holding an int; its Python handle is a PyCapsule named kHandleName.
class TestCown final : public CownBase {
 public:
  explicit TestCown(int v) : CownBase(false), value(v) {}
  std::atomic<int> value;
};

inline constexpr const char* kHandleName = "boc.values_test.cown";

CownRef make_test_cown(int value);
/// Installs (or removes) the test handle hooks.
void install_test_hooks();
void remove_test_hooks();
/// A new handle for cown (the test wrap hook).
PyObject* new_handle(const CownRef& cown);
/// The cown behind a handle (the test unwrap hook).
CownRef handle_cown(PyObject* obj);

}  // namespace boc::values_test
