#include "matrix_python.h"

#include "matrix_module.h"

#ifndef BOC_PYTHON_EXECUTABLE
#error "BOC_PYTHON_EXECUTABLE must name the CPython the binary embeds"
#endif

namespace boc::matrix_test {
namespace {

constexpr const char* kStubPackage = R"(
import sys, types
if "bocpy" not in sys.modules:
    _pkg = types.ModuleType("bocpy")
    _pkg.__path__ = []
    sys.modules["bocpy"] = _pkg
import bocpy._math
sys.modules["bocpy"].Matrix = bocpy._math.Matrix
)";

constexpr const char* kRunScript = R"(
import runpy, sys
sys.argv = [PATH] + ARGS
try:
    runpy.run_path(PATH, run_name="__main__")
    rc = 0
except SystemExit as e:
    rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
sys.stdout.flush()
sys.stderr.flush()
)";

std::string python_home() {
  // <prefix>/bin/python3.x -> <prefix>
  std::string path = BOC_PYTHON_EXECUTABLE;
  for (int i = 0; i < 2; ++i) {
    const std::size_t slash = path.find_last_of('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  return path;
}

}  // namespace

std::string start_python() {
  if (PyImport_AppendInittab(boc::py::kMathModuleName, boc_py_init_math) < 0) {
    return "PyImport_AppendInittab failed";
  }
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;
  const std::string home = python_home();
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, BOC_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception(status)) {
    status = PyConfig_SetBytesString(&config, &config.executable, BOC_PYTHON_EXECUTABLE);
  }
  if (!PyStatus_Exception(status) && !home.empty()) {
    status = PyConfig_SetBytesString(&config, &config.home, home.c_str());
  }
  if (!PyStatus_Exception(status)) {
    status = Py_InitializeFromConfig(&config);
  }
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    return std::string("Python init failed: ") + (status.err_msg != nullptr ? status.err_msg : "?");
  }
  return {};
}

bool install_stub_package() {
  PyObject* ns = run_code(kStubPackage);
  Py_XDECREF(ns);
  return ns != nullptr;
}

PyObject* run_code(const char* code, std::initializer_list<std::pair<const char*, PyObject*>> names) {
  PyObject* globals = PyDict_New();
  if (globals == nullptr || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
    PyErr_Print();
    Py_XDECREF(globals);
    return nullptr;
  }
  for (const auto& [name, value] : names) {
    PyDict_SetItemString(globals, name, value);
  }
  PyObject* result = PyRun_String(code, Py_file_input, globals, globals);
  if (result == nullptr) {
    PyErr_Print();
    Py_DECREF(globals);
    return nullptr;
  }
  Py_DECREF(result);
  return globals;
}

int run_script(const std::string& path, const std::vector<std::string>& args) {
  if (!install_stub_package()) return -1;
  PyObject* path_obj = PyUnicode_FromString(path.c_str());
  PyObject* args_obj = PyList_New(0);
  for (const std::string& a : args) {
    PyObject* item = args_obj != nullptr ? PyUnicode_FromString(a.c_str()) : nullptr;
    if (item == nullptr || PyList_Append(args_obj, item) < 0) {
      Py_XDECREF(item);
      Py_CLEAR(args_obj);
      break;
    }
    Py_DECREF(item);
  }
  PyObject* ns = nullptr;
  if (path_obj != nullptr && args_obj != nullptr) {
    ns = run_code(kRunScript, {{"PATH", path_obj}, {"ARGS", args_obj}});
  } else {
    PyErr_Print();
  }
  Py_XDECREF(path_obj);
  Py_XDECREF(args_obj);
  if (ns == nullptr) return -1;
  PyObject* rc = PyDict_GetItemString(ns, "rc");  // borrowed
  const long value = rc == nullptr ? -1 : PyLong_AsLong(rc);
  Py_DECREF(ns);
  return static_cast<int>(value);
}

}  // namespace boc::matrix_test
