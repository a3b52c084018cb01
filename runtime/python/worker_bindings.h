// A worker's `__main__`: the application script reduced to its imports,
// definitions and simple assignments (bocpy's "bindings"), so behaviors
// defined in the script find their globals and pickled `__main__` classes
// resolve, without running the script's main block in every worker.
#pragma once

#include <string>

namespace boc::py {

/// Worker interpreter, GIL held, bocpy imported, sys.path set: executes
/// `source` as this interpreter's `module_name` -- `__main__`, or a module
/// workers cannot import by name (bocpy/transpiler.py install_worker_main);
/// scheduling is refused meanwhile. Errors in the
/// source are reported, not fatal. False with a Python error only if the
/// module itself cannot be set up.
bool load_worker_bindings(const std::string& source, const std::string& main_file, const std::string& module_name);

}  // namespace boc::py
