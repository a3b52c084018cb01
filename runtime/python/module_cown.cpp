#include "module_cown.h"

#include <structmember.h>

#include "bocpy_runtime.h"
#include "parcel.h"
#include "py_compat.h"
#include "terminator.h"

namespace boc::py {
namespace {

PyCown* self_cown(PyObject* self) { return reinterpret_cast<CapsuleObject*>(self)->cown; }

void capsule_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  if (PyCown* c = reinterpret_cast<CapsuleObject*>(self)->cown) c->release_ref();
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyObject* alloc_wrapper(PyTypeObject* tp, PyCown* cown) {
  PyObject* o = tp->tp_alloc(tp, 0);
  if (o == nullptr) return nullptr;
  cown->retain();
  reinterpret_cast<CapsuleObject*>(o)->cown = cown;
  return o;
}

PyObject* value_get(PyObject* self, void*) {
  PyObject* v = self_cown(self)->value_borrowed();
  return v != nullptr ? Py_NewRef(v) : nullptr;
}

int value_set(PyObject* self, PyObject* value, void*) {
  if (value == nullptr) {
    PyErr_SetString(PyExc_TypeError, "cannot delete a cown's value");
    return -1;
  }
  return self_cown(self)->set_value(value) ? 0 : -1;
}

PyObject* exception_get(PyObject* self, void*) {
  if (!self_cown(self)->owned_here()) {
    PyErr_SetString(PyExc_RuntimeError, "The current interpreter does not own this cown");
    return nullptr;
  }
  return PyBool_FromLong(self_cown(self)->exception());
}

int exception_set(PyObject* self, PyObject* value, void*) {
  if (value == nullptr) {
    PyErr_SetString(PyExc_TypeError, "cannot delete a cown's exception flag");
    return -1;
  }
  const int truth = PyObject_IsTrue(value);
  if (truth < 0) return -1;
  return self_cown(self)->set_exception_flag(truth != 0) ? 0 : -1;
}

PyObject* impl_get(PyObject* self, void*) { return Py_NewRef(self); }

PyObject* acquired_get(PyObject* self, void*) { return PyBool_FromLong(self_cown(self)->owned_here()); }

PyObject* traceback_get(PyObject* self, void*) {
  const std::string& tb = self_cown(self)->traceback_text();
  if (tb.empty()) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(tb.data(), static_cast<Py_ssize_t>(tb.size()));
}

PyObject* pinned_get(PyObject* self, void*) { return PyBool_FromLong(self_cown(self)->pinned()); }

PyObject* m_get(PyObject* self, PyObject*) { return value_get(self, nullptr); }

PyObject* m_set(PyObject* self, PyObject* value) {
  if (value_set(self, value, nullptr) < 0) return nullptr;
  Py_RETURN_NONE;
}

PyObject* m_acquire(PyObject* self, PyObject*) {
  if (!self_cown(self)->acquire()) return nullptr;
  Py_RETURN_NONE;
}

PyObject* m_release(PyObject* self, PyObject*) {
  if (!self_cown(self)->release()) return nullptr;
  Py_RETURN_NONE;
}

PyObject* m_acquired(PyObject* self, PyObject*) { return acquired_get(self, nullptr); }

PyObject* m_enter(PyObject* self, PyObject*) {
  if (!self_cown(self)->acquire()) return nullptr;
  return value_get(self, nullptr);
}

PyObject* m_exit(PyObject* self, PyObject*) {
  if (!self_cown(self)->release()) return nullptr;
  Py_RETURN_FALSE;
}

PyObject* m_unwrap(PyObject* self, PyObject*) {
  // In flight: behaviors the core runs plus terminator holds (terminator.h).
  if (terminator_busy()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "Cown.unwrap() called while behaviors are still in flight. Call quiesce() (or wait()) first, "
                    "or read the value inside a @when behavior.");
    return nullptr;
  }
  PyCown* c = self_cown(self);
  if (!c->acquire()) return nullptr;
  PyObject* value = Py_NewRef(c->value_borrowed());
  const bool was_exception = c->exception();
  c->set_value(Py_None);  // also clears the flag
  if (!c->release()) {
    Py_DECREF(value);
    return nullptr;
  }
  if (was_exception && PyExceptionInstance_Check(value)) {
    PyErr_SetRaisedException(value);
    return nullptr;
  }
  return value;
}

PyObject* capsule_repr(PyObject* self) {
  PyCown* c = self_cown(self);
  const char* name = _PyType_Name(Py_TYPE(self));
  if (!c->owned_here()) return PyUnicode_FromFormat("%s(%p, value=<not owner>)", name, static_cast<void*>(c));
  return PyUnicode_FromFormat("%s(%p, value=%R)", name, static_cast<void*>(c), c->value_borrowed());
}

Py_hash_t capsule_hash(PyObject* self) { return static_cast<Py_hash_t>(self_cown(self)->id()); }

PyObject* capsule_richcompare(PyObject* a, PyObject* b, int op) {
  InterpState* st = current_state();
  PyCown* ca = cown_of(st, a);
  PyCown* cb = cown_of(st, b);
  if (ca == nullptr || cb == nullptr) Py_RETURN_NOTIMPLEMENTED;
  Py_RETURN_RICHCOMPARE(ca->id(), cb->id(), op);
}

PyObject* cown_new(PyTypeObject* tp, PyObject* args, PyObject* kwds) {
  static const char* kwlist[] = {"value", nullptr};
  PyObject* value = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Cown", const_cast<char**>(kwlist), &value)) return nullptr;
  InterpState* st = current_state();
  // A raw capsule (what a body receives, or a Cown a behavior returned: see
  // py_cown.cpp) is re-wrapped: same cown. A Cown or PinnedCown wrapper is a
  // value like any other: Cown(pc) holds the handle.
  if (st != nullptr && Py_TYPE(value) == st->capsule_type) {
    return alloc_wrapper(tp, reinterpret_cast<CapsuleObject*>(value)->cown);
  }
  Ref<PyCown> c = PyCown::make(value);
  if (!c) return nullptr;
  return alloc_wrapper(tp, c.get());
}

PyObject* pinned_new(PyTypeObject* tp, PyObject* args, PyObject* kwds) {
  static const char* kwlist[] = {"value", nullptr};
  PyObject* value = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:PinnedCown", const_cast<char**>(kwlist), &value)) return nullptr;
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "PinnedCown must be constructed on the main interpreter");
    return nullptr;
  }
  InterpState* st = current_state();
  if (st != nullptr && Py_TYPE(value) == st->capsule_type && reinterpret_cast<CapsuleObject*>(value)->cown->pinned()) {
    return alloc_wrapper(tp, reinterpret_cast<CapsuleObject*>(value)->cown);
  }
  Ref<PyCown> c = PyCown::make_pinned(value);
  return alloc_wrapper(tp, c.get());
}

PyGetSetDef capsule_getset[] = {
    {"value", value_get, value_set, "The cown's value (the current interpreter must own the cown).", nullptr},
    {"exception", exception_get, exception_set, "True if the value is an exception a behavior raised.", nullptr},
    {"impl", impl_get, nullptr, "The capsule itself.", nullptr},
    {"traceback", traceback_get, nullptr, "Formatted traceback of the behavior exception held, or None.", nullptr},
    {"pinned", pinned_get, nullptr, "True for a pinned cown.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMethodDef capsule_methods[] = {
    {"get", m_get, METH_NOARGS, "Return the value."},
    {"set", m_set, METH_O, "Replace the value."},
    {"acquire", m_acquire, METH_NOARGS, "Take ownership for this interpreter (non-blocking)."},
    {"release", m_release, METH_NOARGS, "Give up ownership, storing the value encoded."},
    {"acquired", m_acquired, METH_NOARGS, "True if this interpreter owns the cown."},
    {"unwrap", m_unwrap, METH_NOARGS, "Take the value out (re-raising a stored exception)."},
    {"__enter__", m_enter, METH_NOARGS, nullptr},
    {"__exit__", m_exit, METH_VARARGS, nullptr},
    // Cown[T] / PinnedCown[T] in annotations, as bocpy's typed examples write them.
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot capsule_slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(capsule_dealloc)},
                               {Py_tp_repr, reinterpret_cast<void*>(capsule_repr)},
                               {Py_tp_hash, reinterpret_cast<void*>(capsule_hash)},
                               {Py_tp_richcompare, reinterpret_cast<void*>(capsule_richcompare)},
                               {Py_tp_getset, capsule_getset},
                               {Py_tp_methods, capsule_methods},
                               {Py_tp_doc, const_cast<char*>("A handle on a cown, as a behavior body receives it.")},
                               {0, nullptr}};

PyType_Spec capsule_spec = {"bocpy._core.CownCapsule", sizeof(CapsuleObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, capsule_slots};

PyGetSetDef cown_getset[] = {{"acquired", acquired_get, nullptr, "True if this interpreter owns the cown.", nullptr},
                             {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot cown_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(cown_new)},
    {Py_tp_getset, cown_getset},
    {Py_tp_doc, const_cast<char*>("Cown(value): a concurrently-owned value. Schedule work on it with @when.")},
    {0, nullptr}};

PyType_Spec cown_spec = {"bocpy.Cown", sizeof(CapsuleObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, cown_slots};

PyType_Slot pinned_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(pinned_new)},
    {Py_tp_doc, const_cast<char*>("PinnedCown(value): a cown whose value never leaves the main interpreter; "
                                  "its behaviors run on the main thread, drained by pump().")},
    {0, nullptr}};

PyType_Spec pinned_spec = {"bocpy.PinnedCown", sizeof(CapsuleObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                           pinned_slots};

// Parcel hooks: handles travel as cown references and come back as wrappers.
CownRef hook_unwrap(PyObject* obj) {
  InterpState* st = current_state();
  if (st == nullptr) return {};
  PyCown* c = cown_of(st, obj);
  return c != nullptr ? CownRef(c) : CownRef();
}

PyObject* hook_wrap(const CownRef& cown) {
  InterpState* st = current_state();
  if (st == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "bocpy is not initialised in this interpreter");
    return nullptr;
  }
  return new_cown_handle(st, Ref<PyCown>(static_cast<PyCown*>(cown.get())));
}

}  // namespace

int add_cown_types(PyObject* module, InterpState* state) {
  state->capsule_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &capsule_spec, nullptr));
  if (state->capsule_type == nullptr) return -1;
  state->cown_type = reinterpret_cast<PyTypeObject*>(
      PyType_FromModuleAndSpec(module, &cown_spec, reinterpret_cast<PyObject*>(state->capsule_type)));
  if (state->cown_type == nullptr) return -1;
  state->pinned_type = reinterpret_cast<PyTypeObject*>(
      PyType_FromModuleAndSpec(module, &pinned_spec, reinterpret_cast<PyObject*>(state->cown_type)));
  if (state->pinned_type == nullptr) return -1;
  if (PyModule_AddType(module, state->capsule_type) < 0) return -1;
  if (PyModule_AddType(module, state->cown_type) < 0) return -1;
  if (PyModule_AddType(module, state->pinned_type) < 0) return -1;
  return 0;
}

PyObject* new_capsule(InterpState* state, const Ref<PyCown>& cown) {
  return alloc_wrapper(state->capsule_type, cown.get());
}

PyObject* new_cown_handle(InterpState* state, const Ref<PyCown>& cown) {
  return alloc_wrapper(cown->pinned() ? state->pinned_type : state->cown_type, cown.get());
}

PyCown* cown_of(InterpState* state, PyObject* obj) {
  if (state == nullptr || obj == nullptr || !PyObject_TypeCheck(obj, state->capsule_type)) return nullptr;
  return reinterpret_cast<CapsuleObject*>(obj)->cown;
}

void install_handle_hooks() {
  set_handle_hooks(HandleHooks{&hook_unwrap, &hook_wrap});
  // XIData in parcels is freed in the interpreter that filled it (values/xidata_slot.cpp).
  set_drop_hook(&decref_in_interp);
}

}  // namespace boc::py
