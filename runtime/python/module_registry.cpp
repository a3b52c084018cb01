// registry_register(key, blob, module_name, source) / registry_lookup(key):
// direct access to the process-wide code registry of behavior_code.cpp, the
// one bocpy.behaviors.register_behavior fills and Resolver reads. Entries are
// byte copies, so every interpreter gets fresh objects and an entry written
// by a worker outlives it.
#include "module_registry.h"

#include <string>
#include <string_view>

#include "behavior_code.h"
#include "py_ref.h"

namespace boc::py {
namespace {

// The UTF-8 text of str `obj` (argument `what`), or false with TypeError set.
bool str_arg(PyObject* obj, const char* what, std::string_view& out) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %s", what, Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
  if (s == nullptr) return false;
  out = std::string_view(s, static_cast<std::size_t>(n));
  return true;
}

PyObject* unicode_of(const std::string& s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogatepass");
}

PyObject* registry_register(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4) {
    PyErr_Format(PyExc_TypeError, "registry_register(key, blob, module_name, source) takes 4 arguments (%zd given)",
                 nargs);
    return nullptr;
  }
  std::string_view key, module;
  if (!str_arg(args[0], "key", key) || !str_arg(args[2], "module_name", module)) return nullptr;
  if (!PyBytes_Check(args[1])) {
    PyErr_Format(PyExc_TypeError, "blob must be bytes, not %s", Py_TYPE(args[1])->tp_name);
    return nullptr;
  }
  RegistryEntry entry;
  if (args[3] != Py_None) {
    std::string_view source;
    if (!str_arg(args[3], "source", source)) return nullptr;
    entry.source.emplace(source);
  }
  entry.key.assign(key);
  entry.blob.assign(PyBytes_AS_STRING(args[1]), static_cast<std::size_t>(PyBytes_GET_SIZE(args[1])));
  entry.module.assign(module);
  registry_store(std::move(entry));  // keep-first: a second write is a no-op
  return Py_NewRef(args[0]);
}

PyObject* registry_lookup(PyObject*, PyObject* arg) {
  std::string_view key;
  if (!str_arg(arg, "key", key)) return nullptr;
  const RegistryEntry* e = registry_find(key);
  if (e == nullptr) Py_RETURN_NONE;
  PyRef blob(PyBytes_FromStringAndSize(e->blob.data(), static_cast<Py_ssize_t>(e->blob.size())));
  PyRef module(unicode_of(e->module));
  PyRef source(e->source ? unicode_of(*e->source) : Py_NewRef(Py_None));
  if (!blob || !module || !source) return nullptr;
  return PyTuple_Pack(3, blob.get(), module.get(), source.get());
}

PyMethodDef registry_methods[] = {
    {"registry_register", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(registry_register)), METH_FASTCALL,
     "registry_register(key, blob, module_name, source) -> key: store marshalled behavior code under key "
     "(the first write of a key wins)."},
    {"registry_lookup", registry_lookup, METH_O,
     "registry_lookup(key) -> (blob, module_name, source) or None, rebuilt in this interpreter."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_registry_functions(PyObject* module) { return PyModule_AddFunctions(module, registry_methods); }

}  // namespace boc::py
