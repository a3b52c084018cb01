// Makes `import bocpy` work in any interpreter: a meta-path finder serving the
// package from the sources embedded in the binary (no files needed at run
// time); bocpy._core and bocpy._math are built-in modules.
#include "package_install.h"
#include "package_sources.h"
#include "py_ref.h"

#include <cstring>

namespace boc::py {
namespace {

constexpr const char* kFinderSource = R"PY(
import sys, linecache, importlib.util, importlib.metadata

class _BocpyEmbeddedDistribution(importlib.metadata.Distribution):
    """bocpy's distribution metadata, served from the binary like its sources."""

    def read_text(self, filename):
        if filename == "METADATA":
            return f"Metadata-Version: 2.1\nName: bocpy\nVersion: {_version}\n"
        return None

    def locate_file(self, path):
        return path

class _BocpyEmbeddedFinder:
    """Serves the bocpy package from sources embedded in the host binary."""

    def __init__(self, sources):
        self._sources = sources

    def find_spec(self, name, path=None, target=None):
        entry = self._sources.get(name)
        if entry is None:
            return None
        return importlib.util.spec_from_loader(name, self, origin=f"<embedded {name}>", is_package=entry[1])

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source, is_package = self._sources[module.__name__]
        filename = f"<embedded {module.__name__}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        if is_package:
            module.__path__ = []
        module.__file__ = filename  # tools print it (bocpy's scripts/bench_matrix.py)
        exec(compile(source, filename, "exec"), module.__dict__)

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        if context.name is None or context.name.replace("-", "_").lower() == "bocpy":
            yield _BocpyEmbeddedDistribution()

if not any(type(f).__name__ == "_BocpyEmbeddedFinder" for f in sys.meta_path):
    sys.meta_path.insert(0, _BocpyEmbeddedFinder(_sources))
)PY";

// Set when a host serves bocpy from the binary (EmbeddedPython); the
// extension package leaves it false and its workers import from sys.path.
// Written on main before any worker starts, read by workers after the
// runtime's start hand-off.
bool g_package_embedded = false;

}  // namespace

bool import_bocpy_in_worker() {
  if (g_package_embedded && !install_bocpy_package()) return false;
  return static_cast<bool>(PyRef(PyImport_ImportModule("bocpy")));
}

namespace {

// Puts the embedded-source finder on this interpreter's sys.meta_path.
bool install_finder() {
  PyRef sources(PyDict_New());
  if (!sources) return false;
  for (const EmbeddedSource* s = kPackageSources; s->module != nullptr; ++s) {
    PyRef entry(Py_BuildValue("(sO)", s->source, s->is_package ? Py_True : Py_False));
    if (!entry || PyDict_SetItemString(sources.get(), s->module, entry.get()) < 0) return false;
  }
  PyRef globals(PyDict_New());
  PyRef version(PyUnicode_FromString(BOC_BOCPY_VERSION));
  if (!globals || !version || PyDict_SetItemString(globals.get(), "_version", version.get()) < 0 ||
      PyDict_SetItemString(globals.get(), "_sources", sources.get()) < 0 ||
      PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) < 0) {
    return false;
  }
  // Compile + eval rather than PyRun_String (see values/pickle_fallback.cpp).
  PyRef code(Py_CompileString(kFinderSource, "<bocpy embedded finder>", Py_file_input));
  return code && static_cast<bool>(PyRef(PyEval_EvalCode(code.get(), globals.get(), globals.get())));
}

// `bocpy` as a built-in module of an embedding host, so any interpreter --
// also one made with _interpreters.create() -- can import it: executing it
// installs the finder there and runs the package's __init__ source.
int package_exec(PyObject* module) {
  if (!install_finder()) return -1;
  const EmbeddedSource* init = nullptr;
  for (const EmbeddedSource* s = kPackageSources; s->module != nullptr; ++s) {
    if (std::strcmp(s->module, "bocpy") == 0) init = s;
  }
  if (init == nullptr) {
    PyErr_SetString(PyExc_ImportError, "bocpy's __init__ is not embedded");
    return -1;
  }
  PyObject* dict = PyModule_GetDict(module);  // borrowed
  PyRef path(PyList_New(0));
  if (!path || PyDict_SetItemString(dict, "__path__", path.get()) < 0 ||
      PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) < 0) {
    return -1;
  }
  PyRef code(Py_CompileString(init->source, "<embedded bocpy>", Py_file_input));
  if (!code) return -1;
  return PyRef(PyEval_EvalCode(code.get(), dict, dict)) ? 0 : -1;
}

PyModuleDef_Slot package_slots[] = {{Py_mod_exec, reinterpret_cast<void*>(package_exec)},
#ifdef Py_mod_multiple_interpreters
                                    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
                                    {0, nullptr}};

PyModuleDef package_def = {PyModuleDef_HEAD_INIT, "bocpy", nullptr, 0,      nullptr,
                           package_slots,         nullptr, nullptr, nullptr};

}  // namespace

bool install_bocpy_package() {
  g_package_embedded = true;
  // Not imported yet: the program's own `import bocpy` is the first, as
  // under python (its logging set-up, patched metadata... apply).
  return install_finder();
}

}  // namespace boc::py

extern "C" PyObject* boc_py_init_package(void) { return PyModuleDef_Init(&boc::py::package_def); }
