// native_class.h: the memoised verdict behind native plain-instance parcels.
#include "native_class.h"

#include <atomic>
#include <cstdint>

#include "class_cache.h"
#include "pickle_fallback.h"
#include "plain_class.h"

namespace boc::py::detail {
namespace {

// Bumped by any change to a watched dict, in any interpreter: every thread's
// remembered verdicts are then recomputed once. Changes to the watched dicts
// (imports, module globals, copyreg registrations) are rare next to encodes.
std::atomic<std::uint64_t> g_dict_epoch{1};

int on_watched_dict(PyDict_WatchEvent, PyObject*, PyObject*, PyObject*) noexcept {
  // Relaxed: the dict change and the encoder that reads the epoch run under
  // the same interpreter's GIL, which orders them.
  g_dict_epoch.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

struct Verdict {
  std::int64_t interp = -1;
  PyTypeObject* type = nullptr;
  unsigned int tag = 0;
  std::uint64_t epoch = 0;
  PyObject* module = nullptr;  // borrowed from the class dict while `tag` holds
  bool native = false;
};
constexpr std::size_t kVerdicts = 32;  // a power of two
thread_local Verdict t_verdicts[kVerdicts];

// The verdict from scratch (GIL held); -1 with an error on failure.
int compute(PyTypeObject* t, ClassCache* cache, PyObject*& module) {
  module = class_module(t, cache->module_key());  // borrowed
  if (module == nullptr) return 0;
  const int listed = in_dispatch_table(t);
  if (listed < 0) return -1;
  return listed == 0 && class_findable(t, module) ? 1 : 0;
}

// Watches what compute() read, so a change to it makes the verdict stale.
// False when the verdict cannot be watched (it is then not remembered).
bool watch_inputs(ClassCache* cache, PyObject* module) {
  if (cache->dict_watcher() < 0) {
    const int id = PyDict_AddWatcher(on_watched_dict);
    if (id < 0) {
      PyErr_Clear();  // all watcher slots taken: recompute every time
      return false;
    }
    cache->set_dict_watcher(id);
  }
  const int id = cache->dict_watcher();
  PyObject* modules = PyImport_GetModuleDict();                                             // borrowed
  PyObject* mod = modules != nullptr ? PyDict_GetItemWithError(modules, module) : nullptr;  // borrowed
  PyObject* mod_dict = mod != nullptr && PyModule_CheckExact(mod) ? PyModule_GetDict(mod) : nullptr;
  PyObject* table = pickle_dispatch_table();
  const bool ok = mod_dict != nullptr && table != nullptr && PyDict_CheckExact(table) &&
                  PyDict_Watch(id, modules) == 0 && PyDict_Watch(id, mod_dict) == 0 && PyDict_Watch(id, table) == 0;
  Py_XDECREF(table);
  PyErr_Clear();
  return ok;
}

}  // namespace

PyObject* native_class_module(PyTypeObject* t) {
  if (t->tp_version_tag == 0) PyUnstable_Type_AssignVersionTag(t);
  const unsigned int tag = t->tp_version_tag;
  const std::int64_t interp = PyInterpreterState_GetID(PyInterpreterState_Get());
  // Relaxed: see on_watched_dict().
  const std::uint64_t epoch = g_dict_epoch.load(std::memory_order_relaxed);
  const std::size_t slot = type_slot(t, kVerdicts);
  Verdict& v = t_verdicts[slot];
  if (tag != 0 && v.tag == tag && v.type == t && v.interp == interp && v.epoch == epoch) {
    return v.native ? v.module : nullptr;
  }
  ClassCache* cache = class_cache();
  if (cache == nullptr) return nullptr;
  PyObject* module = nullptr;
  const int native = compute(t, cache, module);
  if (native < 0) return nullptr;
  // A dotted qualname also depends on the outer classes: not remembered.
  PyObject* qualname = reinterpret_cast<PyHeapTypeObject*>(t)->ht_qualname;
  const Py_ssize_t dot = qualname != nullptr ? PyUnicode_FindChar(qualname, '.', 0, PY_SSIZE_T_MAX, 1) : -2;
  if (dot == -2) PyErr_Clear();
  const bool simple = dot == -1;
  if (tag != 0 && t->tp_version_tag == tag && module != nullptr && simple && watch_inputs(cache, module)) {
    // The epoch was read before compute(): a change during it is not missed.
    v = Verdict{interp, t, tag, epoch, module, native == 1};
  }
  return native == 1 ? module : nullptr;
}

}  // namespace boc::py::detail
