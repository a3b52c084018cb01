#include "own_gil_interpreter.h"

namespace boc::py {

PyThreadState* new_own_gil_interpreter(std::string& error) {
  // Py_NewInterpreterFromConfig needs *a* current thread state: borrow one of
  // the main interpreter (taking the main GIL briefly).
  PyThreadState* temp = PyThreadState_New(PyInterpreterState_Main());
  PyEval_RestoreThread(temp);
  PyInterpreterConfig config{};
  config.use_main_obmalloc = 0;  // required by OWN_GIL (CPython does not enforce it)
  config.allow_fork = 0;
  config.allow_exec = 0;
  config.allow_threads = 1;
  config.allow_daemon_threads = 0;
  config.check_multi_interp_extensions = 1;
  config.gil = PyInterpreterConfig_OWN_GIL;
  PyThreadState* sub = nullptr;
  const PyStatus status = Py_NewInterpreterFromConfig(&sub, &config);
  if (PyStatus_Exception(status) || sub == nullptr) {
    // On failure the temporary state is current again.
    error = std::string("cannot create a sub-interpreter") +
            (status.err_msg != nullptr ? std::string(": ") + status.err_msg : std::string());
    PyThreadState_Clear(temp);
    PyThreadState_DeleteCurrent();
    return nullptr;
  }
  PyEval_SaveThread();         // drop the new interpreter's GIL
  PyEval_RestoreThread(temp);  // the main GIL, to delete the temporary state
  PyThreadState_Clear(temp);
  PyThreadState_DeleteCurrent();  // releases the main GIL
  PyEval_RestoreThread(sub);
  return sub;
}

}  // namespace boc::py
