// matrix_bench: embeds CPython with `bocpy._math` registered and runs
// tests/matrix/matrix_bench.py, which times the Matrix operations of a flock
// cell against the same computation written as plain Python loops and
// prints the ratios. Not a ctest. Extra arguments (e.g. --quick) are passed
// to the script.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdio>
#include <string>

#include "matrix_module.h"

#ifndef BOC_PYTHON_EXECUTABLE
#error "BOC_PYTHON_EXECUTABLE must name the CPython the benchmark embeds"
#endif
#ifndef BOC_MATRIX_BENCH_PY
#error "BOC_MATRIX_BENCH_PY must name tests/matrix/matrix_bench.py"
#endif

namespace {

constexpr const char* kDriver = R"(
import runpy, sys, types
if "bocpy" not in sys.modules:
    _pkg = types.ModuleType("bocpy")
    _pkg.__path__ = []
    sys.modules["bocpy"] = _pkg
import bocpy._math
sys.modules["bocpy"].Matrix = bocpy._math.Matrix
sys.argv = [PATH] + ARGS
try:
    runpy.run_path(PATH, run_name="__main__")
    rc = 0
except SystemExit as e:
    rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
sys.stdout.flush()
)";

std::string python_home() {
  std::string path = BOC_PYTHON_EXECUTABLE;
  for (int i = 0; i < 2; ++i) {
    const std::size_t slash = path.find_last_of('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  return path;
}

bool initialize_python() {
  if (PyImport_AppendInittab(boc::py::kMathModuleName, boc_py_init_math) < 0) {
    return false;
  }
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  const std::string home = python_home();
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name,
                                            BOC_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception(status)) {
    status = PyConfig_SetBytesString(&config, &config.executable,
                                     BOC_PYTHON_EXECUTABLE);
  }
  if (!PyStatus_Exception(status) && !home.empty()) {
    status = PyConfig_SetBytesString(&config, &config.home, home.c_str());
  }
  if (!PyStatus_Exception(status)) {
    status = Py_InitializeFromConfig(&config);
  }
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    std::fprintf(stderr, "matrix_bench: Python init failed: %s\n",
                 status.err_msg != nullptr ? status.err_msg : "?");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!initialize_python()) {
    return 2;
  }
  long rc = 1;
  PyObject* globals = PyDict_New();
  PyObject* args = PyList_New(0);
  for (int i = 1; i < argc && args != nullptr; ++i) {
    PyObject* arg = PyUnicode_FromString(argv[i]);
    if (arg == nullptr || PyList_Append(args, arg) < 0) {
      Py_XDECREF(arg);
      Py_CLEAR(args);
      break;
    }
    Py_DECREF(arg);
  }
  PyObject* path = PyUnicode_FromString(BOC_MATRIX_BENCH_PY);
  if (globals != nullptr && args != nullptr && path != nullptr &&
      PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) ==
          0 &&
      PyDict_SetItemString(globals, "PATH", path) == 0 &&
      PyDict_SetItemString(globals, "ARGS", args) == 0) {
    PyObject* result = PyRun_String(kDriver, Py_file_input, globals, globals);
    if (result == nullptr) {
      PyErr_Print();
    } else {
      Py_DECREF(result);
      PyObject* code = PyDict_GetItemString(globals, "rc");  // borrowed
      rc = code == nullptr ? 1 : PyLong_AsLong(code);
    }
  } else {
    PyErr_Print();
  }
  Py_XDECREF(path);
  Py_XDECREF(args);
  Py_XDECREF(globals);
  if (Py_FinalizeEx() < 0) {
    return 3;
  }
  return static_cast<int>(rc);
}
