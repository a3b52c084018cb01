// The demo's embedded CPython: one per process, created on first use, with the `boids_gl`
// module registered (gl_handle_module.h) and `import bocpy` working.
//
// CPython can be initialised only once per process, while the bench creates and destroys
// several Python drivers in a row: the host therefore outlives the drivers. main() calls
// PythonHost::shutdown() after the last driver is gone (an atexit hook is the safety net).
//
// The main thread holds the main interpreter's GIL only inside a Gil scope; between driver
// calls (rendering, ImGui, sleeping) it is released, so the watchdog monitor thread and the
// runtime can enter the main interpreter without waiting for the next frame's Python call.
//
// Everything here runs on the main thread (the thread that created the host).
#pragma once

#include <Python.h>

#include <memory>
#include <string>

#include "embedded_python.h"

namespace boc::demo {

class PythonHost {
 public:
  // The host, created on first call. Throws std::runtime_error if CPython cannot start.
  static PythonHost& instance();
  // True once instance() succeeded and until shutdown().
  static bool alive();
  // Finishes all bocpy work, ends the workers and finalises CPython. Idempotent.
  static void shutdown();

  // Holds the main interpreter's GIL on the calling (main) thread; nests.
  class Gil {
   public:
    Gil();
    ~Gil();
    Gil(const Gil&) = delete;
    Gil& operator=(const Gil&) = delete;
  };

  ~PythonHost();
  PythonHost(const PythonHost&) = delete;
  PythonHost& operator=(const PythonHost&) = delete;

 private:
  PythonHost();

  std::unique_ptr<boc::py::EmbeddedPython> python_;
};

// Fetches and clears the pending Python exception, as text: its one-line summary
// ("ZeroDivisionError: division by zero") and its formatted traceback. GIL held.
struct ExceptionText {
  std::string message;
  std::string traceback;
};
ExceptionText fetch_python_error();

// Imports the script at `path` as a module named after the file's stem, with the script's
// folder on sys.path (so worker interpreters can import it too, which is how they find the
// behaviors' globals). A module of that name loaded from another file is an error. Returns
// a new reference, or nullptr with a Python error set. GIL held.
PyObject* import_script_module(const std::string& path);

// bocpy.wait() (all work finished, runtime torn down), called through a Python frame: wait()
// looks at its caller's frame. Returns its result (new ref) or nullptr with an error. GIL held.
PyObject* bocpy_wait();

// `path` as given if it exists, else relative to the source tree (BOC_SOURCE_DIR), else ""
// (the caller reports both places).
std::string resolve_script_path(const std::string& path);

}  // namespace boc::demo
