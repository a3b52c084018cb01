#include "sim/python_host.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "sim/gl_handle_module.h"
#include "py_ref.h"

#ifndef BOC_SOURCE_DIR
#define BOC_SOURCE_DIR ""
#endif

namespace boc::demo {

namespace {

using Ref = boc::py::PyRef;

std::unique_ptr<PythonHost>& host_slot() {
  static auto* slot = new std::unique_ptr<PythonHost>();  // never destroyed: used by atexit
  return *slot;
}

// The main thread's state while the GIL is released between Gil scopes.
PyThreadState* g_saved = nullptr;
int g_depth = 0;
void shutdown_at_exit() { PythonHost::shutdown(); }

// Imports the script as a module; run once per host with the helper's globals.
constexpr const char* kImportHelper = R"PY(
import os, sys

def import_script(path):
    path = os.path.abspath(path)
    folder, file = os.path.split(path)
    name, ext = os.path.splitext(file)
    if ext != ".py" or not name.isidentifier():
        raise ImportError(f"{path}: a simulation script must be a .py file named like a Python module")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = sys.modules.get(name)
    if module is None:
        # __import__ rather than importlib.import_module: the import statement's machinery
        # strips importlib's own frames from a failing script's traceback.
        module = __import__(name)
    where = getattr(module, "__file__", None)
    if where is None or os.path.realpath(where) != os.path.realpath(path):
        raise ImportError(f"{path}: the module name {name!r} is already taken by {where or module!r}; "
                          "rename the script")
    return module

def bocpy_wait():
    # bocpy.wait() inspects its caller's frame (to rescue cowns); called straight from C++
    # it has none and raises "call stack is not deep enough". This is that caller.
    import bocpy
    return bocpy.wait()
)PY";

// The globals of kImportHelper, created on first use; dropped (not freed) at shutdown.
PyObject* g_helpers = nullptr;

// kImportHelper's function `name` (borrowed), or nullptr with an error set.
PyObject* helper(const char* name) {
  if (g_helpers == nullptr) {
    Ref globals(PyDict_New());
    if (!globals || PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) < 0) return nullptr;
    Ref code(Py_CompileString(kImportHelper, "<boids_demo script loader>", Py_file_input));
    Ref run(code ? PyEval_EvalCode(code.get(), globals.get(), globals.get()) : nullptr);
    if (!run) return nullptr;
    g_helpers = globals.release();
  }
  PyObject* fn = PyDict_GetItemString(g_helpers, name);  // borrowed
  if (fn == nullptr) PyErr_Format(PyExc_RuntimeError, "python_host helper %s is missing", name);
  return fn;
}

}  // namespace

PythonHost::PythonHost() {
  boc::py::EmbedOptions options;
  options.argv = {"boids_demo"};
  options.install_signal_handlers = false;  // Ctrl-C ends the demo, not a KeyboardInterrupt
  options.extra_builtin_modules.emplace_back("boids_gl", &PyInit_boids_gl);
  python_ = std::make_unique<boc::py::EmbeddedPython>(options);
  // No __pycache__ folders in the source tree.
  PySys_SetObject("dont_write_bytecode", Py_True);
  g_saved = PyEval_SaveThread();
  g_depth = 0;
}

PythonHost::~PythonHost() = default;

PythonHost& PythonHost::instance() {
  std::unique_ptr<PythonHost>& slot = host_slot();
  if (!slot) {
    slot.reset(new PythonHost());
    static bool registered = false;
    if (!registered) {
      registered = true;
      std::atexit(shutdown_at_exit);
    }
  }
  return *slot;
}

bool PythonHost::alive() { return static_cast<bool>(host_slot()); }

void PythonHost::shutdown() {
  std::unique_ptr<PythonHost>& slot = host_slot();
  if (!slot) return;
  if (g_saved != nullptr) {
    PyEval_RestoreThread(g_saved);
    g_saved = nullptr;
  }
  g_helpers = nullptr;  // finalize() frees it
  slot->python_->finalize();
  slot.reset();
  g_depth = 0;
}

PythonHost::Gil::Gil() {
  if (g_depth++ == 0 && g_saved != nullptr) {
    PyEval_RestoreThread(g_saved);
    g_saved = nullptr;
  }
}

PythonHost::Gil::~Gil() {
  if (--g_depth == 0 && PythonHost::alive()) {
    g_saved = PyEval_SaveThread();
  }
}

ExceptionText fetch_python_error() {
  ExceptionText out;
  PyObject* exc = PyErr_GetRaisedException();
  if (exc == nullptr) return out;
  Ref exc_ref(exc);
  Ref type_name(PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(exc)), "__name__"));
  Ref text(PyObject_Str(exc));
  out.message = boc::py::utf8_of(type_name.get());
  const std::string detail = boc::py::utf8_of(text.get());
  if (!detail.empty()) out.message += ": " + detail;
  PyErr_Clear();

  Ref traceback(PyImport_ImportModule("traceback"));
  Ref lines(traceback ? PyObject_CallMethod(traceback.get(), "format_exception", "O", exc) : nullptr);
  Ref empty(PyUnicode_FromString(""));
  Ref joined(lines && empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
  out.traceback = boc::py::utf8_of(joined.get());
  PyErr_Clear();
  return out;
}

PyObject* import_script_module(const std::string& path) {
  PyObject* fn = helper("import_script");
  if (fn == nullptr) return nullptr;
  Ref arg(PyUnicode_DecodeFSDefault(path.c_str()));
  if (!arg) return nullptr;
  return PyObject_CallOneArg(fn, arg.get());
}

PyObject* bocpy_wait() {
  PyObject* fn = helper("bocpy_wait");
  return fn != nullptr ? PyObject_CallNoArgs(fn) : nullptr;
}

std::string resolve_script_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) return path;
  const fs::path given(path);
  const std::string source_dir = BOC_SOURCE_DIR;
  if (given.is_relative() && !source_dir.empty()) {
    const fs::path in_tree = fs::path(source_dir) / given;
    if (fs::exists(in_tree, ec)) return in_tree.string();
  }
  return {};
}

}  // namespace boc::demo
