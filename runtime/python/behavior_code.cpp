#include "behavior_code.h"

#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "py_ref.h"

namespace boc::py {
namespace {

struct KeyHash {
  using is_transparent = void;  // find() by string_view without a copy
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct CodeRegistry {
  std::mutex mu;
  std::deque<RegistryEntry> entries;  // deque: references stay valid as it grows
  std::unordered_map<std::string, std::uint64_t, KeyHash, std::equal_to<>> by_key;
};

CodeRegistry& registry() {
  static CodeRegistry* r = new CodeRegistry();  // never destroyed: used at exit
  return *r;
}

const RegistryEntry* entry_at(std::uint64_t id) {
  CodeRegistry& r = registry();
  std::lock_guard lock(r.mu);
  return id < r.entries.size() ? &r.entries[id] : nullptr;
}

void ensure_slot(InterpState* state, std::uint64_t id) {
  if (state->codes.size() > id) return;
  state->functions.resize(id + 1, nullptr);
  state->codes.resize(id + 1, nullptr);
  state->globals.resize(id + 1, nullptr);
}

// Calls bocpy.behaviors.<name>(arg): the one implementation of registration
// and resolution (runtime/python/bocpy/behaviors.py). New reference.
PyObject* call_behaviors(const char* name, PyObject* arg) {
  PyRef behaviors(PyImport_ImportModule("bocpy.behaviors"));
  if (!behaviors) return nullptr;
  return PyObject_CallMethod(behaviors.get(), name, "O", arg);
}

}  // namespace

std::uint64_t registry_store(RegistryEntry entry) {
  CodeRegistry& r = registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.by_key.find(std::string_view(entry.key)); it != r.by_key.end()) return it->second;
  const std::uint64_t id = r.entries.size();
  r.by_key.emplace(entry.key, id);
  r.entries.push_back(std::move(entry));
  return id;
}

const RegistryEntry* registry_entry(std::uint64_t index) { return entry_at(index); }

const RegistryEntry* registry_find(std::string_view key, std::uint64_t* index) {
  CodeRegistry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_key.find(key);
  if (it == r.by_key.end()) return nullptr;
  if (index != nullptr) *index = it->second;
  return &r.entries[it->second];
}

std::int64_t register_behavior_code(InterpState* state, PyObject* fn) {
  if (!PyFunction_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "a behavior must be a function, got %s", Py_TYPE(fn)->tp_name);
    return -1;
  }
  PyObject* code = PyFunction_GetCode(fn);        // borrowed
  PyObject* globals = PyFunction_GetGlobals(fn);  // borrowed
  // Fast path, every schedule after the first: this code object with these
  // globals is registered already. (Other globals may mean another module,
  // hence another key: ask register_behavior again.)
  auto it = state->ids_by_code.find(code);
  if (it != state->ids_by_code.end() && state->globals[it->second] == globals) {
    return static_cast<std::int64_t>(it->second);
  }
  PyRef key(call_behaviors("register_behavior", fn));
  if (!key) return -1;
  Py_ssize_t n = 0;
  const char* k = PyUnicode_Check(key.get()) ? PyUnicode_AsUTF8AndSize(key.get(), &n) : nullptr;
  if (k == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "register_behavior() must return a str key");
    return -1;
  }
  std::uint64_t id = 0;
  if (registry_find(std::string_view(k, static_cast<std::size_t>(n)), &id) == nullptr) {
    PyErr_Format(PyExc_RuntimeError, "behavior key %R is not in the code registry", key.get());
    return -1;
  }
  ensure_slot(state, id);
  if (state->codes[id] == nullptr) {
    // This interpreter already has the function: cache it with its real globals.
    state->codes[id] = Py_NewRef(code);
    state->globals[id] = Py_NewRef(globals);
  }
  if (it == state->ids_by_code.end()) state->ids_by_code.emplace(Py_NewRef(code), id);
  return static_cast<std::int64_t>(id);
}

PyObject* behavior_function(InterpState* state, std::uint64_t id, PyObject* closure_values) {
  ensure_slot(state, id);
  if (state->codes[id] == nullptr) {
    const RegistryEntry* entry = entry_at(id);
    if (entry == nullptr) {
      PyErr_Format(PyExc_RuntimeError, "unknown behavior code id %llu", static_cast<unsigned long long>(id));
      return nullptr;
    }
    PyRef key(PyUnicode_FromStringAndSize(entry->key.data(), static_cast<Py_ssize_t>(entry->key.size())));
    if (!key) return nullptr;
    PyRef resolved(call_behaviors("_resolve_behavior", key.get()));
    if (!resolved) return nullptr;
    if (!PyFunction_Check(resolved.get())) {
      PyErr_SetString(PyExc_TypeError, "Resolver returned a non-function");
      return nullptr;
    }
    state->codes[id] = Py_NewRef(PyFunction_GetCode(resolved.get()));
    state->globals[id] = Py_NewRef(PyFunction_GetGlobals(resolved.get()));
  }
  auto* code = reinterpret_cast<PyCodeObject*>(state->codes[id]);
  const Py_ssize_t n_free = PyCode_GetNumFree(code);
  if (n_free == 0 && state->functions[id] != nullptr) return Py_NewRef(state->functions[id]);

  PyRef fn(PyFunction_New(state->codes[id], state->globals[id]));
  if (!fn) return nullptr;
  if (n_free == 0) {
    state->functions[id] = Py_NewRef(fn.get());
    return fn.release();
  }
  // Free variables: fresh cells over this schedule's snapshot of them.
  if (closure_values == nullptr || !PyTuple_Check(closure_values) || PyTuple_GET_SIZE(closure_values) != n_free) {
    PyErr_SetString(PyExc_RuntimeError, "behavior closure snapshot does not match its code");
    return nullptr;
  }
  PyRef cells(PyTuple_New(n_free));
  if (!cells) return nullptr;
  for (Py_ssize_t i = 0; i < n_free; ++i) {
    PyObject* cell = PyCell_New(PyTuple_GET_ITEM(closure_values, i));
    if (cell == nullptr) return nullptr;
    PyTuple_SET_ITEM(cells.get(), i, cell);
  }
  if (PyFunction_SetClosure(fn.get(), cells.get()) < 0) return nullptr;
  return fn.release();
}

}  // namespace boc::py
