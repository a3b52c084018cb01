// An embedded CPython whose `import bocpy` is this runtime: initialisation,
// running a script / module / command the way `python` does, and the strict
// shutdown order (all bocpy work finished and worker interpreters ended
// before Py_FinalizeEx; CPython aborts or crashes otherwise).
#pragma once

#include <Python.h>

#include <string>
#include <utility>
#include <vector>

namespace boc::py {

/// `python`'s exit status when Py_FinalizeEx failed to flush buffered data.
inline constexpr int kFinalizeFailedExitStatus = 120;

struct EmbedOptions {
  /// sys.argv as the program should see it. run_* replaces argv[0] with the
  /// script path, "-m" (runpy then puts the module's file there) or "-c".
  /// Empty means sys.argv = [argv0].
  std::vector<std::string> argv;
  /// Let CPython install its SIGINT handler (KeyboardInterrupt in main).
  bool install_signal_handlers = true;
  /// sys.executable as the program should see it (empty: the CPython it was
  /// built against, which also locates the standard library).
  std::string sys_executable;
  /// Extra built-in modules (name, PyInit function) a host adds, e.g. the
  /// demo's GL handle type. Registered before bocpy's own.
  std::vector<std::pair<std::string, PyObject* (*)()>> extra_builtin_modules;
};

/// One process-wide embedded interpreter. Constructing it initialises CPython
/// (throws std::runtime_error on failure); destroying it finishes all bocpy
/// work, ends the workers and finalises CPython. At most one may exist at a
/// time. Every method must be called from the thread that constructed it.
class EmbeddedPython {
 public:
  explicit EmbeddedPython(const EmbedOptions& options);
  ~EmbeddedPython();
  EmbeddedPython(const EmbeddedPython&) = delete;
  EmbeddedPython& operator=(const EmbeddedPython&) = delete;

  /// `python path [args]`: a source file, or a directory / zip file holding
  /// `__main__.py`. Returns the process exit status the program asked for.
  int run_file(const std::string& path);
  /// `python -m name [args]`.
  int run_module(const std::string& name);
  /// `python -c code [args]`.
  int run_code(const std::string& code);
  /// `python - [args]`: the program is read from standard input.
  int run_stdin();

  /// Finishes bocpy work and finalises CPython now. Returns Py_FinalizeEx's
  /// status (0, or -1 if flushing buffered data failed). Idempotent; the
  /// destructor calls it when it has not been called.
  int finalize();

 private:
  /// Executes `source` (str or bytes) compiled as `filename` in __main__.
  int run_source(PyObject* source, const char* filename);
  /// After user code: maps a pending exception to an exit status (printing
  /// it as `python` would), then shuts the bocpy runtime down.
  int finish(bool ok);

  std::vector<std::string> argv_;
  bool finalized_ = false;
};

}  // namespace boc::py
