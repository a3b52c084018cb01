// Pickle fallback. The per-interpreter helper objects (pickle functions, the
// Pickler/Unpickler subclasses, the persistent-id functions) live in the
// interpreter's own state dict, never in C++ statics: every interpreter has
// its own objects. The C++ side of an ongoing (un)pickle is reached through a
// thread-local context, saved and restored around each call so nested
// encodes (a __reduce__ that encodes) stay correct.
#include "pickle_fallback.h"

#include <exception>
#include <new>

#include "handle_hooks.h"

namespace boc::py::detail {
namespace {

constexpr Py_UCS4 kStateKey = 0xB6;  // U+00B6, see helpers()

// Compiled once in every interpreter that needs the fallback.
constexpr const char* kHelperSource = R"PY(
import io as _io
import pickle as _pickle

class Pickler(_pickle.Pickler):
    pass

class Unpickler(_pickle.Unpickler):
    pass

def new_pickler(pid, _P=Pickler, _B=_io.BytesIO):
    f = _B()
    p = _P(f, 5)
    p.persistent_id = pid
    return (p, f)

def dump_with(obj, p, f):
    try:
        p.dump(obj)
        return f.getvalue()
    finally:
        # Drop the memo's references to obj's parts and the output at once.
        p.clear_memo()
        f.seek(0)
        f.truncate()

def loads(data, pload, _U=Unpickler, _B=_io.BytesIO):
    u = _U(_B(data))
    u.persistent_load = pload
    return u.load()

# A Python frame of its own, as loads() has: a reducer that needs the caller's
# frame (eval/exec/globals() without arguments) works when decoding from C++.
def plain_loads(data, _L=_pickle.loads):
    return _L(data)

def find_class(module, name, _U=Unpickler, _B=_io.BytesIO):
    return _U(_B(b'')).find_class(module, name)

import copyreg as _copyreg
dispatch_table = _copyreg.dispatch_table  # the dict _pickle itself consults
)PY";

// Slots of the helper tuple stored under kStateKey. kSpare is a one-element
// list holding an idle (pickler, file) pair, or None while it is in use (a
// nested or concurrent encode in the same interpreter then builds its own).
enum Slot : Py_ssize_t {
  kNewPickler,
  kDumpWith,
  kLoads,
  kPlainLoads,
  kPersistentId,
  kPersistentLoad,
  kSpare,
  kFindClass,
  kDispatchTable,
  kSlotCount
};

// What persistent_id / persistent_load of the ongoing (un)pickle on this
// thread fill or read.
struct EncodeTables {
  ParcelCowns* cowns;
  XIDataTaker* xidata;
};
struct DecodeTables {
  const ParcelCowns* cowns;
  XIDataMemo* xidata;
};
thread_local EncodeTables* t_encode = nullptr;
thread_local DecodeTables* t_decode = nullptr;

template <class T>
class ScopedContext {
 public:
  ScopedContext(T*& slot, T* value) noexcept : slot_(slot), saved_(slot) { slot_ = value; }
  ~ScopedContext() { slot_ = saved_; }
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  T*& slot_;
  T* saved_;
};

bool is_plain_builtin(PyTypeObject* t) noexcept {
  return t == &PyLong_Type || t == &PyFloat_Type || t == &PyUnicode_Type || t == &PyBytes_Type || t == &PyTuple_Type ||
         t == &PyList_Type || t == &PyDict_Type || t == &PyBool_Type || t == Py_TYPE(Py_None) || t == &PyType_Type ||
         t == &PySet_Type || t == &PyFrozenSet_Type || t == &PyByteArray_Type || t == &PyComplex_Type;
}

// Pickler.persistent_id: a cown handle becomes the index of its table entry,
// a registered-type object -1 - its XIData table index.
PyObject* persistent_id(PyObject*, PyObject* obj) {
  if (is_plain_builtin(Py_TYPE(obj))) Py_RETURN_NONE;
  EncodeTables* tables = t_encode;
  if (!tables) Py_RETURN_NONE;
  try {
    CownRef ref = unwrap_handle(obj);
    if (ref) {
      tables->cowns->push_back(std::move(ref));
      return PyLong_FromSize_t(tables->cowns->size() - 1);
    }
    if (PyErr_Occurred()) return nullptr;
    if (!xidata_registered(obj)) Py_RETURN_NONE;
    const std::size_t index = tables->xidata->note(obj);
    return PyLong_FromLongLong(-1 - static_cast<long long>(index));
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

// Unpickler.persistent_load: a table index becomes a fresh handle, or the
// object built from an XIData slot.
PyObject* persistent_load(PyObject*, PyObject* pid) {
  const DecodeTables* tables = t_decode;
  if (tables && PyLong_CheckExact(pid)) {
    const long long index = PyLong_AsLongLong(pid);
    if (index == -1 && PyErr_Occurred()) return nullptr;
    if (index < 0) return tables->xidata->get(static_cast<std::uint64_t>(-1 - index));
    if (static_cast<unsigned long long>(index) < tables->cowns->size()) {
      return wrap_handle((*tables->cowns)[static_cast<std::size_t>(index)]);
    }
  }
  PyErr_SetString(PyExc_ValueError, "parcel: invalid persistent id in pickled value");
  return nullptr;
}

PyMethodDef kPersistentIdDef = {"persistent_id", persistent_id, METH_O, nullptr};
PyMethodDef kPersistentLoadDef = {"persistent_load", persistent_load, METH_O, nullptr};

PyObject* build_helpers() {
  PyObject* globals = PyDict_New();
  if (!globals) return nullptr;
  PyObject* builtins = PyImport_ImportModule("builtins");
  if (!builtins || PyDict_SetItemString(globals, "__builtins__", builtins) < 0) {
    Py_XDECREF(builtins);
    Py_DECREF(globals);
    return nullptr;
  }
  Py_DECREF(builtins);
  // Compile + eval, not PyRun_String: that one also resets the interpreter's
  // "program ended with KeyboardInterrupt" flag, and this can first run
  // during exit, turning python's SIGINT exit status into 1.
  PyObject* code = Py_CompileString(kHelperSource, "<bocpy pickle helpers>", Py_file_input);
  PyObject* run = code != nullptr ? PyEval_EvalCode(code, globals, globals) : nullptr;
  Py_XDECREF(code);
  if (!run) {
    Py_DECREF(globals);
    return nullptr;
  }
  Py_DECREF(run);
  PyObject* tuple = PyTuple_New(kSlotCount);
  if (!tuple) {
    Py_DECREF(globals);
    return nullptr;
  }
  const char* names[] = {"new_pickler", "dump_with", "loads", "plain_loads"};
  for (Py_ssize_t i = 0; i < 4; ++i) {
    PyObject* fn = PyDict_GetItemString(globals, names[i]);  // borrowed
    PyTuple_SET_ITEM(tuple, i, Py_NewRef(fn));
  }
  PyObject* pid = PyCFunction_New(&kPersistentIdDef, nullptr);
  if (!pid) {
    Py_DECREF(globals);
    Py_DECREF(tuple);
    return nullptr;
  }
  PyTuple_SET_ITEM(tuple, kPersistentId, pid);
  PyObject* pload = PyCFunction_New(&kPersistentLoadDef, nullptr);
  if (!pload) {
    Py_DECREF(globals);
    Py_DECREF(tuple);
    return nullptr;
  }
  PyTuple_SET_ITEM(tuple, kPersistentLoad, pload);
  PyObject* spare = PyList_New(1);
  if (!spare) {
    Py_DECREF(globals);
    Py_DECREF(tuple);
    return nullptr;
  }
  PyList_SET_ITEM(spare, 0, Py_NewRef(Py_None));
  PyTuple_SET_ITEM(tuple, kSpare, spare);
  PyTuple_SET_ITEM(tuple, kFindClass, Py_NewRef(PyDict_GetItemString(globals, "find_class")));
  PyTuple_SET_ITEM(tuple, kDispatchTable, Py_NewRef(PyDict_GetItemString(globals, "dispatch_table")));
  Py_DECREF(globals);
  return tuple;
}

// The helper tuple of the current interpreter (new reference). Its key in the
// interpreter's state dict is a one-character Latin-1 str, an immortal
// singleton shared by all interpreters: the lookup (once per pickle and per
// plain-instance encode) allocates nothing (same trick as matrix_transport.cpp).
PyObject* helpers() {
  PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get());
  if (!state) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "parcel: interpreter has no state dict");
    return nullptr;
  }
  PyObject* key = PyUnicode_FromOrdinal(kStateKey);
  if (!key) return nullptr;
  PyObject* found = PyDict_GetItemWithError(state, key);  // borrowed
  if (found || PyErr_Occurred()) {
    Py_DECREF(key);
    return Py_XNewRef(found);
  }
  PyObject* built = build_helpers();
  if (!built || PyDict_SetItem(state, key, built) < 0) {
    Py_DECREF(key);
    Py_XDECREF(built);
    return nullptr;
  }
  Py_DECREF(key);
  return built;
}

}  // namespace

bool pickle_encode(PyObject* obj, ParcelWriter& w, XIDataTaker& xidata) {
  PyObject* h = helpers();
  if (!h) return false;
  // Take the interpreter's idle pickler (no Python code runs between the
  // check and the take, so this is atomic under the GIL), or build one.
  PyObject* spare = PyTuple_GET_ITEM(h, kSpare);
  PyObject* pair = PyList_GET_ITEM(spare, 0);
  if (pair != Py_None) {
    PyList_SET_ITEM(spare, 0, Py_NewRef(Py_None));  // we now own pair's reference
  } else {
    pair = PyObject_CallOneArg(PyTuple_GET_ITEM(h, kNewPickler), PyTuple_GET_ITEM(h, kPersistentId));
    if (!pair) {
      Py_DECREF(h);
      return false;
    }
  }
  PyObject* data;
  {
    EncodeTables tables{&w.cowns(), &xidata};
    ScopedContext<EncodeTables> ctx(t_encode, &tables);
    data = PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(h, kDumpWith), obj, PyTuple_GET_ITEM(pair, 0),
                                        PyTuple_GET_ITEM(pair, 1), nullptr);
  }
  if (PyList_GET_ITEM(spare, 0) == Py_None) {
    PyList_SET_ITEM(spare, 0, pair);  // give it back (steals our reference)
    Py_DECREF(Py_None);
  } else {
    Py_DECREF(pair);
  }
  Py_DECREF(h);
  if (!data) return false;
  if (!PyBytes_CheckExact(data)) {
    Py_DECREF(data);
    PyErr_SetString(PyExc_TypeError, "parcel: pickler did not produce bytes");
    return false;
  }
  auto size = static_cast<std::size_t>(PyBytes_GET_SIZE(data));
  try {
    w.put_tag_varint(kPickle, size);
    w.put_raw(PyBytes_AS_STRING(data), size);
  } catch (const std::bad_alloc&) {
    Py_DECREF(data);
    PyErr_NoMemory();
    return false;
  }
  Py_DECREF(data);
  return true;
}

PyObject* pickle_find_class(PyObject* module, PyObject* name) {
  PyObject* h = helpers();
  if (!h) return nullptr;
  PyObject* cls = PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(h, kFindClass), module, name, nullptr);
  Py_DECREF(h);
  return cls;
}

PyObject* pickle_dispatch_table() {
  PyObject* h = helpers();
  if (!h) return nullptr;
  PyObject* table = Py_NewRef(PyTuple_GET_ITEM(h, kDispatchTable));
  Py_DECREF(h);
  return table;
}

PyObject* pickle_decode(const std::byte* data, std::size_t size, const ParcelCowns& cowns, XIDataMemo& xidata) {
  PyObject* h = helpers();
  if (!h) return nullptr;
  // The memoryview borrows the parcel's bytes for the duration of the call;
  // the unpickler copies everything it keeps. Released explicitly below so it
  // can never outlive the parcel.
  PyObject* view = PyMemoryView_FromMemory(const_cast<char*>(reinterpret_cast<const char*>(data)),
                                           static_cast<Py_ssize_t>(size), PyBUF_READ);
  if (!view) {
    Py_DECREF(h);
    return nullptr;
  }
  PyObject* result;
  if (cowns.empty() && xidata.empty_table()) {
    result = PyObject_CallOneArg(PyTuple_GET_ITEM(h, kPlainLoads), view);
  } else {
    DecodeTables tables{&cowns, &xidata};
    ScopedContext<DecodeTables> ctx(t_decode, &tables);
    result =
        PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(h, kLoads), view, PyTuple_GET_ITEM(h, kPersistentLoad), nullptr);
  }
  Py_DECREF(h);
  PyObject* exc = PyErr_GetRaisedException();  // keep a decoding error across release()
  PyObject* released = PyObject_CallMethod(view, "release", nullptr);
  if (released) {
    Py_DECREF(released);
  } else {
    PyErr_Clear();
  }
  if (exc) PyErr_SetRaisedException(exc);
  Py_DECREF(view);
  return result;
}

}  // namespace boc::py::detail
