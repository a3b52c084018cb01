#include "worker_interpreters.h"

#include <mutex>
#include <vector>

#include "own_gil_interpreter.h"

namespace boc::py {
namespace {

#if PY_VERSION_HEX >= 0x030D0000
constexpr bool kPoolInterpreters = true;
#else
constexpr bool kPoolInterpreters = false;
#endif

struct Parked {
  std::mutex mu;
  std::vector<PyInterpreterState*> interps;
};

Parked& parked() {
  static Parked* p = new Parked();  // never destroyed: used at exit
  return *p;
}

}  // namespace

PyThreadState* acquire_worker_interpreter(std::string& error) {
  PyInterpreterState* interp = nullptr;
  {
    std::lock_guard lock(parked().mu);
    if (!parked().interps.empty()) {
      interp = parked().interps.back();
      parked().interps.pop_back();
    }
  }
  if (interp == nullptr) return new_own_gil_interpreter(error);
  PyThreadState* ts = PyThreadState_New(interp);
  if (ts == nullptr) {
    error = "cannot create a thread state for a parked interpreter";
    std::lock_guard lock(parked().mu);
    parked().interps.push_back(interp);
    return nullptr;
  }
  PyEval_RestoreThread(ts);  // the interpreter's own GIL
  return ts;
}

void release_worker_interpreter(PyThreadState* ts) {
  if (!kPoolInterpreters) {
    Py_EndInterpreter(ts);  // on its own thread, last tstate of the interpreter
    return;
  }
  PyInterpreterState* interp = PyThreadState_GetInterpreter(ts);
  PyThreadState_Clear(ts);
  PyThreadState_DeleteCurrent();  // releases the interpreter's GIL
  std::lock_guard lock(parked().mu);
  parked().interps.push_back(interp);
}

void end_parked_interpreters() {
  std::vector<PyInterpreterState*> interps;
  {
    std::lock_guard lock(parked().mu);
    interps.swap(parked().interps);
  }
  if (interps.empty()) return;
  PyThreadState* main_ts = PyEval_SaveThread();
  for (PyInterpreterState* interp : interps) {
    PyThreadState* ts = PyThreadState_New(interp);
    if (ts == nullptr) continue;
    PyEval_RestoreThread(ts);
    Py_EndInterpreter(ts);  // leaves no thread state current
  }
  PyEval_RestoreThread(main_ts);
}

std::size_t parked_interpreter_count() {
  std::lock_guard lock(parked().mu);
  return parked().interps.size();
}

}  // namespace boc::py
