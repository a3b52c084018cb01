#include "behavior_capsule.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "behavior_code.h"
#include "bocpy_runtime.h"
#include "module_cown.h"
#include "py_compat.h"
#include "py_cown.h"
#include "py_ref.h"

namespace boc::py {
namespace {

constexpr std::uint64_t kUnknownCode = std::numeric_limits<std::uint64_t>::max();

struct BehaviorCapsuleObject {
  PyObject_HEAD PyBehavior::Spec* spec;  // owned; nullptr once scheduled
  PyObject* thunk;                       // the key it was built with (for messages)
  // A behavior taken back from the runtime at stop (scheduler_drain_all_queues):
  // it holds its cowns and counts in flight until release_all() ends it.
  Behavior* orphan;
  Runtime* orphan_runtime;
};

constexpr const char* kOrphanDropped = "behavior dropped by stop(): the runtime stopped before it ran";

BehaviorCapsuleObject* self_of(PyObject* self) { return reinterpret_cast<BehaviorCapsuleObject*>(self); }

// bocpy's (group_id, cown) pairs: a positive id is one cown parameter, a run
// of equal negative ids is one list parameter (bocpy/behaviors.py whencall).
bool parse_group_args(InterpState* st, PyObject* seq, CownArgs& out, bool& any_pinned) {
  PyRef fast(PySequence_Fast(seq, "BehaviorCapsule args must be a sequence of (group_id, cown) pairs"));
  if (!fast) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.get());
  long previous = 0;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fast.get(), i);
    int group_id = 0;
    PyObject* handle = nullptr;
    if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "iO", &group_id, &handle)) {
      if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Format(PyExc_TypeError, "BehaviorCapsule args[%zd] must be a (group_id, cown) pair", i);
      }
      return false;
    }
    PyCown* c = cown_of(st, handle);
    if (c == nullptr) {
      PyErr_Format(PyExc_TypeError, "BehaviorCapsule args[%zd]: expected a cown, got %s", i, Py_TYPE(handle)->tp_name);
      return false;
    }
    any_pinned = any_pinned || c->pinned();
    if (group_id < 0 && group_id == previous && !out.empty()) {
      out.back().add(c);
    } else if (group_id < 0) {
      out.push_back(CownArg::list());
      out.back().add(c);
    } else {
      out.push_back(CownArg::single(c));
    }
    previous = group_id;
  }
  return true;
}

PyObject* capsule_new(PyTypeObject* tp, PyObject* args, PyObject* kwds) {
  static const char* kwlist[] = {"thunk", "result", "args", "captures", "closure", nullptr};
  PyObject* thunk = nullptr;
  PyObject* result = nullptr;
  PyObject* cown_args = nullptr;
  PyObject* captures = nullptr;
  PyObject* closure = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO|O:BehaviorCapsule", const_cast<char**>(kwlist), &thunk, &result,
                                   &cown_args, &captures, &closure)) {
    return nullptr;
  }
  InterpState* st = current_state();
  auto spec = std::make_unique<PyBehavior::Spec>();
  // A registry key (bocpy.behaviors.register_behavior); one that names no
  // body is refused by schedule(), as bocpy's worker refuses an unknown thunk.
  if (PyUnicode_Check(thunk)) {
    Py_ssize_t n = 0;
    const char* k = PyUnicode_AsUTF8AndSize(thunk, &n);
    if (k == nullptr) return nullptr;
    if (registry_find(std::string_view(k, static_cast<std::size_t>(n)), &spec->code_id) == nullptr) {
      spec->code_id = kUnknownCode;
    }
  } else if (PyFunction_Check(thunk)) {
    const std::int64_t id = register_behavior_code(st, thunk);
    if (id < 0) return nullptr;
    spec->code_id = static_cast<std::uint64_t>(id);
  } else {
    PyErr_Format(PyExc_TypeError, "BehaviorCapsule thunk must be a behavior key (str) or a function, got %s",
                 Py_TYPE(thunk)->tp_name);
    return nullptr;
  }
  PyCown* r = cown_of(st, result);
  if (r == nullptr) {
    PyErr_Format(PyExc_TypeError, "BehaviorCapsule result must be a cown, got %s", Py_TYPE(result)->tp_name);
    return nullptr;
  }
  if (r->pinned()) {
    PyErr_SetString(PyExc_TypeError, "BehaviorCapsule result must be a regular cown, not a PinnedCown");
    return nullptr;
  }
  spec->result = Ref<PyCown>(r);
  bool any_pinned = false;
  if (!parse_group_args(st, cown_args, spec->args, any_pinned)) return nullptr;
  PyRef caps(PySequence_Tuple(captures));
  if (!caps || !encode_captures(caps.get(), any_pinned, *spec)) return nullptr;
  if (closure != Py_None) {
    if (!PyTuple_Check(closure)) {
      PyErr_SetString(PyExc_TypeError, "BehaviorCapsule closure must be a tuple of cell values or None");
      return nullptr;
    }
    if (!parcel_encode(closure, spec->closure)) return nullptr;
  }
  PyObject* self = tp->tp_alloc(tp, 0);
  if (self == nullptr) return nullptr;
  self_of(self)->spec = spec.release();
  self_of(self)->thunk = Py_NewRef(thunk);
  return self;
}

// An orphan nobody released is failed and ended here, so its cowns are not
// held for ever (and shutdown, which waits for it, can finish).
void end_orphan(BehaviorCapsuleObject* o, bool mark) noexcept {
  Behavior* b = std::exchange(o->orphan, nullptr);
  if (b == nullptr) return;
  if (mark) {
    try {
      b->cancel(kOrphanDropped);
    } catch (...) {
      // The result stays as it was; the cowns must still be handed on.
    }
  }
  o->orphan_runtime->complete_unrun(b);
}

void capsule_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  end_orphan(self_of(self), true);
  delete self_of(self)->spec;
  Py_CLEAR(self_of(self)->thunk);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyBehavior::Spec* unscheduled(PyObject* self, const char* op) {
  PyBehavior::Spec* spec = self_of(self)->spec;
  if (spec == nullptr) {
    PyErr_Format(PyExc_RuntimeError, "BehaviorCapsule.%s(): this behavior was already scheduled", op);
  }
  return spec;
}

PyObject* capsule_schedule(PyObject* self, PyObject*) {
  PyBehavior::Spec* spec = unscheduled(self, "schedule");
  if (spec == nullptr) return nullptr;
  if (BocpyRuntime::get() == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "cannot schedule behavior: bocpy runtime is not running");
    return nullptr;
  }
  if (spec->code_id == kUnknownCode) {
    PyErr_Format(PyExc_RuntimeError, "cannot schedule behavior: no behavior is registered under %R",
                 self_of(self)->thunk);
    return nullptr;
  }
  std::unique_ptr<PyBehavior::Spec> owned(std::exchange(self_of(self)->spec, nullptr));
  if (!submit_behavior(std::move(*owned))) return nullptr;
  Py_RETURN_NONE;
}

// The result cown's outcome without running the body: bocpy's mark for a
// behavior dropped at stop(), the exception flag set as a raising body sets it.
PyObject* capsule_set_drop_exception(PyObject* self, PyObject* exc) {
  if (!PyExceptionInstance_Check(exc)) {
    PyErr_Format(PyExc_TypeError, "set_drop_exception() takes an exception instance, got %s", Py_TYPE(exc)->tp_name);
    return nullptr;
  }
  PyCown* result = nullptr;
  if (Behavior* b = self_of(self)->orphan) {
    auto* pb = dynamic_cast<PyBehavior*>(b);
    if (pb == nullptr) {  // a C++ host's behavior: its own failure path, with the message
      PyRef text(PyObject_Str(exc));
      if (!text) return nullptr;
      b->cancel(utf8_of(text.get()));
      Py_RETURN_NONE;
    }
    result = pb->result();  // the orphan holds it: no interpreter owns it
  } else {
    PyBehavior::Spec* spec = unscheduled(self, "set_drop_exception");
    if (spec == nullptr) return nullptr;
    result = spec->result.get();
  }
  if (result->owned_here()) {
    if (!result->set_value(exc) || !result->set_exception_flag(true)) return nullptr;
    Py_RETURN_NONE;
  }
  if (result->owner() != kNoOwner) {
    PyErr_SetString(PyExc_RuntimeError, "set_drop_exception(): the result cown is held by another interpreter");
    return nullptr;
  }
  result->store_result(exc, true);
  Py_RETURN_NONE;
}

// An orphan's cowns go to their successors (which may become runnable: the
// next scheduler_drain_all_queues() round takes pinned ones). An unscheduled
// behavior has acquired nothing, so there is nothing to hand on.
PyObject* capsule_release_all(PyObject* self, PyObject*) {
  if (self_of(self)->orphan != nullptr) {
    end_orphan(self_of(self), false);
    Py_RETURN_NONE;
  }
  if (unscheduled(self, "release_all") == nullptr) return nullptr;
  Py_RETURN_NONE;
}

PyObject* capsule_repr(PyObject* self) {
  const BehaviorCapsuleObject* o = self_of(self);
  return PyUnicode_FromFormat("<BehaviorCapsule %R%s>", o->thunk,
                              o->orphan != nullptr ? " (orphaned by stop())"
                              : o->spec == nullptr ? " (scheduled)"
                                                   : "");
}

PyMethodDef capsule_methods[] = {
    {"schedule", capsule_schedule, METH_NOARGS, "Hand the behavior to the running runtime (once)."},
    {"set_drop_exception", capsule_set_drop_exception, METH_O,
     "set_drop_exception(exc): leave exc on the result cown, flagged as an exception, without running the body."},
    {"release_all", capsule_release_all, METH_NOARGS,
     "Release the cowns the behavior holds (an unscheduled one holds none)."},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot capsule_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(capsule_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(capsule_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(capsule_repr)},
    {Py_tp_methods, capsule_methods},
    {Py_tp_doc, const_cast<char*>("BehaviorCapsule(thunk, result, args, captures, closure=None): a behavior built "
                                  "but not yet scheduled; args are bocpy's (group_id, cown) pairs.")},
    {0, nullptr}};
PyType_Spec capsule_spec = {"bocpy._core.BehaviorCapsule", sizeof(BehaviorCapsuleObject), 0, Py_TPFLAGS_DEFAULT,
                            capsule_slots};

// bocpy's scheduler_drain_all_queues(): the behaviors that will never run
// because the runtime is stopping. Workers finish their own queues before
// they are joined (runtime/core/runtime.cpp, shutdown), so here those are the
// runnable pinned behaviors nobody will pump. [] while the runtime runs.
PyObject* core_scheduler_drain_all_queues(PyObject* module, PyObject*) {
  InterpState* st = core_state(module);
  PyRef out(PyList_New(0));
  BocpyRuntime* rt = BocpyRuntime::get();
  if (!out || rt == nullptr || !in_main_interpreter()) return out.release();
  while (Behavior* b = rt->runtime().take_pinned_orphan()) {
    PyObject* o = st->behavior_capsule_type->tp_alloc(st->behavior_capsule_type, 0);
    if (o == nullptr) {
      b->cancel(kOrphanDropped);
      rt->runtime().complete_unrun(b);
      return nullptr;
    }
    self_of(o)->orphan = b;
    self_of(o)->orphan_runtime = &rt->runtime();
    self_of(o)->thunk = PyUnicode_FromString("<orphan>");
    if (self_of(o)->thunk == nullptr || PyList_Append(out.get(), o) < 0) {
      Py_DECREF(o);  // ends the orphan
      return nullptr;
    }
    Py_DECREF(o);
  }
  return out.release();
}

PyMethodDef drain_methods[] = {
    {"scheduler_drain_all_queues", core_scheduler_drain_all_queues, METH_NOARGS,
     "Once stop() began: BehaviorCapsules for the runnable behaviors nobody will run (each must get "
     "set_drop_exception and release_all)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

bool encode_captures(PyObject* caps, bool any_pinned, PyBehavior::Spec& spec) {
  if (PyTuple_GET_SIZE(caps) == 0 || parcel_encode(caps, spec.captures)) return true;
  if (!any_pinned || !in_main_interpreter()) return false;
  PyErr_Clear();
  spec.raw_captures = MainInterpRef(Py_NewRef(caps));
  return true;
}

bool submit_behavior(PyBehavior::Spec&& spec) {
  if (!in_behavior_body()) {
    for (const CownArg& a : spec.args) {
      for (const auto& c : a.cowns()) {
        if (!c->pinned() && c->owned_here() && !c->release()) return false;
      }
    }
  }
  BocpyRuntime* rt = BocpyRuntime::get();
  if (rt == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return false;
  }
  try {
    rt->runtime().schedule(PyBehavior::create(std::move(spec)));
  } catch (const PumpError&) {
    PyErr_SetString(PyExc_RuntimeError, "runtime is shutting down");
    return false;
  }
  return true;
}

int add_behavior_capsule_type(PyObject* module, InterpState* st) {
  st->behavior_capsule_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, &capsule_spec, nullptr));
  if (st->behavior_capsule_type == nullptr) return -1;
  if (PyModule_AddObjectRef(module, "BehaviorCapsule", reinterpret_cast<PyObject*>(st->behavior_capsule_type)) < 0) {
    return -1;
  }
  return PyModule_AddFunctions(module, drain_methods);
}

}  // namespace boc::py
