// Plain user-class instances (plain_class.h): the class checks, the class
// lookup on the decoding side and the state restore, each mirroring what
// CPython's _pickle does for such an instance (Modules/_pickle.c save /
// save_reduce / load_newobj / load_build, Objects/typeobject.c
// reduce_newobj / object_getstate_default).
#include "plain_class.h"

#include <cstdint>

#include "pickle_fallback.h"

namespace boc::py::detail {
namespace {

// The pickling hooks pickle looks up on the class. A plain class inherits
// object's (or has none, for the last three).
constexpr const char* kHookNames[] = {"__reduce_ex__", "__reduce__",        "__getstate__",
                                      "__setstate__",  "__getnewargs_ex__", "__getnewargs__"};
constexpr int kObjectHooks = 3;  // the first three exist on object itself

bool compute_plain(PyTypeObject* t) {
  if (Py_TYPE(t) != &PyType_Type) return false;  // a metaclass may change anything
  const unsigned long flags = t->tp_flags;
  if (!(flags & Py_TPFLAGS_HEAPTYPE) || !(flags & Py_TPFLAGS_MANAGED_DICT)) return false;
  // Object-sized: no __slots__ and no builtin base carrying data of its own.
  if (t->tp_basicsize != PyBaseObject_Type.tp_basicsize || t->tp_itemsize != 0) return false;
  if (t->tp_new != PyBaseObject_Type.tp_new) return false;
  // pickle reads __reduce_ex__ & co. through getattr: no interception.
  if (t->tp_getattro != PyObject_GenericGetAttr) return false;
  // Every base but object is Python code (a C base could reduce by itself).
  PyObject* mro = t->tp_mro;
  if (mro == nullptr || !PyTuple_Check(mro)) return false;
  const Py_ssize_t n = PyTuple_GET_SIZE(mro);
  for (Py_ssize_t i = 0; i < n; ++i) {
    auto* base = reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(mro, i));
    if (base == &PyBaseObject_Type) continue;
    if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE) || Py_TYPE(base) != &PyType_Type) return false;
  }
  PyObject* saved = PyErr_GetRaisedException();
  bool plain = true;
  for (int i = 0; plain && i < static_cast<int>(std::size(kHookNames)); ++i) {
    PyObject* name = PyUnicode_InternFromString(kHookNames[i]);
    if (name == nullptr) {
      plain = false;
      break;
    }
    PyObject* mine = _PyType_Lookup(t, name);  // borrowed, may be nullptr
    PyObject* objects = i < kObjectHooks ? _PyType_Lookup(&PyBaseObject_Type, name) : nullptr;
    plain = mine == objects;
    Py_DECREF(name);
  }
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
  return plain;
}

// Per-thread verdicts by (interpreter, type, version tag). CPython gives a
// type a new version tag whenever it or a base is modified (PyType_Modified),
// and tags are never reused within an interpreter, so a hit is still true.
struct VerdictCache {
  struct Entry {
    PyInterpreterState* interp = nullptr;
    PyTypeObject* type = nullptr;
    unsigned int tag = 0;
    bool plain = false;
  };
  static constexpr std::size_t kSize = 32;  // a power of two
  Entry entries[kSize];
};
thread_local VerdictCache t_verdicts;

}  // namespace

bool plain_class(PyTypeObject* t) noexcept {
  if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) return false;  // the common miss, without the cache
  if (t->tp_version_tag == 0) PyUnstable_Type_AssignVersionTag(t);
  const unsigned int tag = t->tp_version_tag;
  PyInterpreterState* interp = PyInterpreterState_Get();
  const std::size_t slot = type_slot(t, VerdictCache::kSize);
  VerdictCache::Entry& e = t_verdicts.entries[slot];
  if (tag != 0 && e.tag == tag && e.type == t && e.interp == interp) return e.plain;
  const bool plain = compute_plain(t);
  if (tag != 0 && t->tp_version_tag == tag) e = VerdictCache::Entry{interp, t, tag, plain};
  return plain;
}

int in_dispatch_table(PyTypeObject* t) {
  PyObject* table = pickle_dispatch_table();
  if (table == nullptr) return -1;
  const int r = PyDict_Check(table) ? PyDict_Contains(table, reinterpret_cast<PyObject*>(t))
                                    : PySequence_Contains(table, reinterpret_cast<PyObject*>(t));
  Py_DECREF(table);
  return r;
}

PyObject* class_module(PyTypeObject* t, PyObject* key) noexcept {
  PyObject* dict = t->tp_dict;  // heap types keep their own dict here
  if (dict == nullptr || !PyDict_CheckExact(dict)) return nullptr;
  // An exact dict and an exact str key: the lookup runs no Python code and
  // cannot fail, so no error needs saving around it.
  PyObject* module = PyDict_GetItemWithError(dict, key);  // borrowed
  if (module == nullptr) {
    PyErr_Clear();
    return nullptr;
  }
  return PyUnicode_CheckExact(module) ? module : nullptr;
}

namespace {

// getattr along a dotted qualname, as pickle's _getattribute (no "<locals>").
// New reference or nullptr (error set).
PyObject* resolve_qualname(PyObject* module, PyObject* qualname) {
  Py_ssize_t len = 0;
  const char* q = PyUnicode_AsUTF8AndSize(qualname, &len);
  if (q == nullptr) return nullptr;
  const std::string_view whole(q, static_cast<std::size_t>(len));
  if (whole.find('<') != std::string_view::npos) {
    PyErr_SetString(PyExc_AttributeError, "local class");
    return nullptr;
  }
  if (whole.find('.') == std::string_view::npos) {
    // A plain module and a name that is no dunder: ModuleType's getattr finds
    // no descriptor of the type for it and looks in the module dict first.
    if (PyModule_CheckExact(module) && !(len >= 2 && q[0] == '_' && q[1] == '_')) {
      PyObject* dict = PyModule_GetDict(module);  // borrowed
      PyObject* found = dict != nullptr ? PyDict_GetItemWithError(dict, qualname) : nullptr;
      if (found != nullptr) return Py_NewRef(found);
      if (PyErr_Occurred()) return nullptr;
    }
    return PyObject_GetAttr(module, qualname);
  }
  PyObject* cur = Py_NewRef(module);
  std::size_t start = 0;
  while (cur != nullptr && start <= whole.size()) {
    std::size_t dot = whole.find('.', start);
    if (dot == std::string_view::npos) dot = whole.size();
    PyObject* part = PyUnicode_FromStringAndSize(q + start, static_cast<Py_ssize_t>(dot - start));
    PyObject* next = part != nullptr ? PyObject_GetAttr(cur, part) : nullptr;
    Py_XDECREF(part);
    Py_DECREF(cur);
    cur = next;
    start = dot + 1;
  }
  return cur;
}

// sys.modules[name] (new reference) without importing, nullptr (no error) if absent.
PyObject* loaded_module(PyObject* name) {
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  if (modules == nullptr) return nullptr;
  PyObject* m = PyDict_GetItemWithError(modules, name);  // borrowed
  if (m == nullptr) PyErr_Clear();
  return Py_XNewRef(m);
}

}  // namespace

bool class_findable(PyTypeObject* t, PyObject* module_name) {
  PyObject* qualname = reinterpret_cast<PyHeapTypeObject*>(t)->ht_qualname;
  if (qualname == nullptr || !PyUnicode_CheckExact(qualname)) return false;
  PyObject* module = loaded_module(module_name);
  if (module == nullptr) return false;
  PyObject* saved = PyErr_GetRaisedException();
  PyObject* found = resolve_qualname(module, qualname);
  Py_DECREF(module);
  const bool same = found == reinterpret_cast<PyObject*>(t);
  Py_XDECREF(found);
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
  return same;
}

PyObject* find_class(PyObject* mod_name, PyObject* qual) {
  // Fast path: the module is loaded and holds the class.
  PyObject* cls = nullptr;
  if (PyObject* m = loaded_module(mod_name)) {
    cls = resolve_qualname(m, qual);
    Py_DECREF(m);
    if (cls != nullptr && !PyType_Check(cls)) Py_CLEAR(cls);
    if (cls == nullptr) PyErr_Clear();
  }
  // Otherwise the unpickler's own lookup: it imports, and it raises what
  // unpickling would raise.
  if (cls == nullptr) cls = pickle_find_class(mod_name, qual);
  if (cls != nullptr && !PyType_Check(cls)) {
    PyErr_Format(PyExc_TypeError, "parcel: %U.%U is not a class on this interpreter", mod_name, qual);
    Py_CLEAR(cls);
  }
  return cls;
}

PyObject* build_instance(PyObject* cls, PyObject* const* names, PyObject* const* values, Py_ssize_t n) {
  auto* t = reinterpret_cast<PyTypeObject*>(cls);
  if (t->tp_new == nullptr) {
    PyErr_Format(PyExc_TypeError, "cannot create '%.200s' instances", t->tp_name);
    return nullptr;
  }
  // pickle's NEWOBJ: cls.__new__(cls) with no arguments.
  PyObject* empty = PyTuple_New(0);
  if (empty == nullptr) return nullptr;
  PyObject* inst = t->tp_new(t, empty, nullptr);
  Py_DECREF(empty);
  if (inst == nullptr || n == 0) return inst;  // an empty state is no BUILD at all
  // pickle's BUILD with a dict state: setattr-free stores into __dict__.
  // When the class here is plain with the generic __setattr__, a store through
  // PyObject_GenericSetAttr is that same store unless a data descriptor of
  // the name sits on the class (it would run its setter).
  const bool direct = plain_class(Py_TYPE(inst)) && Py_TYPE(inst)->tp_setattro == PyObject_GenericSetAttr;
  PyObject* dict = nullptr;
  if (!direct) {
    // The general BUILD: __setstate__(state) if there is one.
    PyObject* setstate = nullptr;
    PyObject* name = PyUnicode_InternFromString("__setstate__");
#if PY_VERSION_HEX >= 0x030D0000
    const int has = name != nullptr ? PyObject_GetOptionalAttr(inst, name, &setstate) : -1;
#else
    const int has = name != nullptr ? _PyObject_LookupAttr(inst, name, &setstate) : -1;
#endif
    Py_XDECREF(name);
    if (has < 0) {
      Py_DECREF(inst);
      return nullptr;
    }
    if (has > 0) {
      PyObject* state = PyDict_New();
      bool ok = state != nullptr;
      for (Py_ssize_t i = 0; ok && i < n; ++i) ok = PyDict_SetItem(state, names[i], values[i]) == 0;
      PyObject* r = ok ? PyObject_CallOneArg(setstate, state) : nullptr;
      Py_XDECREF(state);
      Py_DECREF(setstate);
      if (r == nullptr) {
        Py_DECREF(inst);
        return nullptr;
      }
      Py_DECREF(r);
      return inst;
    }
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* name = Py_NewRef(names[i]);
    PyUnicode_InternInPlace(&name);  // as pickle does for state keys
    int rc = 0;
    PyObject* descr = direct ? _PyType_Lookup(Py_TYPE(inst), name) : nullptr;
    if (direct && (descr == nullptr || Py_TYPE(descr)->tp_descr_set == nullptr)) {
      rc = PyObject_GenericSetAttr(inst, name, values[i]);
    } else {
      if (dict == nullptr) {
        PyObject* dname = PyUnicode_InternFromString("__dict__");
        dict = dname != nullptr ? PyObject_GetAttr(inst, dname) : nullptr;
        Py_XDECREF(dname);
      }
      rc = dict != nullptr ? PyObject_SetItem(dict, name, values[i]) : -1;
    }
    Py_DECREF(name);
    if (rc < 0) {
      Py_XDECREF(dict);
      Py_DECREF(inst);
      return nullptr;
    }
  }
  Py_XDECREF(dict);
  return inst;
}

}  // namespace boc::py::detail
