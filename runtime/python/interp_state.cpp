#include "interp_state.h"

#include <mutex>

#include "py_compat.h"

namespace boc::py {
namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<PyInterpreterState*, InterpState*> by_interp;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: used during finalisation
  return *r;
}

// One interpreter per worker thread; the main thread mostly sees main.
thread_local PyInterpreterState* tl_interp = nullptr;
thread_local InterpState* tl_state = nullptr;

}  // namespace

InterpState* current_state() noexcept {
  PyInterpreterState* interp = PyInterpreterState_Get();
  if (interp == tl_interp && tl_state != nullptr) return tl_state;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_interp.find(interp);
  if (it == r.by_interp.end()) return nullptr;
  tl_interp = interp;
  tl_state = it->second;
  return it->second;
}

void register_state(InterpState* state) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.by_interp[PyInterpreterState_Get()] = state;
  tl_interp = nullptr;
  tl_state = nullptr;
}

void unregister_state(InterpState* state) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (auto it = r.by_interp.begin(); it != r.by_interp.end(); ++it) {
    if (it->second == state) {
      r.by_interp.erase(it);
      break;
    }
  }
  if (tl_state == state) {
    tl_interp = nullptr;
    tl_state = nullptr;
  }
}

void clear_state_caches(InterpState* state) {
  for (PyObject*& o : state->functions) Py_CLEAR(o);
  for (PyObject*& o : state->codes) Py_CLEAR(o);
  for (PyObject*& o : state->globals) Py_CLEAR(o);
  state->functions.clear();
  state->codes.clear();
  state->globals.clear();
  for (auto& [code, id] : state->ids_by_code) Py_DECREF(code);
  state->ids_by_code.clear();
  if (state->kept) state->kept->clear();
}

}  // namespace boc::py
