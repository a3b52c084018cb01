// EmbeddedPython: CPython initialisation and `python`-style program execution
// for the bocpy runner and other hosts.
//
// Why not PyRun_SimpleFile / PyErr_Print: with a SystemExit pending both end
// the process through exit(), skipping the shutdown order that 3.13 needs
// (finish bocpy work, end the worker interpreters on their own threads, then
// Py_FinalizeEx with the main thread state current; any other order aborts
// or crashes on 3.12/3.13). Everything here therefore compiles and executes code itself and maps
// SystemExit / KeyboardInterrupt / other errors to an exit status by hand.

#include "embedded_python.h"

#include <malloc.h>

#include <cstdio>
#include <list>
#include <stdexcept>
#include <string>

#include "core_lifecycle.h"
#include "module_core.h"
#include "package_install.h"
#include "py_ref.h"

#ifndef BOC_PYTHON_EXECUTABLE
#define BOC_PYTHON_EXECUTABLE ""
#endif

namespace boc::py {

namespace {

/// Exit status of `python` for an uncaught KeyboardInterrupt (it re-raises
/// SIGINT on itself; a shell reports that as 128 + 2).
constexpr int kKeyboardInterruptStatus = 130;
/// `python`'s status when the script cannot be opened.
constexpr int kCannotOpenStatus = 2;

bool g_alive = false;

/// PyImport_AppendInittab keeps the name pointer, so the names must outlive
/// the interpreter: they are kept here for the life of the process.
const char* persistent_name(const std::string& name) {
  static std::list<std::string> names;
  for (const std::string& n : names) {
    if (n == name) {
      return n.c_str();
    }
  }
  names.push_back(name);
  return names.back().c_str();
}

/// Prints a pending (non-SystemExit) exception the way PyErr_Print does —
/// through sys.excepthook, falling back to the built-in display — without
/// PyErr_Print's exit() on SystemExit. Clears the error.
void print_exception(PyObject* exc) {
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exc));
  PyRef tb(PyException_GetTraceback(exc));
  PyObject* tb_or_none = tb ? tb.get() : Py_None;
  // sys.last_exc & co., as the interactive tools expect after an error.
  PySys_SetObject("last_exc", exc);
  PySys_SetObject("last_type", type);
  PySys_SetObject("last_value", exc);
  PySys_SetObject("last_traceback", tb_or_none);

  PyObject* hook = PySys_GetObject("excepthook");  // borrowed
  if (hook != nullptr && hook != Py_None) {
    PyRef r(PyObject_CallFunctionObjArgs(hook, type, exc, tb_or_none, nullptr));
    if (r) {
      return;
    }
    // The hook itself failed: show both, as CPython does.
    PyObject* hook_exc = PyErr_GetRaisedException();
    PySys_WriteStderr("Error in sys.excepthook:\n");
    if (hook_exc != nullptr) {
      PyErr_DisplayException(hook_exc);
      Py_DECREF(hook_exc);
    }
    PySys_WriteStderr("\nOriginal exception was:\n");
  }
  PyErr_DisplayException(exc);
  PyErr_Clear();
}

/// The exit status for a SystemExit instance (mirrors CPython's
/// _Py_HandleSystemExit): None -> 0, int -> int, anything else is printed to
/// stderr and gives 1.
int system_exit_status(PyObject* exc) {
  PyRef code(PyObject_GetAttrString(exc, "code"));
  if (!code) {
    PyErr_Clear();
    return 1;
  }
  if (code.get() == Py_None) {
    return 0;
  }
  if (PyLong_Check(code.get())) {
    long v = PyLong_AsLong(code.get());
    if (v == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      return -1;
    }
    return static_cast<int>(v);
  }
  PyObject* err = PySys_GetObject("stderr");  // borrowed
  if (err != nullptr && err != Py_None) {
    if (PyFile_WriteObject(code.get(), err, Py_PRINT_RAW) < 0 || PyFile_WriteString("\n", err) < 0) {
      PyErr_Clear();
    }
  } else {
    PyRef s(PyObject_Str(code.get()));
    const char* text = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
    std::fprintf(stderr, "%s\n", text != nullptr ? text : "<unprintable exit code>");
    PyErr_Clear();
  }
  return 1;
}

/// Maps the pending exception to an exit status and clears it.
int handle_pending_exception() {
  PyObject* exc = PyErr_GetRaisedException();
  if (exc == nullptr) {
    return 1;
  }
  int status = 1;
  if (PyErr_GivenExceptionMatches(exc, PyExc_SystemExit)) {
    status = system_exit_status(exc);
  } else {
    print_exception(exc);
    if (PyErr_GivenExceptionMatches(exc, PyExc_KeyboardInterrupt)) {
      status = kKeyboardInterruptStatus;
    }
  }
  Py_DECREF(exc);
  return status;
}

/// Prints (without exiting) whatever error is pending; used for our own
/// failures such as a broken sys.path.
void report_pending_error(const char* context) {
  std::fflush(stdout);
  std::fprintf(stderr, "bocpy: %s\n", context);
  if (PyErr_Occurred()) {
    handle_pending_exception();
  }
}

/// Python's own exit order, before bocpy shuts down (both may still use
/// bocpy): join the non-daemon threads, then run the atexit callbacks.
/// Py_FinalizeEx repeats both, finding nothing left to do.
void run_exit_hooks() {
  PyRef name(PyUnicode_FromString("threading"));
  PyRef threading(name ? PyImport_GetModule(name.get()) : nullptr);  // only if the program imported it
  if (threading) {
    PyRef r(PyObject_CallMethod(threading.get(), "_shutdown", nullptr));
    if (!r) {
      handle_pending_exception();
    }
  }
  PyErr_Clear();
  PyRef atexit(PyImport_ImportModule("atexit"));
  if (atexit) {
    PyRef r(PyObject_CallMethod(atexit.get(), "_run_exitfuncs", nullptr));
    if (!r) {
      handle_pending_exception();
    }
  }
  PyErr_Clear();
}

/// sys.argv = [argv0] + argv[1:].
bool set_sys_argv(const std::vector<std::string>& argv, const std::string& argv0) {
  PyRef list(PyList_New(0));
  if (!list) {
    return false;
  }
  PyRef first(PyUnicode_DecodeFSDefault(argv0.c_str()));
  if (!first || PyList_Append(list.get(), first.get()) < 0) {
    return false;
  }
  for (std::size_t i = 1; i < argv.size(); ++i) {
    PyRef item(PyUnicode_DecodeFSDefault(argv[i].c_str()));
    if (!item || PyList_Append(list.get(), item.get()) < 0) {
      return false;
    }
  }
  return PySys_SetObject("argv", list.get()) == 0;
}

/// sys.path.insert(0, entry).
bool prepend_sys_path(PyObject* entry) {
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path == nullptr || !PyList_Check(path)) {
    PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
    return false;
  }
  return PyList_Insert(path, 0, entry) == 0;
}

/// Calls module.func(*args) and returns the new reference (nullptr on error).
PyObject* call_in(const char* module, const char* func, PyObject* args) {
  PyRef mod(PyImport_ImportModule(module));
  if (!mod) {
    return nullptr;
  }
  PyRef fn(PyObject_GetAttrString(mod.get(), func));
  if (!fn) {
    return nullptr;
  }
  return PyObject_CallObject(fn.get(), args);
}

/// The real __main__ module's dict (borrowed), with __builtins__ present.
PyObject* main_dict() {
#if PY_VERSION_HEX >= 0x030D0000
  PyRef main_ref(PyImport_AddModuleRef("__main__"));
  PyObject* main = main_ref.get();  // sys.modules keeps it alive
#else
  PyObject* main = PyImport_AddModule("__main__");  // borrowed
#endif
  if (main == nullptr) {
    return nullptr;
  }
  PyObject* dict = PyModule_GetDict(main);  // borrowed
  if (PyDict_GetItemString(dict, "__builtins__") == nullptr &&
      PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) < 0) {
    return nullptr;
  }
  return dict;
}

/// True if `path` is run the way `python dir_or_zip` runs it: through its
/// __main__ module with the path itself as sys.path[0].
bool is_importable_path(PyObject* path) {
  PyRef isdir(call_in("os.path", "isdir", PyRef(PyTuple_Pack(1, path)).get()));
  if (isdir && PyObject_IsTrue(isdir.get()) == 1) {
    return true;
  }
  PyErr_Clear();
  PyRef zip(call_in("zipimport", "zipimporter", PyRef(PyTuple_Pack(1, path)).get()));
  if (zip) {
    return true;
  }
  PyErr_Clear();
  return false;
}

}  // namespace

EmbeddedPython::EmbeddedPython(const EmbedOptions& options) : argv_(options.argv) {
  if (g_alive || Py_IsInitialized()) {
    throw std::runtime_error("EmbeddedPython: CPython is already initialised in this process");
  }
  // Matrix buffers of 64 KiB and more are allocated and freed every behavior;
  // glibc's defaults would hand them back to the kernel each time and
  // page-fault them in again (measured: 2x on a dense flock cell).
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  for (const auto& [name, init] : options.extra_builtin_modules) {
    if (PyImport_AppendInittab(persistent_name(name), init) < 0) {
      throw std::runtime_error("EmbeddedPython: cannot register built-in module " + name);
    }
  }
  register_builtin_modules();

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  config.install_signal_handlers = options.install_signal_handlers ? 1 : 0;
  PyStatus status = PyStatus_Ok();
  // The interpreter we were built against: sys.executable must not be a
  // pyenv shim for another version (README "Python selection"), and the stdlib is
  // found relative to it.
  const char* exe = BOC_PYTHON_EXECUTABLE;
  if (exe[0] != '\0') {
    status = PyConfig_SetBytesString(&config, &config.program_name, exe);
    if (!PyStatus_Exception(status)) {
      status = PyConfig_SetBytesString(&config, &config.executable, exe);
    }
  }
  if (!PyStatus_Exception(status) && !argv_.empty()) {
    std::vector<char*> raw;
    raw.reserve(argv_.size());
    for (std::string& a : argv_) {
      raw.push_back(a.data());
    }
    status = PyConfig_SetBytesArgv(&config, static_cast<Py_ssize_t>(raw.size()), raw.data());
  }
  if (!PyStatus_Exception(status)) {
    status = Py_InitializeFromConfig(&config);
  }
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    std::string what = "EmbeddedPython: CPython initialisation failed";
    if (status.func != nullptr) {
      what += std::string(": ") + status.func;
    }
    if (status.err_msg != nullptr) {
      what += std::string(": ") + status.err_msg;
    }
    std::fprintf(stderr, "%s\n", what.c_str());
    throw std::runtime_error(what);
  }
  g_alive = true;

  if (!options.sys_executable.empty()) {
    PyRef exe_obj(PyUnicode_DecodeFSDefault(options.sys_executable.c_str()));
    if (!exe_obj || PySys_SetObject("executable", exe_obj.get()) < 0) {
      report_pending_error("cannot set sys.executable");
    }
  }

  if (!install_bocpy_package()) {
    report_pending_error("cannot install the bocpy package");
    finalize();
    throw std::runtime_error("EmbeddedPython: cannot install the bocpy package");
  }
}

EmbeddedPython::~EmbeddedPython() { finalize(); }

int EmbeddedPython::finalize() {
  if (finalized_) {
    return 0;
  }
  finalized_ = true;
  shutdown_runtime_for_exit();
  int rc = Py_FinalizeEx();
  g_alive = false;
  return rc;
}

int EmbeddedPython::finish(bool ok) {
  int status = 0;
  if (!ok) {
    status = handle_pending_exception();
  }
  // A program stopped by Ctrl-C stops the runtime's other work too: bocpy's
  // atexit hook sees the KeyboardInterrupt in sys.last_exc (set by
  // print_exception, as by python itself) -- one path for both modes.
  run_exit_hooks();
  // Like interpreter exit: finish all bocpy work (as wait() does) and end the
  // worker interpreters while the main thread still holds a live Python.
  shutdown_runtime_for_exit();
  if (PyErr_Occurred()) {
    PyErr_Clear();  // shutdown_runtime_for_exit never raises; be safe anyway
  }
  return status;
}

int EmbeddedPython::run_source(PyObject* source, const char* filename) {
  PyObject* globals = main_dict();
  if (globals == nullptr) {
    return finish(false);
  }
  PyRef builtins(PyImport_ImportModule("builtins"));
  PyRef compile(builtins ? PyObject_GetAttrString(builtins.get(), "compile") : nullptr);
  if (!compile) {
    return finish(false);
  }
  // compile(source, filename, "exec", dont_inherit=True): bytes honour the
  // PEP 263 coding cookie exactly as `python file.py` does.
  PyRef args(Py_BuildValue("(Oss)", source, filename, "exec"));
  PyRef kwargs(Py_BuildValue("{s:O}", "dont_inherit", Py_True));
  if (!args || !kwargs) {
    return finish(false);
  }
  PyRef code(PyObject_Call(compile.get(), args.get(), kwargs.get()));
  if (!code) {
    return finish(false);
  }
  PyRef result(PyEval_EvalCode(code.get(), globals, globals));
  return finish(static_cast<bool>(result));
}

int EmbeddedPython::run_file(const std::string& path) {
  if (!set_sys_argv(argv_, path)) {
    return finish(false);
  }
  PyRef py_path(PyUnicode_DecodeFSDefault(path.c_str()));
  if (!py_path) {
    return finish(false);
  }

  if (is_importable_path(py_path.get())) {
    // `python dir/` or `python app.zip`: the path is sys.path[0] and its
    // __main__ module runs (argv[0] stays as given).
    if (!prepend_sys_path(py_path.get())) {
      return finish(false);
    }
    PyRef args(Py_BuildValue("(sO)", "__main__", Py_False));
    PyRef r(args ? call_in("runpy", "_run_module_as_main", args.get()) : nullptr);
    return finish(static_cast<bool>(r));
  }

  // Read the source first so an unreadable file gives `python`'s message/status.
  PyRef source;
  {
    PyRef file(PyFile_OpenCode(path.c_str()));
    if (file) {
      source.reset(PyObject_CallMethod(file.get(), "read", nullptr));
      PyRef closed(PyObject_CallMethod(file.get(), "close", nullptr));
      if (!closed && source) {
        return finish(false);
      }
    }
    if (!source) {
      if (PyErr_ExceptionMatches(PyExc_OSError)) {
        PyObject* exc = PyErr_GetRaisedException();
        PyRef errno_obj(PyObject_GetAttrString(exc, "errno"));
        PyRef strerror(PyObject_GetAttrString(exc, "strerror"));
        PyErr_Clear();
        long err = errno_obj && PyLong_Check(errno_obj.get()) ? PyLong_AsLong(errno_obj.get()) : 0;
        const char* msg = strerror && PyUnicode_Check(strerror.get()) ? PyUnicode_AsUTF8(strerror.get()) : nullptr;
        PyErr_Clear();
        std::fflush(stdout);
        std::fprintf(stderr, "bocpy: can't open file '%s': [Errno %ld] %s\n", path.c_str(), err,
                     msg != nullptr ? msg : "cannot read");
        Py_DECREF(exc);
        finish(true);
        return kCannotOpenStatus;
      }
      return finish(false);
    }
  }

  // sys.path[0] = the script's real directory; __file__ is absolute (3.9+).
  PyRef abs_path(call_in("os.path", "abspath", PyRef(PyTuple_Pack(1, py_path.get())).get()));
  PyRef real_path(abs_path ? call_in("os.path", "realpath", PyRef(PyTuple_Pack(1, abs_path.get())).get()) : nullptr);
  PyRef dir(real_path ? call_in("os.path", "dirname", PyRef(PyTuple_Pack(1, real_path.get())).get()) : nullptr);
  if (!dir || !prepend_sys_path(dir.get())) {
    return finish(false);
  }

  PyObject* globals = main_dict();
  if (globals == nullptr) {
    return finish(false);
  }
  // __file__, __cached__ and a SourceFileLoader, as pymain sets them: the
  // loader lets linecache/inspect find the source, and bocpy's bindings read
  // __file__ to know the script has a real source file.
  PyRef loader_cls;
  {
    PyRef machinery(PyImport_ImportModule("importlib.machinery"));
    if (machinery) {
      loader_cls.reset(PyObject_GetAttrString(machinery.get(), "SourceFileLoader"));
    }
  }
  PyRef loader(loader_cls ? PyObject_CallFunction(loader_cls.get(), "sO", "__main__", abs_path.get()) : nullptr);
  if (!loader || PyDict_SetItemString(globals, "__file__", abs_path.get()) < 0 ||
      PyDict_SetItemString(globals, "__cached__", Py_None) < 0 ||
      PyDict_SetItemString(globals, "__loader__", loader.get()) < 0) {
    return finish(false);
  }
  PyRef filename(PyUnicode_EncodeFSDefault(abs_path.get()));
  if (!filename) {
    return finish(false);
  }
  return run_source(source.get(), PyBytes_AS_STRING(filename.get()));
}

int EmbeddedPython::run_module(const std::string& name) {
  // As `python -m`: argv[0] is "-m" until runpy replaces it with the
  // module's file; sys.path[0] is the current directory.
  if (!set_sys_argv(argv_, "-m")) {
    return finish(false);
  }
  PyRef cwd(call_in("os", "getcwd", nullptr));
  if (!cwd || !prepend_sys_path(cwd.get())) {
    return finish(false);
  }
  PyRef args(Py_BuildValue("(sO)", name.c_str(), Py_True));
  if (!args) {
    return finish(false);
  }
  PyRef r(call_in("runpy", "_run_module_as_main", args.get()));
  return finish(static_cast<bool>(r));
}

int EmbeddedPython::run_code(const std::string& code) {
  if (!set_sys_argv(argv_, "-c")) {
    return finish(false);
  }
  PyRef empty(PyUnicode_FromString(""));
  if (!empty || !prepend_sys_path(empty.get())) {
    return finish(false);
  }
  PyRef source(PyUnicode_DecodeFSDefault(code.c_str()));
  if (!source) {
    return finish(false);
  }
  return run_source(source.get(), "<string>");
}

int EmbeddedPython::run_stdin() {
  if (!set_sys_argv(argv_, "-")) {
    return finish(false);
  }
  PyRef empty(PyUnicode_FromString(""));
  if (!empty || !prepend_sys_path(empty.get())) {
    return finish(false);
  }
  // sys.stdin.buffer.read(): bytes, so a coding cookie is honoured.
  PyObject* in = PySys_GetObject("stdin");  // borrowed
  if (in == nullptr || in == Py_None) {
    PyErr_SetString(PyExc_RuntimeError, "lost sys.stdin");
    return finish(false);
  }
  PyRef buffer(PyObject_GetAttrString(in, "buffer"));
  PyRef source(buffer ? PyObject_CallMethod(buffer.get(), "read", nullptr) : nullptr);
  if (!source) {
    return finish(false);
  }
  return run_source(source.get(), "<stdin>");
}

}  // namespace boc::py
