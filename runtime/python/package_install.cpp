// Makes `import bocpy` work in any interpreter: a meta-path finder serving the
// package from the sources embedded in the binary (no files needed at run
// time); bocpy._core and bocpy._math are built-in modules.
#include "module_core.h"
#include "package_sources.h"

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
  if (g_package_embedded) return install_bocpy_package();
  PyObject* pkg = PyImport_ImportModule("bocpy");
  if (pkg == nullptr) return false;
  Py_DECREF(pkg);
  return true;
}

bool install_bocpy_package() {
  g_package_embedded = true;
  PyObject* sources = PyDict_New();
  if (sources == nullptr) return false;
  for (const EmbeddedSource* s = kPackageSources; s->module != nullptr; ++s) {
    PyObject* entry = Py_BuildValue("(sO)", s->source, s->is_package ? Py_True : Py_False);
    if (entry == nullptr || PyDict_SetItemString(sources, s->module, entry) < 0) {
      Py_XDECREF(entry);
      Py_DECREF(sources);
      return false;
    }
    Py_DECREF(entry);
  }
  PyObject* globals = PyDict_New();
  PyObject* version = PyUnicode_FromString(BOC_BOCPY_VERSION);
  if (version == nullptr) {
    Py_XDECREF(globals);
    Py_DECREF(sources);
    return false;
  }
  const int version_rc = globals != nullptr ? PyDict_SetItemString(globals, "_version", version) : -1;
  Py_DECREF(version);
  if (globals == nullptr || version_rc < 0 || PyDict_SetItemString(globals, "_sources", sources) < 0 ||
      PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
    Py_XDECREF(globals);
    Py_DECREF(sources);
    return false;
  }
  Py_DECREF(sources);
  PyObject* r = PyRun_String(kFinderSource, Py_file_input, globals, globals);
  Py_DECREF(globals);
  if (r == nullptr) return false;
  Py_DECREF(r);
  PyObject* pkg = PyImport_ImportModule("bocpy");
  if (pkg == nullptr) return false;
  Py_DECREF(pkg);
  return true;
}

}  // namespace boc::py
