// bocpy._core.when / whencall: a Python function scheduled as a behavior
// over cowns (shape checks, capture and closure snapshots, auto-start).
#include "core_schedule.h"

#include <vector>

#include "behavior_capsule.h"
#include "behavior_code.h"
#include "bocpy_runtime.h"
#include "module_cown.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"
#include "py_ref.h"
#include "terminator.h"

namespace boc::py {
namespace {

// Starts a runtime from Python (bocpy.behaviors._auto_start) when @when is
// used before start() on the main interpreter.
bool ensure_runtime() {
  if (BocpyRuntime::get() != nullptr) return true;
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot schedule behavior: bocpy runtime is not running. Call bocpy.start() on the main "
                    "interpreter first.");
    return false;
  }
  PyObject* mod = PyImport_ImportModule("bocpy.behaviors");
  if (mod == nullptr) return false;
  PyObject* r = PyObject_CallMethod(mod, "_auto_start", nullptr);
  Py_DECREF(mod);
  if (r == nullptr) return false;
  Py_DECREF(r);
  if (BocpyRuntime::get() == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "cannot schedule behavior: bocpy runtime is not running");
    return false;
  }
  return true;
}

bool parse_cown_args(InterpState* st, PyObject* seq, CownArgs& out, bool& any_pinned) {
  PyObject* fast = PySequence_Fast(seq, "can only schedule over cowns or sequences of cowns");
  if (fast == nullptr) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  out.reserve(static_cast<std::size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fast, i);
    CownArg arg;
    if (PyCown* c = cown_of(st, item)) {
      arg = CownArg::single(c);
      any_pinned = any_pinned || c->pinned();
    } else if (PyList_Check(item) || PyTuple_Check(item)) {
      arg = CownArg::list();
      const Py_ssize_t m = PySequence_Size(item);
      for (Py_ssize_t k = 0; k < m; ++k) {
        PyObject* member = PySequence_GetItem(item, k);
        PyCown* mc = cown_of(st, member);
        Py_XDECREF(member);
        if (mc == nullptr) {
          Py_DECREF(fast);
          PyErr_SetString(PyExc_TypeError, "can only schedule over cowns or sequences of cowns");
          return false;
        }
        arg.add(mc);
        any_pinned = any_pinned || mc->pinned();
      }
    } else {
      Py_DECREF(fast);
      PyErr_SetString(PyExc_TypeError, "can only schedule over cowns or sequences of cowns");
      return false;
    }
    out.push_back(std::move(arg));
  }
  Py_DECREF(fast);
  return true;
}

// Checks bocpy's parameter shape: the first n params take the cowns, every
// remaining positional param has a default (its capture). A *args body takes
// any extra cowns (the `def _writeback(*args)` form of the demo's write-back).
bool check_shape(PyObject* fn, std::size_t n_cowns, PyObject* defaults, bool& captures_apply) {
  auto* code = reinterpret_cast<PyCodeObject*>(PyFunction_GetCode(fn));
  const auto n_params = static_cast<std::size_t>(code->co_argcount);
  const std::size_t n_caps = defaults != nullptr ? static_cast<std::size_t>(PyTuple_GET_SIZE(defaults)) : 0;
  const bool varargs = (code->co_flags & CO_VARARGS) != 0;
  captures_apply = true;
  if (n_params < n_cowns) {
    if (varargs) {
      captures_apply = false;  // defaults sit on cown parameters: nothing to capture
      return true;
    }
    PyErr_Format(PyExc_TypeError,
                 "behavior %U takes %zu positional parameter(s) but is scheduled over %zu cown argument(s)",
                 code->co_qualname, n_params, n_cowns);
    return false;
  }
  if (n_params - n_cowns != n_caps) {
    PyErr_Format(PyExc_TypeError,
                 "behavior %U: the %zu parameter(s) after the %zu cown parameter(s) must all have defaults "
                 "(captures), but %zu default(s) were given",
                 code->co_qualname, n_params - n_cowns, n_cowns, n_caps);
    return false;
  }
  return true;
}

// Snapshot of the function's closure cells (nullptr when it has none).
PyObject* closure_snapshot(PyObject* fn) {
  PyObject* closure = PyFunction_GetClosure(fn);  // borrowed
  if (closure == nullptr || closure == Py_None) return Py_NewRef(Py_None);
  const Py_ssize_t n = PyTuple_GET_SIZE(closure);
  PyObject* values = PyTuple_New(n);
  if (values == nullptr) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* v = PyCell_GET(PyTuple_GET_ITEM(closure, i));
    if (v == nullptr) {
      auto* code = reinterpret_cast<PyCodeObject*>(PyFunction_GetCode(fn));
      PyObject* names = PyCode_GetFreevars(code);
      PyErr_Format(PyExc_NameError, "behavior %U captures free variable %R before it is bound", code->co_qualname,
                   names != nullptr ? PyTuple_GetItem(names, i) : Py_None);
      Py_XDECREF(names);
      Py_DECREF(values);
      return nullptr;
    }
    PyTuple_SET_ITEM(values, i, Py_NewRef(v));
  }
  return values;
}

// Any change to the module's dict may replace a whencall step: look again.
int module_dict_changed(PyDict_WatchEvent, PyObject* dict, PyObject*, PyObject*) {
  InterpState* st = current_state();
  if (st != nullptr && st->module != nullptr && PyModule_GetDict(st->module) == dict) st->steps_known = false;
  return 0;
}

// bocpy._core.<name> as the module holds it now (borrowed).
bool module_step(InterpState* st, PyObject* name, PyObject*& out) {
  out = PyDict_GetItemWithError(PyModule_GetDict(st->module), name);
  if (out == nullptr && !PyErr_Occurred()) {
    PyErr_Format(PyExc_AttributeError, "module 'bocpy._core' has no attribute %R", name);
  }
  return out != nullptr;
}

// bocpy's whencall steps through the module's attributes, for when one of
// them was replaced (bocpy's own tests patch them): BehaviorCapsule(key,
// result, (group_id, cown) pairs, captures), terminator_inc() (< 0: refused),
// schedule(), and terminator_dec() if schedule() raised.
PyObject* schedule_through_module(InterpState* st, const PyBehavior::Spec& spec, PyObject* caps, PyObject* closure,
                                  PyObject* ctor, PyObject* inc) {
  const RegistryEntry* entry = registry_entry(spec.code_id);
  if (entry == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "behavior code vanished from the registry");
    return nullptr;
  }
  PyRef key(PyUnicode_FromStringAndSize(entry->key.data(), static_cast<Py_ssize_t>(entry->key.size())));
  PyRef handle(new_cown_handle(st, spec.result));
  PyRef impl(new_capsule(st, spec.result));
  PyRef pairs(PyList_New(0));
  PyRef cap_list(PySequence_List(caps));
  if (!key || !handle || !impl || !pairs || !cap_list) return nullptr;
  int group_id = 1;
  for (const CownArg& a : spec.args) {
    for (const auto& c : a.cowns()) {
      PyRef cap(new_capsule(st, c));
      PyRef pair(cap ? Py_BuildValue("(iO)", a.group() ? -group_id : group_id, cap.get()) : nullptr);
      if (!pair || PyList_Append(pairs.get(), pair.get()) < 0) return nullptr;
    }
    ++group_id;
  }
  PyRef capsule(closure != Py_None
                    ? PyObject_CallFunction(ctor, "OOOOO", key.get(), impl.get(), pairs.get(), cap_list.get(), closure)
                    : PyObject_CallFunction(ctor, "OOOO", key.get(), impl.get(), pairs.get(), cap_list.get()));
  if (!capsule) return nullptr;
  PyRef rc(PyObject_CallNoArgs(inc));
  if (!rc) return nullptr;
  const long long held = PyLong_AsLongLong(rc.get());
  if (held == -1 && PyErr_Occurred()) return nullptr;
  if (held < 0) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return nullptr;
  }
  PyRef done(PyObject_CallMethod(capsule.get(), "schedule", nullptr));
  if (!done) {
    PyObject* exc = PyErr_GetRaisedException();
    PyObject* dec = nullptr;
    if (module_step(st, st->name_terminator_dec, dec)) {
      PyRef ignored(PyObject_CallNoArgs(dec));
    }
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return nullptr;
  }
  terminator_hand_over_hold();
  return handle.release();
}

PyObject* schedule(InterpState* st, PyObject* fn, PyObject* cown_seq, PyObject* captures, bool validate) {
  if (st->loading_bindings) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot schedule behaviors while a worker loads the script's bindings (module-level @when "
                    "statements run only on the main interpreter)");
    return nullptr;
  }
  if (PyUnicode_Check(fn)) {
    PyErr_SetString(
        PyExc_TypeError,
        "whencall() takes a behavior function, not a thunk name; scheduling by name was removed in bocpy 0.11.0");
    return nullptr;
  }
  if (!PyFunction_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "a behavior must be a Python function, got %s", Py_TYPE(fn)->tp_name);
    return nullptr;
  }
  CownArgs args;
  bool any_pinned = false;
  if (!parse_cown_args(st, cown_seq, args, any_pinned)) return nullptr;

  PyObject* defaults = PyFunction_GetDefaults(fn);  // borrowed, may be nullptr
  bool captures_apply = true;
  if (validate) {
    if (defaults == Py_None) defaults = nullptr;
    if (!check_shape(fn, args.size(), defaults, captures_apply)) return nullptr;
  }
  // @when starts a runtime on first use; whencall requires one (bocpy §1.4).
  if (validate ? !ensure_runtime() : BocpyRuntime::get() == nullptr) {
    if (!PyErr_Occurred()) {
      PyErr_SetString(PyExc_RuntimeError,
                      "cannot schedule behavior: bocpy runtime is not running. Call bocpy.start() first (or use "
                      "@when, which starts it).");
    }
    return nullptr;
  }
  const std::int64_t code_id = register_behavior_code(st, fn);
  if (code_id < 0) return nullptr;

  PyBehavior::Spec spec;
  spec.code_id = static_cast<std::uint64_t>(code_id);
  // Captures are snapshots taken now, like bocpy's capture cowns.
  PyRef caps;
  if (validate) {
    caps.reset((captures_apply && defaults != nullptr) ? Py_NewRef(defaults) : PyTuple_New(0));
  } else {
    caps.reset(captures != nullptr && captures != Py_None ? PySequence_Tuple(captures) : PyTuple_New(0));
  }
  if (!caps || !encode_captures(caps.get(), any_pinned, spec)) return nullptr;
  PyRef closure(closure_snapshot(fn));
  if (!closure) return nullptr;
  if (closure.get() != Py_None && !parcel_encode(closure.get(), spec.closure)) return nullptr;
  spec.args = std::move(args);
  spec.result = PyCown::make(Py_None);
  if (!spec.result) return nullptr;

  if (!st->steps_known || st->steps_replaced) {
    PyObject* ctor = nullptr;
    PyObject* inc = nullptr;
    if (!module_step(st, st->name_behavior_capsule, ctor) || !module_step(st, st->name_terminator_inc, inc)) {
      return nullptr;
    }
    st->steps_replaced = ctor != reinterpret_cast<PyObject*>(st->behavior_capsule_type) || inc != st->terminator_inc_fn;
    st->steps_known = st->module_dict_watcher >= 0;
    if (st->steps_replaced) return schedule_through_module(st, spec, caps.get(), closure.get(), ctor, inc);
  }
  // The module's own steps, inline: terminator_inc refuses once closed; the
  // core counts the behavior in flight from the moment it is scheduled.
  if (terminator_closed()) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return nullptr;
  }
  Ref<PyCown> result = spec.result;
  if (!submit_behavior(std::move(spec))) return nullptr;
  return new_cown_handle(st, result);
}

// ---- the @when decorator object

struct WhenObject {
  PyObject_HEAD PyObject* cowns;  // tuple
  vectorcallfunc vectorcall;      // when_vectorcall: applying the decorator builds no args tuple
};

void when_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  Py_CLEAR(reinterpret_cast<WhenObject*>(self)->cowns);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyObject* when_vectorcall(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  if (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) > 0) {
    PyErr_SetString(PyExc_TypeError, "@when(...) decorates a function and takes no keyword arguments");
    return nullptr;
  }
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs != 1) {
    PyErr_Format(PyExc_TypeError, "when expected 1 argument, got %zd", nargs);
    return nullptr;
  }
  InterpState* st = current_state();
  return schedule(st, args[0], reinterpret_cast<WhenObject*>(self)->cowns, nullptr, true);
}

PyMemberDef when_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(WhenObject, vectorcall), Py_READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot when_slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(when_dealloc)},
                            {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
                            {Py_tp_members, when_members},
                            {Py_tp_doc, const_cast<char*>("The decorator returned by when(*cowns).")},
                            {0, nullptr}};
PyType_Spec when_spec = {"bocpy._core._When", sizeof(WhenObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
                         when_slots};

PyObject* core_when(PyObject* module, PyObject* args) {
  InterpState* st = core_state(module);
  auto* w = PyObject_New(WhenObject, st->when_type);
  if (w == nullptr) return nullptr;
  w->cowns = Py_NewRef(args);
  w->vectorcall = when_vectorcall;
  return reinterpret_cast<PyObject*>(w);
}

PyObject* core_whencall(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "whencall(func, args, captures) takes exactly 3 arguments");
    return nullptr;
  }
  return schedule(core_state(module), args[0], args[1], args[2], false);
}

PyMethodDef schedule_methods[] = {
    {"when", reinterpret_cast<PyCFunction>(core_when), METH_VARARGS,
     "when(*cowns): decorator scheduling the function as a behavior over the cowns; returns its result Cown."},
    {"whencall", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(core_whencall)), METH_FASTCALL,
     "whencall(func, args, captures) -> Cown"},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_schedule_functions(PyObject* module, InterpState* state) {
  state->when_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &when_spec, nullptr));
  if (state->when_type == nullptr) return -1;
  return PyModule_AddFunctions(module, schedule_methods);
}

int watch_whencall_steps(PyObject* module, InterpState* state) {
  state->terminator_inc_fn = PyObject_GetAttrString(module, "terminator_inc");
  state->name_behavior_capsule = PyUnicode_InternFromString("BehaviorCapsule");
  state->name_terminator_inc = PyUnicode_InternFromString("terminator_inc");
  state->name_terminator_dec = PyUnicode_InternFromString("terminator_dec");
  if (state->terminator_inc_fn == nullptr || state->name_behavior_capsule == nullptr ||
      state->name_terminator_inc == nullptr || state->name_terminator_dec == nullptr) {
    return -1;
  }
  // Without a free watcher slot (CPython has 8 per interpreter) @when simply
  // looks the steps up every time.
  const int id = PyDict_AddWatcher(module_dict_changed);
  if (id < 0 || PyDict_Watch(id, PyModule_GetDict(module)) < 0) {
    PyErr_Clear();
    if (id >= 0) (void)PyDict_ClearWatcher(id);
    return 0;
  }
  state->module_dict_watcher = id;
  return 0;
}

void unwatch_whencall_steps(InterpState* state) {
  if (state->module_dict_watcher >= 0 && PyDict_ClearWatcher(state->module_dict_watcher) < 0) PyErr_Clear();
  state->module_dict_watcher = -1;
  Py_CLEAR(state->terminator_inc_fn);
  Py_CLEAR(state->name_behavior_capsule);
  Py_CLEAR(state->name_terminator_inc);
  Py_CLEAR(state->name_terminator_dec);
}

}  // namespace boc::py
