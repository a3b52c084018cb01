/* _bocpy_probe: a downstream C extension over bocpy's public C ABI
 * (runtime/python/include/bocpy/), used by tests/python/test_c_abi.py.
 *
 * Counter wraps a C resource (CounterImpl: raw memory, shared by reference
 * count) and is registered as cross-interpreter shareable with bocpy.h's
 * owner-field pattern: handing it over (getdata) moves the owner from this
 * interpreter to BOCPY_NO_OWNER, receiving it (new_object) from
 * BOCPY_NO_OWNER to the receiver, and every payload accessor checks that the
 * caller's interpreter is the owner. Plain is not registered: it crosses by
 * pickle (its __reduce__ counts the calls).
 *
 * Multi-phase init with a per-interpreter-GIL slot: the exec slot runs (and
 * registers Counter) in every interpreter that imports the module.
 */
#include <bocpy/bocpy.h>

typedef struct {
  atomic_int_least64_t owner; /* an interpreter id, or BOCPY_NO_OWNER */
  atomic_int_least64_t refs;  /* wrappers and XIData holding it */
  int64_t count;              /* the payload: only the owner touches it */
} CounterImpl;

typedef struct {
  PyObject_HEAD CounterImpl* impl;
} CounterObject;

typedef struct {
  PyObject_HEAD long long value;
} PlainObject;

typedef struct {
  PyTypeObject* counter_type;
  PyTypeObject* plain_type;
} ProbeState;

/* Process-wide, over all interpreters. */
static atomic_int_least64_t g_impls_alive;
static atomic_int_least64_t g_reduce_calls;
static atomic_int_least64_t g_getdata_calls;
static atomic_int_least64_t g_new_object_calls;
static atomic_int_least64_t g_free_calls;

/* Per thread: the last interpreter a Counter was built in (a thread_local
 * use of bocpy.h, read back by last_new_object_interp()). */
static thread_local int_least64_t t_last_new_object_interp = -1;

/* This interpreter's module state, or NULL with an error if it never imported
 * the module (a consumer must be imported at module scope, so that workers
 * import it too). */
static ProbeState* probe_state(void) {
  PyObject* name = PyUnicode_FromString("_bocpy_probe");
  if (name == NULL) return NULL;
  PyObject* module = PyImport_GetModule(name);
  Py_DECREF(name);
  if (module == NULL) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "_bocpy_probe is not imported in this interpreter");
    return NULL;
  }
  ProbeState* state = (ProbeState*)PyModule_GetState(module);
  Py_DECREF(module); /* sys.modules keeps it */
  return state;
}

/* ---- CounterImpl ---- */

static CounterImpl* impl_new(int64_t start) {
  CounterImpl* impl = (CounterImpl*)PyMem_RawMalloc(sizeof(CounterImpl));
  if (impl == NULL) {
    PyErr_NoMemory();
    return NULL;
  }
  atomic_store(&impl->owner, bocpy_interpid());
  atomic_store(&impl->refs, 1);
  impl->count = start;
  atomic_fetch_add(&g_impls_alive, 1);
  return impl;
}

static void impl_incref(CounterImpl* impl) { atomic_fetch_add(&impl->refs, 1); }

/* Needs no GIL: the XIData free callback shape. */
static void impl_decref(void* arg) {
  CounterImpl* impl = (CounterImpl*)arg;
  if (atomic_fetch_add(&impl->refs, -1) == 1) {
    PyMem_RawFree(impl);
    atomic_fetch_add(&g_impls_alive, -1);
  }
}

static void impl_free_callback(void* arg) {
  atomic_fetch_add(&g_free_calls, 1);
  impl_decref(arg);
}

/* The ownership check of every payload accessor. */
static int impl_check_owned(CounterImpl* impl) {
  int_least64_t owner = atomic_load(&impl->owner);
  if (owner != bocpy_interpid()) {
    PyErr_Format(PyExc_RuntimeError, "Counter is owned by interpreter %lld, not by this one (%lld)", (long long)owner,
                 (long long)bocpy_interpid());
    return -1;
  }
  return 0;
}

/* ---- Counter ---- */

static PyObject* counter_wrap(PyTypeObject* type, CounterImpl* impl) {
  CounterObject* self = (CounterObject*)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  self->impl = impl;
  return (PyObject*)self;
}

static PyObject* counter_new(PyTypeObject* type, PyObject* args, PyObject* kwds) {
  static char* kwlist[] = {"start", NULL};
  long long start = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|L", kwlist, &start)) return NULL;
  CounterImpl* impl = impl_new(start);
  if (impl == NULL) return NULL;
  PyObject* self = counter_wrap(type, impl);
  if (self == NULL) impl_decref(impl);
  return self;
}

static void counter_dealloc(PyObject* op) {
  CounterObject* self = (CounterObject*)op;
  PyTypeObject* type = Py_TYPE(op);
  if (self->impl != NULL) impl_decref(self->impl);
  type->tp_free(op);
  Py_DECREF(type);
}

static PyObject* counter_add(PyObject* op, PyObject* args) {
  CounterObject* self = (CounterObject*)op;
  long long n = 1;
  if (!PyArg_ParseTuple(args, "|L", &n)) return NULL;
  if (impl_check_owned(self->impl) < 0) return NULL;
  self->impl->count += n;
  return PyLong_FromLongLong(self->impl->count);
}

static PyObject* counter_get_count(PyObject* op, void* closure) {
  (void)closure;
  CounterObject* self = (CounterObject*)op;
  if (impl_check_owned(self->impl) < 0) return NULL;
  return PyLong_FromLongLong(self->impl->count);
}

/* Identity-only: no ownership check. */
static PyObject* counter_get_owner(PyObject* op, void* closure) {
  (void)closure;
  return PyLong_FromLongLong((long long)atomic_load(&((CounterObject*)op)->impl->owner));
}

static PyObject* counter_get_address(PyObject* op, void* closure) {
  (void)closure;
  return PyLong_FromVoidPtr(((CounterObject*)op)->impl);
}

/* Consumer side: runs in the receiving interpreter. */
static PyObject* counter_new_object(XIDATA_T* xidata) {
  CounterImpl* impl = (CounterImpl*)xidata->data;
  ProbeState* state = probe_state();
  if (state == NULL) return NULL;
  int_least64_t expected = BOCPY_NO_OWNER;
  if (!atomic_compare_exchange_strong(&impl->owner, &expected, bocpy_interpid())) {
    PyErr_Format(PyExc_RuntimeError, "Counter already received by interpreter %lld", (long long)expected);
    return NULL;
  }
  impl_incref(impl);
  PyObject* self = counter_wrap(state->counter_type, impl);
  if (self == NULL) {
    impl_decref(impl);
    atomic_store(&impl->owner, BOCPY_NO_OWNER); /* a retry can still receive it */
    return NULL;
  }
  atomic_fetch_add(&g_new_object_calls, 1);
  t_last_new_object_interp = bocpy_interpid();
  return self;
}

/* Producer side: runs in the sending interpreter. */
XIDATA_GETDATA_FUNC(counter_shared) {
  CounterImpl* impl = ((CounterObject*)obj)->impl;
  int_least64_t expected = bocpy_interpid();
  if (!atomic_compare_exchange_strong(&impl->owner, &expected, BOCPY_NO_OWNER)) {
    PyErr_Format(PyExc_RuntimeError, "cannot hand over a Counter owned by interpreter %lld (this is %lld)",
                 (long long)expected, (long long)bocpy_interpid());
    return -1;
  }
  impl_incref(impl); /* the XIData's reference, dropped by the free callback */
  XIDATA_INIT(xidata, tstate->interp, impl, obj, counter_new_object);
  XIDATA_SET_FREE(xidata, impl_free_callback);
  atomic_fetch_add(&g_getdata_calls, 1);
  return 0;
}

static PyMethodDef counter_methods[] = {
    {"add", counter_add, METH_VARARGS, "add(n=1) -> the new count (owner only)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef counter_getset[] = {
    {"count", counter_get_count, NULL, "the payload (owner only)", NULL},
    {"owner", counter_get_owner, NULL, "id of the owning interpreter, or BOCPY_NO_OWNER", NULL},
    {"address", counter_get_address, NULL, "address of the C resource", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot counter_slots[] = {
    {Py_tp_new, (void*)counter_new},
    {Py_tp_dealloc, (void*)counter_dealloc},
    {Py_tp_methods, (void*)counter_methods},
    {Py_tp_getset, (void*)counter_getset},
    {Py_tp_doc, (void*)"Counter(start=0): a C counter owned by one interpreter at a time"},
    {0, NULL},
};

static PyType_Spec counter_spec = {
    .name = "_bocpy_probe.Counter",
    .basicsize = sizeof(CounterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = counter_slots,
};

/* ---- Plain (unregistered, picklable) ---- */

static PyObject* plain_new(PyTypeObject* type, PyObject* args, PyObject* kwds) {
  static char* kwlist[] = {"value", NULL};
  long long value = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|L", kwlist, &value)) return NULL;
  PlainObject* self = (PlainObject*)type->tp_alloc(type, 0);
  if (self != NULL) self->value = value;
  return (PyObject*)self;
}

static void plain_dealloc(PyObject* op) {
  PyTypeObject* type = Py_TYPE(op);
  type->tp_free(op);
  Py_DECREF(type);
}

static PyObject* plain_reduce(PyObject* op, PyObject* unused) {
  (void)unused;
  atomic_fetch_add(&g_reduce_calls, 1);
  return Py_BuildValue("(O(L))", (PyObject*)Py_TYPE(op), ((PlainObject*)op)->value);
}

static PyObject* plain_get_value(PyObject* op, void* closure) {
  (void)closure;
  return PyLong_FromLongLong(((PlainObject*)op)->value);
}

static PyMethodDef plain_methods[] = {
    {"__reduce__", plain_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef plain_getset[] = {
    {"value", plain_get_value, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot plain_slots[] = {
    {Py_tp_new, (void*)plain_new},
    {Py_tp_dealloc, (void*)plain_dealloc},
    {Py_tp_methods, (void*)plain_methods},
    {Py_tp_getset, (void*)plain_getset},
    {0, NULL},
};

static PyType_Spec plain_spec = {
    .name = "_bocpy_probe.Plain",
    .basicsize = sizeof(PlainObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = plain_slots,
};

/* ---- module ---- */

static PyObject* probe_interpid(PyObject* m, PyObject* unused) {
  (void)m, (void)unused;
  return PyLong_FromLongLong((long long)bocpy_interpid());
}

static PyObject* probe_main_interpid(PyObject* m, PyObject* unused) {
  (void)m, (void)unused;
  return PyLong_FromLongLong((long long)bocpy_main_interpid());
}

static PyObject* probe_stats(PyObject* m, PyObject* unused) {
  (void)m, (void)unused;
  return Py_BuildValue("{sLsLsLsLsL}", "impls_alive", (long long)atomic_load(&g_impls_alive), "reduce_calls",
                       (long long)atomic_load(&g_reduce_calls), "getdata_calls",
                       (long long)atomic_load(&g_getdata_calls), "new_object_calls",
                       (long long)atomic_load(&g_new_object_calls), "free_calls",
                       (long long)atomic_load(&g_free_calls));
}

static PyObject* probe_last_new_object_interp(PyObject* m, PyObject* unused) {
  (void)m, (void)unused;
  return PyLong_FromLongLong((long long)t_last_new_object_interp);
}

static PyObject* probe_registered(PyObject* m, PyObject* obj) {
  (void)m;
  return PyBool_FromLong(xidata_supported(obj));
}

static PyMethodDef probe_functions[] = {
    {"interpid", probe_interpid, METH_NOARGS, "bocpy_interpid()"},
    {"main_interpid", probe_main_interpid, METH_NOARGS, "bocpy_main_interpid()"},
    {"stats", probe_stats, METH_NOARGS, "process-wide counts of the probe's C events"},
    {"last_new_object_interp", probe_last_new_object_interp, METH_NOARGS,
     "interpreter of this thread's last received Counter (-1: none)"},
    {"registered", probe_registered, METH_O, "xidata_supported(obj) in this interpreter"},
    {NULL, NULL, 0, NULL},
};

static int probe_exec(PyObject* module) {
  ProbeState* state = (ProbeState*)PyModule_GetState(module);
  state->counter_type = (PyTypeObject*)PyType_FromModuleAndSpec(module, &counter_spec, NULL);
  if (state->counter_type == NULL) return -1;
  state->plain_type = (PyTypeObject*)PyType_FromModuleAndSpec(module, &plain_spec, NULL);
  if (state->plain_type == NULL) return -1;
  if (PyModule_AddType(module, state->counter_type) < 0) return -1;
  if (PyModule_AddType(module, state->plain_type) < 0) return -1;
  if (PyModule_AddIntConstant(module, "BOCPY_ABI", BOCPY_ABI) < 0) return -1;
  if (PyModule_AddIntConstant(module, "BOCPY_NO_OWNER", BOCPY_NO_OWNER) < 0) return -1;
  /* The registry of a heap type is per interpreter: register in each. */
  if (XIDATA_REGISTERCLASS(state->counter_type, counter_shared) < 0) return -1;
  return 0;
}

static int probe_traverse(PyObject* module, visitproc visit, void* arg) {
  ProbeState* state = (ProbeState*)PyModule_GetState(module);
  Py_VISIT(state->counter_type);
  Py_VISIT(state->plain_type);
  return 0;
}

static int probe_clear(PyObject* module) {
  ProbeState* state = (ProbeState*)PyModule_GetState(module);
  Py_CLEAR(state->counter_type);
  Py_CLEAR(state->plain_type);
  return 0;
}

static void probe_free(void* module) { (void)probe_clear((PyObject*)module); }

static PyModuleDef_Slot probe_slots[] = {
    {Py_mod_exec, (void*)probe_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef probe_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_bocpy_probe",
    .m_doc = "A C extension over bocpy's public C ABI (tests/python/test_c_abi.py).",
    .m_size = sizeof(ProbeState),
    .m_methods = probe_functions,
    .m_slots = probe_slots,
    .m_traverse = probe_traverse,
    .m_clear = probe_clear,
    .m_free = probe_free,
};

PyMODINIT_FUNC PyInit__bocpy_probe(void) { return PyModuleDef_Init(&probe_module); }
