#include "behavior_code.h"

#include <marshal.h>

#include <deque>
#include <mutex>

#include "py_compat.h"
#include "py_ref.h"

namespace boc::py {
namespace {

struct CodeEntry {
  std::string marshalled;
  std::string module;  // empty: no importable module
  std::string qualname;
  bool has_free_vars = false;
};

struct CodeRegistry {
  std::mutex mu;
  std::deque<CodeEntry> entries;  // deque: references stay valid as it grows
};

CodeRegistry& registry() {
  static CodeRegistry* r = new CodeRegistry();  // never destroyed: used at exit
  return *r;
}


const CodeEntry* entry_for(std::uint64_t id) {
  CodeRegistry& r = registry();
  std::lock_guard lock(r.mu);
  if (id >= r.entries.size()) return nullptr;
  return &r.entries[id];
}

// The globals a body from `module` sees in the current interpreter (new ref).
PyObject* globals_for(const std::string& module) {
  PyObject* mod = nullptr;
  if (module.empty() || module == "__main__") {
    mod = PyImport_AddModuleRef("__main__");
  } else {
    mod = PyImport_ImportModule(module.c_str());
    if (mod == nullptr) {
      PyObject* cause = PyErr_GetRaisedException();
      PyErr_Format(PyExc_RuntimeError, "cannot resolve behavior globals: module '%s' is not importable here",
                   module.c_str());
      PyObject* err = PyErr_GetRaisedException();
      PyException_SetCause(err, cause);
      PyErr_SetRaisedException(err);
      return nullptr;
    }
  }
  if (mod == nullptr) return nullptr;
  PyObject* dict = PyModule_GetDict(mod);  // borrowed
  Py_XINCREF(dict);
  Py_DECREF(mod);
  return dict;
}

}  // namespace

std::int64_t register_behavior_code(InterpState* state, PyObject* fn) {
  if (!PyFunction_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "a behavior must be a function, got %s", Py_TYPE(fn)->tp_name);
    return -1;
  }
  PyObject* code = PyFunction_GetCode(fn);  // borrowed
  auto it = state->ids_by_code.find(code);
  if (it != state->ids_by_code.end()) return static_cast<std::int64_t>(it->second);

  const int flags = reinterpret_cast<PyCodeObject*>(code)->co_flags;
  if (flags & (CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)) {
    PyErr_Format(PyExc_SyntaxError, "behavior %R is an async function", fn);
    return -1;
  }
  if (flags & CO_GENERATOR) {
    PyErr_Format(PyExc_SyntaxError, "behavior %R is a generator function", fn);
    return -1;
  }
  PyObject* blob = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
  if (blob == nullptr) return -1;
  CodeEntry entry;
  entry.marshalled.assign(PyBytes_AS_STRING(blob), static_cast<std::size_t>(PyBytes_GET_SIZE(blob)));
  Py_DECREF(blob);
  PyObject* module = PyObject_GetAttrString(fn, "__module__");
  if (module == nullptr) PyErr_Clear();
  entry.module = utf8_of(module);
  Py_XDECREF(module);
  entry.qualname = utf8_of(reinterpret_cast<PyCodeObject*>(code)->co_qualname);
  entry.has_free_vars = PyCode_GetNumFree(reinterpret_cast<PyCodeObject*>(code)) > 0;

  std::uint64_t id;
  {
    CodeRegistry& r = registry();
    std::lock_guard lock(r.mu);
    id = r.entries.size();
    r.entries.push_back(std::move(entry));
  }
  state->ids_by_code.emplace(Py_NewRef(code), id);
  // This interpreter already has the function: cache it with its real globals.
  if (state->functions.size() <= id) {
    state->functions.resize(id + 1, nullptr);
    state->codes.resize(id + 1, nullptr);
    state->globals.resize(id + 1, nullptr);
  }
  state->codes[id] = Py_NewRef(code);
  state->globals[id] = Py_NewRef(PyFunction_GetGlobals(fn));
  return static_cast<std::int64_t>(id);
}

PyObject* behavior_function(InterpState* state, std::uint64_t id, PyObject* closure_values) {
  if (state->codes.size() <= id) {
    state->functions.resize(id + 1, nullptr);
    state->codes.resize(id + 1, nullptr);
    state->globals.resize(id + 1, nullptr);
  }
  if (state->codes[id] == nullptr) {
    const CodeEntry* entry = entry_for(id);
    if (entry == nullptr) {
      PyErr_Format(PyExc_RuntimeError, "unknown behavior code id %llu", static_cast<unsigned long long>(id));
      return nullptr;
    }
    PyObject* code = PyMarshal_ReadObjectFromString(entry->marshalled.data(),
                                                    static_cast<Py_ssize_t>(entry->marshalled.size()));
    if (code == nullptr) return nullptr;
    PyObject* globals = globals_for(entry->module);
    if (globals == nullptr) {
      Py_DECREF(code);
      return nullptr;
    }
    state->codes[id] = code;
    state->globals[id] = globals;
  }
  const bool has_free = PyCode_GetNumFree(reinterpret_cast<PyCodeObject*>(state->codes[id])) > 0;
  if (!has_free && state->functions[id] != nullptr) return Py_NewRef(state->functions[id]);

  PyObject* fn = PyFunction_New(state->codes[id], state->globals[id]);
  if (fn == nullptr) return nullptr;
  if (has_free) {
    const Py_ssize_t n = PyCode_GetNumFree(reinterpret_cast<PyCodeObject*>(state->codes[id]));
    if (closure_values == nullptr || !PyTuple_Check(closure_values) || PyTuple_GET_SIZE(closure_values) != n) {
      Py_DECREF(fn);
      PyErr_SetString(PyExc_RuntimeError, "behavior closure snapshot does not match its code");
      return nullptr;
    }
    PyObject* cells = PyTuple_New(n);
    if (cells == nullptr) {
      Py_DECREF(fn);
      return nullptr;
    }
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* cell = PyCell_New(PyTuple_GET_ITEM(closure_values, i));
      if (cell == nullptr) {
        Py_DECREF(cells);
        Py_DECREF(fn);
        return nullptr;
      }
      PyTuple_SET_ITEM(cells, i, cell);
    }
    const int rc = PyFunction_SetClosure(fn, cells);
    Py_DECREF(cells);
    if (rc < 0) {
      Py_DECREF(fn);
      return nullptr;
    }
    return fn;
  }
  state->functions[id] = Py_NewRef(fn);
  return fn;
}

std::string behavior_name(std::uint64_t id) {
  const CodeEntry* e = entry_for(id);
  return e != nullptr ? e->qualname : std::string("<unknown>");
}

}  // namespace boc::py
