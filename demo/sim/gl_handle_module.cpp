#include "sim/gl_handle_module.h"

#include <cstdint>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>
#include <vector>

namespace boc::demo {

// One sink as seen from Python. All GlBuffer objects of every interpreter that stand for the
// same handle share it. `sink` is written by GlHandle (main thread) and read by GlBuffer
// methods, which only ever run on that same thread (they refuse anywhere else).
struct GlSlot {
  InstanceSink* sink = nullptr;
  std::thread::id owner;    // the thread that may use it (the GL thread)
  std::uint64_t token = 0;  // what a pickled GlBuffer carries
  std::vector<float> scratch;
};

}  // namespace boc::demo

namespace {

using boc::demo::GlSlot;

constexpr const char* kWrongThread = "GL handle can only be used on the main thread / main interpreter";
constexpr const char* kDetached = "GL handle is detached: the instance buffer it wrote to is gone";

// token -> slot, so a GlBuffer can be rebuilt from its pickle in any interpreter.
struct SlotRegistry {
  std::mutex mu;
  std::uint64_t next = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<GlSlot>> slots;
};

SlotRegistry& registry() {
  static auto* r = new SlotRegistry();  // never destroyed: may be used during exit
  return *r;
}

std::shared_ptr<GlSlot> find_slot(std::uint64_t token) {
  SlotRegistry& r = registry();
  std::lock_guard lock(r.mu);
  const auto it = r.slots.find(token);
  return it == r.slots.end() ? nullptr : it->second.lock();
}

struct ModuleState {
  PyObject* gl_buffer_type = nullptr;
};

struct GlBufferObject {
  PyObject_HEAD std::shared_ptr<GlSlot> slot;  // may be empty: a rebuilt handle whose slot is gone
  std::uint64_t token;
};

ModuleState* module_state(PyObject* module) { return static_cast<ModuleState*>(PyModule_GetState(module)); }

GlBufferObject* as_gl(PyObject* self) { return reinterpret_cast<GlBufferObject*>(self); }

PyObject* new_gl_buffer(PyTypeObject* type, std::shared_ptr<GlSlot> slot, std::uint64_t token) {
  PyObject* obj = type->tp_alloc(type, 0);
  if (obj == nullptr) return nullptr;
  GlBufferObject* gl = as_gl(obj);
  new (&gl->slot) std::shared_ptr<GlSlot>(std::move(slot));
  gl->token = token;
  return obj;
}

void gl_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  as_gl(self)->slot.~shared_ptr<GlSlot>();
  type->tp_free(self);
  Py_DECREF(type);  // heap type
}

// The slot if this call may use it; nullptr with RuntimeError otherwise.
GlSlot* usable_slot(PyObject* self) {
  GlSlot* slot = as_gl(self)->slot.get();
  if (PyInterpreterState_Get() != PyInterpreterState_Main() ||
      (slot != nullptr && std::this_thread::get_id() != slot->owner)) {
    PyErr_SetString(PyExc_RuntimeError, kWrongThread);
    return nullptr;
  }
  if (slot == nullptr || slot->sink == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, kDetached);
    return nullptr;
  }
  return slot;
}

// A C-contiguous float64 n x 2 buffer (a Matrix); released on destruction.
class Rows2 {
 public:
  Rows2() = default;
  Rows2(const Rows2&) = delete;
  Rows2& operator=(const Rows2&) = delete;
  ~Rows2() {
    if (held_) PyBuffer_Release(&view_);
  }

  bool get(PyObject* obj, const char* what) {
    if (PyObject_GetBuffer(obj, &view_, PyBUF_ND | PyBUF_FORMAT) < 0) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%s must be an n x 2 Matrix, not %.100s", what, Py_TYPE(obj)->tp_name);
      return false;
    }
    held_ = true;
    const bool is_double = view_.format != nullptr && view_.format[0] == 'd' && view_.format[1] == '\0';
    if (!is_double || view_.ndim != 2 || view_.shape[1] != 2 || view_.shape[0] < 1) {
      PyErr_Format(PyExc_ValueError, "%s must be an n x 2 Matrix of float64", what);
      return false;
    }
    return true;
  }

  std::size_t rows() const { return static_cast<std::size_t>(view_.shape[0]); }
  const double* data() const { return static_cast<const double*>(view_.buf); }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

// Interleaves positions and velocities into slot->scratch (x, y, vx, vy per instance).
bool interleave(GlSlot& slot, PyObject* positions, PyObject* velocities, std::size_t& count) {
  Rows2 p;
  Rows2 v;
  if (!p.get(positions, "positions") || !v.get(velocities, "velocities")) return false;
  if (p.rows() != v.rows()) {
    PyErr_Format(PyExc_ValueError, "positions have %zu rows but velocities have %zu", p.rows(), v.rows());
    return false;
  }
  count = p.rows();
  slot.scratch.resize(count * 4);
  float* out = slot.scratch.data();
  const double* pp = p.data();
  const double* vv = v.data();
  for (std::size_t i = 0; i < count; ++i) {
    out[4 * i + 0] = static_cast<float>(pp[2 * i + 0]);
    out[4 * i + 1] = static_cast<float>(pp[2 * i + 1]);
    out[4 * i + 2] = static_cast<float>(vv[2 * i + 0]);
    out[4 * i + 3] = static_cast<float>(vv[2 * i + 1]);
  }
  return true;
}

PyObject* gl_write(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError, "write(positions, velocities) takes 2 arguments (%zd given)", nargs);
    return nullptr;
  }
  GlSlot* slot = usable_slot(self);
  if (slot == nullptr) return nullptr;
  std::size_t count = 0;
  if (!interleave(*slot, args[0], args[1], count)) return nullptr;
  slot->sink->write_instances(slot->scratch.data(), count);
  Py_RETURN_NONE;
}

PyObject* gl_write_range(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_Format(PyExc_TypeError, "write_range(first, positions, velocities) takes 3 arguments (%zd given)", nargs);
    return nullptr;
  }
  GlSlot* slot = usable_slot(self);
  if (slot == nullptr) return nullptr;
  const Py_ssize_t first = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (first == -1 && PyErr_Occurred()) return nullptr;
  if (first < 0) {
    PyErr_SetString(PyExc_ValueError, "first must be >= 0");
    return nullptr;
  }
  std::size_t count = 0;
  if (!interleave(*slot, args[1], args[2], count)) return nullptr;
  slot->sink->write_instance_range(static_cast<std::size_t>(first), slot->scratch.data(), count);
  Py_RETURN_NONE;
}

PyObject* gl_reduce(PyObject* self, PyObject*) {
  // (boids_gl._rebuild, (token,)): the module is looked up in the unpickling interpreter.
  PyObject* module = PyImport_ImportModule("boids_gl");
  if (module == nullptr) return nullptr;
  PyObject* rebuild = PyObject_GetAttrString(module, "_rebuild");
  Py_DECREF(module);
  if (rebuild == nullptr) return nullptr;
  return Py_BuildValue("N(K)", rebuild, static_cast<unsigned long long>(as_gl(self)->token));
}

PyObject* gl_get_count(PyObject* self, void*) {
  GlSlot* slot = usable_slot(self);
  if (slot == nullptr) return nullptr;
  return PyLong_FromSize_t(slot->sink->instance_count());
}

PyObject* gl_get_attached(PyObject* self, void*) {
  const GlSlot* slot = as_gl(self)->slot.get();
  return PyBool_FromLong(slot != nullptr && slot->sink != nullptr);
}

PyObject* gl_repr(PyObject* self) {
  const GlSlot* slot = as_gl(self)->slot.get();
  return PyUnicode_FromFormat("<boids_gl.GlBuffer token=%llu%s>", static_cast<unsigned long long>(as_gl(self)->token),
                              slot != nullptr && slot->sink != nullptr ? "" : " detached");
}

PyMethodDef gl_methods[] = {
    {"write", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(gl_write)), METH_FASTCALL,
     "write($self, positions, velocities, /)\n--\n\nReplace the instance batch with n boids: positions and "
     "velocities are\nn x 2 Matrix objects (x, y and vx, vy per row). Main thread only."},
    {"write_range", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(gl_write_range)), METH_FASTCALL,
     "write_range($self, first, positions, velocities, /)\n--\n\nOverwrite instances [first, first + n), "
     "growing the batch if needed.\nMain thread only."},
    {"__reduce__", gl_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef gl_getset[] = {
    {"count", gl_get_count, nullptr, "Instances the next draw shows (main thread only).", nullptr},
    {"attached", gl_get_attached, nullptr, "False once the instance buffer has been detached.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot gl_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(gl_dealloc)},
    {Py_tp_methods, gl_methods},
    {Py_tp_getset, gl_getset},
    {Py_tp_repr, reinterpret_cast<void*>(gl_repr)},
    {Py_tp_doc, const_cast<char*>("Handle to the demo's GL instance buffer; created by the demo, used by the "
                                  "pinned write-back.")},
    {0, nullptr}};

PyType_Spec gl_spec = {"boids_gl.GlBuffer", sizeof(GlBufferObject), 0,
                       Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE, gl_slots};

PyObject* mod_rebuild(PyObject* module, PyObject* arg) {
  const unsigned long long token = PyLong_AsUnsignedLongLong(arg);
  if (token == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
  ModuleState* st = module_state(module);
  return new_gl_buffer(reinterpret_cast<PyTypeObject*>(st->gl_buffer_type), find_slot(token), token);
}

PyMethodDef module_methods[] = {
    {"_rebuild", mod_rebuild, METH_O, "Unpickles a GlBuffer (it refuses to work outside the main thread)."},
    {nullptr, nullptr, 0, nullptr}};

int module_exec(PyObject* module) {
  ModuleState* st = module_state(module);
  st->gl_buffer_type = PyType_FromModuleAndSpec(module, &gl_spec, nullptr);
  if (st->gl_buffer_type == nullptr) return -1;
  return PyModule_AddObjectRef(module, "GlBuffer", st->gl_buffer_type);
}

int module_traverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* st = module_state(module);
  Py_VISIT(st->gl_buffer_type);
  return 0;
}

int module_clear(PyObject* module) {
  ModuleState* st = module_state(module);
  Py_CLEAR(st->gl_buffer_type);
  return 0;
}

void module_free(void* module) { module_clear(static_cast<PyObject*>(module)); }

PyModuleDef_Slot module_slots[] = {{Py_mod_exec, reinterpret_cast<void*>(module_exec)},
#ifdef Py_mod_multiple_interpreters
                                   {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
                                   // Methods touch the slot only on its owner thread (they refuse elsewhere) and the
                                   // token registry is locked: nothing here relies on the GIL.
                                   {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
                                   {0, nullptr}};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "boids_gl",     "The boids demo's GL instance buffer, as seen from the simulation script.",
    sizeof(ModuleState),   module_methods, module_slots,
    module_traverse,       module_clear,   module_free};

}  // namespace

extern "C" PyObject* PyInit_boids_gl() { return PyModuleDef_Init(&module_def); }

namespace boc::demo {

GlHandle::GlHandle(InstanceSink* sink) : slot_(std::make_shared<GlSlot>()) {
  slot_->sink = sink;
  slot_->owner = std::this_thread::get_id();
  SlotRegistry& r = registry();
  std::lock_guard lock(r.mu);
  slot_->token = r.next++;
  r.slots.emplace(slot_->token, slot_);
}

GlHandle::~GlHandle() {
  slot_->sink = nullptr;
  {
    SlotRegistry& r = registry();
    std::lock_guard lock(r.mu);
    r.slots.erase(slot_->token);
  }
  if (object_ != nullptr && Py_IsInitialized()) {
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_CLEAR(object_);
    PyGILState_Release(gil);
  }
}

void GlHandle::retarget(InstanceSink* sink) { slot_->sink = sink; }

InstanceSink* GlHandle::sink() const { return slot_->sink; }

PyObject* GlHandle::object() {
  if (object_ == nullptr) {
    PyObject* module = PyImport_ImportModule("boids_gl");
    if (module == nullptr) return nullptr;
    ModuleState* st = module_state(module);
    object_ = new_gl_buffer(reinterpret_cast<PyTypeObject*>(st->gl_buffer_type), slot_, slot_->token);
    Py_DECREF(module);
    if (object_ == nullptr) return nullptr;
  }
  return Py_NewRef(object_);
}

}  // namespace boc::demo
