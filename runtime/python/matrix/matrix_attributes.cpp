#include "matrix_attributes.h"

#include <cstddef>
#include <cstdint>

#include "matrix_module.h"
#include "matrix_type.h"
#include "py_ref.h"

namespace boc::py {
namespace {

struct BoundMethodObject {
  PyObject_HEAD PyObject* self;  ///< strong: the Matrix the method is bound to
  PyMethodDef* def;              ///< the method's entry in matrix_methods.cpp's static table
  vectorcallfunc vectorcall;
  MathState* state;  ///< of the module that made the type: its pool (valid while the object holds the type)
};

BoundMethodObject* as_bound(PyObject* obj) { return reinterpret_cast<BoundMethodObject*>(obj); }

// The calling conventions called directly; any other goes the generic way.
constexpr int kConventionMask = METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_FASTCALL | METH_METHOD |
                                METH_CLASS | METH_STATIC | METH_COEXIST;
constexpr int kFastWithKeywords = METH_FASTCALL | METH_KEYWORDS;

bool bindable(const PyMethodDef* def) {
  const int convention = def->ml_flags & kConventionMask;
  return convention == METH_NOARGS || convention == METH_O || convention == kFastWithKeywords;
}

/// The builtin method object CPython's own lookup would have made (what
/// method_get does for a method without METH_METHOD). New reference.
PyObject* real_method(PyObject* obj) {
  BoundMethodObject* b = as_bound(obj);
  return PyCFunction_NewEx(b->def, b->self, nullptr);
}

PyObject* bound_vectorcall(PyObject* callable, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  BoundMethodObject* b = as_bound(callable);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  const bool no_keywords = kwnames == nullptr || PyTuple_GET_SIZE(kwnames) == 0;
  PyCFunction f = b->def->ml_meth;
  switch (b->def->ml_flags & kConventionMask) {
    case kFastWithKeywords:
      return reinterpret_cast<PyCFunctionFastWithKeywords>(reinterpret_cast<void (*)()>(f))(b->self, args, nargs,
                                                                                            kwnames);
    case METH_NOARGS:
      if (nargs == 0 && no_keywords) {
        return f(b->self, nullptr);
      }
      break;
    case METH_O:
      if (nargs == 1 && no_keywords) {
        return f(b->self, args[0]);
      }
      break;
    default: break;
  }
  // A wrong number of arguments or keywords: CPython's checks and messages.
  PyRef real(real_method(callable));
  return real ? PyObject_Vectorcall(real.get(), args, nargsf, kwnames) : nullptr;
}

void bound_dealloc(PyObject* obj) {
  PyTypeObject* type = Py_TYPE(obj);
  BoundMethodObject* b = as_bound(obj);
  Py_CLEAR(b->self);
  MathState* state = b->state;
  if (state != nullptr && state->pool_open && state->method_pool_count < MathState::kMethodPoolMax) {
    state->method_pool[state->method_pool_count++] = obj;  // as matrix_type.cpp's pool: no type reference
  } else {
    type->tp_free(obj);
  }
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

// Everything but the call is the real builtin method's: its attributes
// (__name__, __self__, __doc__, __text_signature__, __reduce_ex__, even
// __class__, so isinstance and inspect see a builtin method), repr, hash and
// equality.
PyObject* bound_getattro(PyObject* obj, PyObject* name) {
  PyRef real(real_method(obj));
  return real ? PyObject_GetAttr(real.get(), name) : nullptr;
}

PyObject* bound_repr(PyObject* obj) {
  PyRef real(real_method(obj));
  return real ? PyObject_Repr(real.get()) : nullptr;
}

Py_hash_t bound_hash(PyObject* obj) {
  PyRef real(real_method(obj));
  return real ? PyObject_Hash(real.get()) : -1;
}

// Either operand may be ours (CPython also calls this with them swapped).
PyObject* as_real(PyObject* obj, richcmpfunc ours) {
  return Py_TYPE(obj)->tp_richcompare == ours ? real_method(obj) : Py_NewRef(obj);
}

PyObject* bound_richcompare(PyObject* a, PyObject* b, int op) {
  PyRef real_a(as_real(a, bound_richcompare));
  PyRef real_b(real_a ? as_real(b, bound_richcompare) : nullptr);
  return real_b ? PyObject_RichCompare(real_a.get(), real_b.get(), op) : nullptr;
}

PyMemberDef g_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(BoundMethodObject, vectorcall), Py_READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

template <class F>
void* slot(F f) {
  return reinterpret_cast<void*>(f);
}

}  // namespace

PyType_Spec* matrix_method_spec() {
  static PyType_Slot slots[] = {{Py_tp_dealloc, slot(bound_dealloc)},
                                {Py_tp_call, slot(PyVectorcall_Call)},
                                {Py_tp_getattro, slot(bound_getattro)},
                                {Py_tp_repr, slot(bound_repr)},
                                {Py_tp_hash, slot(bound_hash)},
                                {Py_tp_richcompare, slot(bound_richcompare)},
                                {Py_tp_members, g_members},
                                {0, nullptr}};
  static PyType_Spec spec = {
      "bocpy.MatrixMethod", static_cast<int>(sizeof(BoundMethodObject)), 0,
      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_VECTORCALL,
      slots};
  return &spec;
}

namespace {

/// The getset or bindable method descriptor that name finds on type (the
/// Matrix type whose module state is state), borrowed from the type's dict,
/// or nullptr for any other name (the generic lookup handles those).
PyObject* matrix_descriptor(MathState* state, PyTypeObject* type, PyObject* name) {
  MathState::AttributeEntry& entry =
      state->attribute_cache[(reinterpret_cast<std::uintptr_t>(name) >> 4) % MathState::kAttributeCacheSize];
  if (entry.name == name) {
    return entry.descr;
  }
  if (!PyUnicode_CheckExact(name)) {
    return nullptr;
  }
  PyObject* descr = _PyType_Lookup(type, name);  // borrowed, through the type cache; sets no error
  if (descr == nullptr) {
    return nullptr;
  }
  const bool getset =
      Py_IS_TYPE(descr, &PyGetSetDescr_Type) && reinterpret_cast<PyGetSetDescrObject*>(descr)->d_getset->get != nullptr;
  const bool method =
      Py_IS_TYPE(descr, &PyMethodDescr_Type) && bindable(reinterpret_cast<PyMethodDescrObject*>(descr)->d_method);
  if ((!getset && !method) || reinterpret_cast<PyDescrObject*>(descr)->d_type != type) {
    return nullptr;
  }
  if (state->pool_open) {  // the type is immutable: what a name finds never changes
    Py_XSETREF(entry.name, Py_NewRef(name));
    entry.descr = descr;
  }
  return descr;
}

PyObject* bind(MathState* state, PyObject* self, PyMethodDef* def) {
  PyTypeObject* method_type = state->method_type;
  PyObject* obj = nullptr;
  if (state->method_pool_count > 0) {
    obj = state->method_pool[--state->method_pool_count];
    PyObject_Init(obj, method_type);  // takes a reference to method_type
  } else {
    obj = method_type->tp_alloc(method_type, 0);
    if (obj == nullptr) {
      return nullptr;
    }
  }
  BoundMethodObject* b = as_bound(obj);
  b->self = Py_NewRef(self);
  b->def = def;
  b->vectorcall = bound_vectorcall;
  b->state = state;
  return obj;
}

}  // namespace

PyObject* matrix_getattro(PyObject* self, PyObject* name) {
  MathState* state = as_matrix(self)->state;
  if (state != nullptr && state->method_type != nullptr) {
    if (PyObject* descr = matrix_descriptor(state, Py_TYPE(self), name)) {
      if (Py_IS_TYPE(descr, &PyGetSetDescr_Type)) {
        PyGetSetDef* def = reinterpret_cast<PyGetSetDescrObject*>(descr)->d_getset;
        return def->get(self, def->closure);
      }
      return bind(state, self, reinterpret_cast<PyMethodDescrObject*>(descr)->d_method);
    }
  }
  return PyObject_GenericGetAttr(self, name);
}

int matrix_setattro(PyObject* self, PyObject* name, PyObject* value) {
  MathState* state = as_matrix(self)->state;
  if (state != nullptr && state->method_type != nullptr) {
    PyObject* descr = matrix_descriptor(state, Py_TYPE(self), name);
    if (descr != nullptr && Py_IS_TYPE(descr, &PyGetSetDescr_Type)) {
      PyGetSetDef* def = reinterpret_cast<PyGetSetDescrObject*>(descr)->d_getset;
      if (def->set != nullptr) {  // a read-only one: the generic path raises CPython's AttributeError
        return def->set(self, value, def->closure);
      }
    }
  }
  return PyObject_GenericSetAttr(self, name, value);
}

int matrix_bind_class_methods(PyTypeObject* type) {
  PyRef dict(PyType_GetDict(type));
  if (!dict) {
    return -1;
  }
  for (PyMethodDef* def = type->tp_methods; def != nullptr && def->ml_name != nullptr; ++def) {
    if ((def->ml_flags & METH_CLASS) == 0) {
      continue;
    }
    // What the class-method descriptor's __get__ makes (classmethod_get: PyCMethod_New with the type as self).
    PyRef bound(PyCMethod_New(def, reinterpret_cast<PyObject*>(type), nullptr, nullptr));
    if (!bound || PyDict_SetItemString(dict.get(), def->ml_name, bound.get()) < 0) {
      return -1;
    }
  }
  PyType_Modified(type);  // the type's attribute cache and version tag must not keep the descriptors
  return 0;
}

void matrix_attributes_close(MathState* state) {
  for (MathState::AttributeEntry& entry : state->attribute_cache) {
    Py_CLEAR(entry.name);
    entry.descr = nullptr;
  }
  while (state->method_pool_count > 0) {
    PyObject_Free(state->method_pool[--state->method_pool_count]);  // tp_free of a non-GC heap type
  }
}

}  // namespace boc::py
