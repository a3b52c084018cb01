// notice_write / notice_update / notice_delete / notice_seed / noticeboard /
// notice_read: the Python face of the noticeboard, as bocpy 0.13.0 has it.
#include <chrono>
#include <cstring>

#include "bocpy_runtime.h"
#include "noticeboard.h"
#include "py_behavior.h"
#include "py_compat.h"
#include "py_cown.h"

namespace boc::py {
namespace {

// The calling thread's frozen view: inside a behavior, the first read fixes
// it for the rest of the behavior (own writes included).
struct SnapshotCache {
  std::int64_t interp = -1;
  std::uint64_t version = 0;
  PyObject* proxy = nullptr;  // owned by interpreter `interp`
  bool checked = false;       // already compared with the board in this behavior
};

thread_local SnapshotCache tl_cache;

PyObject* build_snapshot(bool as_proxy) {
  std::uint64_t version = 0;
  auto entries = Noticeboard::instance().snapshot(&version);
  PyObject* dict = PyDict_New();
  if (dict == nullptr) return nullptr;
  for (auto& [key, parcel] : entries) {
    PyObject* value = parcel_decode(parcel);
    if (value == nullptr || PyDict_SetItemString(dict, key.c_str(), value) < 0) {
      Py_XDECREF(value);
      Py_DECREF(dict);
      return nullptr;
    }
    Py_DECREF(value);
  }
  if (!as_proxy) return dict;
  PyObject* proxy = PyDictProxy_New(dict);
  Py_DECREF(dict);
  if (proxy == nullptr) return nullptr;
  SnapshotCache& c = tl_cache;
  if (c.proxy != nullptr) decref_in_interp(c.interp, c.proxy);
  c.interp = current_interp_id();
  c.version = version;
  c.proxy = Py_NewRef(proxy);
  c.checked = true;
  return proxy;
}

// The view noticeboard() returns (new reference).
PyObject* current_view() {
  SnapshotCache& c = tl_cache;
  const bool same_interp = c.proxy != nullptr && c.interp == current_interp_id();
  if (same_interp && c.checked && in_behavior_body()) return Py_NewRef(c.proxy);
  if (same_interp && c.version == Noticeboard::instance().version()) {
    c.checked = true;
    return Py_NewRef(c.proxy);
  }
  return build_snapshot(true);
}

// A write inside a behavior must not become visible to that behavior: freeze
// its view first if it has not read yet.
bool freeze_view_before_write() {
  if (!in_behavior_body()) return true;
  PyObject* v = current_view();
  if (v == nullptr) return false;
  Py_DECREF(v);
  return true;
}

bool require_runtime_on_primary(const char* message) {
  if (in_main_interpreter() && BocpyRuntime::get() == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, message);
    return false;
  }
  return true;
}

PyObject* nb_write(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "notice_write(key, value) takes exactly 2 arguments");
    return nullptr;
  }
  std::string key;
  if (!notice_key(args[0], key)) return nullptr;
  if (!require_runtime_on_primary("cannot write to the noticeboard before the runtime is started")) return nullptr;
  Parcel value;
  if (!parcel_encode(args[1], value)) return nullptr;
  if (!freeze_view_before_write()) return nullptr;
  Noticeboard::instance().post_write(std::move(key), std::move(value));
  Py_RETURN_NONE;
}

PyObject* nb_update(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"key", "fn", "default", nullptr};
  PyObject* key_obj = nullptr;
  PyObject* fn = nullptr;
  PyObject* def = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:notice_update", const_cast<char**>(kwlist), &key_obj, &fn,
                                   &def)) {
    return nullptr;
  }
  std::string key;
  if (!notice_key(key_obj, key)) return nullptr;
  if (!PyCallable_Check(fn)) {
    PyErr_SetString(PyExc_TypeError, "notice_update fn must be callable");
    return nullptr;
  }
  if (!require_runtime_on_primary("cannot update the noticeboard before the runtime is started")) return nullptr;
  Parcel fn_parcel;
  Parcel def_parcel;
  if (!parcel_encode(fn, fn_parcel) || !parcel_encode(def, def_parcel)) return nullptr;
  if (!freeze_view_before_write()) return nullptr;
  Noticeboard::instance().post_update(std::move(key), std::move(fn_parcel), std::move(def_parcel));
  Py_RETURN_NONE;
}

PyObject* nb_delete(PyObject*, PyObject* arg) {
  std::string key;
  if (!notice_key(arg, key)) return nullptr;
  if (!require_runtime_on_primary("cannot delete from the noticeboard before the runtime is started")) return nullptr;
  if (!freeze_view_before_write()) return nullptr;
  Noticeboard::instance().post_delete(std::move(key));
  Py_RETURN_NONE;
}

PyObject* nb_seed(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "notice_seed(key, value) takes exactly 2 arguments");
    return nullptr;
  }
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "notice_seed may only be called from the primary interpreter");
    return nullptr;
  }
  std::string key;
  if (!notice_key(args[0], key)) return nullptr;
  if (BocpyRuntime::get() == nullptr) {
    PyObject* mod = PyImport_ImportModule("bocpy.behaviors");
    PyObject* r = mod != nullptr ? PyObject_CallMethod(mod, "_auto_start", nullptr) : nullptr;
    Py_XDECREF(mod);
    if (r == nullptr) return nullptr;
    Py_DECREF(r);
  }
  Parcel value;
  if (!parcel_encode(args[1], value)) return nullptr;
  if (!Noticeboard::instance().seed(key, std::move(value))) return nullptr;
  clear_noticeboard_cache();  // our own next read sees the value just written
  Py_RETURN_NONE;
}

PyObject* nb_view(PyObject*, PyObject*) { return current_view(); }

PyObject* nb_read(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"key", "default", nullptr};
  PyObject* key_obj = nullptr;
  PyObject* def = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:notice_read", const_cast<char**>(kwlist), &key_obj, &def)) {
    return nullptr;
  }
  std::string key;
  if (!notice_key(key_obj, key)) return nullptr;
  PyObject* view = current_view();
  if (view == nullptr) return nullptr;
  PyObject* value = PyObject_CallMethod(view, "get", "OO", key_obj, def);
  Py_DECREF(view);
  return value;
}

// Plain dict of the board after every posted mutation applied
// (wait/quiesce(noticeboard=True)).
// Waits, with the GIL released (an update's fn needs it), until every posted
// mutation has been applied.
void flush_posted() {
  Py_BEGIN_ALLOW_THREADS Noticeboard::instance().flush();
  Py_END_ALLOW_THREADS
}

PyObject* nb_flushed_snapshot(PyObject*, PyObject*) {
  flush_posted();
  return build_snapshot(false);
}

// bocpy's direct-mutation entry points: only the mutator thread may call
// them (an update fn running there), as only it orders writes.
bool require_mutator_thread(const char* op) {
  if (Noticeboard::instance().on_mutator_thread()) return true;
  PyErr_Format(PyExc_RuntimeError, "%s must be called from the noticeboard thread", op);
  return false;
}

PyObject* nb_write_direct(PyObject*, PyObject* args) {
  PyObject* key_obj = nullptr;
  PyObject* value = nullptr;
  PyObject* pins = nullptr;
  if (!PyArg_ParseTuple(args, "OO|O:noticeboard_write_direct", &key_obj, &value, &pins)) return nullptr;
  if (!require_mutator_thread("noticeboard_write_direct")) return nullptr;
  std::string key;
  if (!notice_key(key_obj, key)) return nullptr;
  Parcel parcel;
  if (!parcel_encode(value, parcel)) return nullptr;
  if (!Noticeboard::instance().write_direct(key, std::move(parcel))) {
    PyErr_Format(PyExc_RuntimeError, "Noticeboard is full (max %zu)", kNoticeboardCapacity);
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* nb_delete_direct(PyObject*, PyObject* args) {
  PyObject* key_obj = nullptr;
  if (!PyArg_ParseTuple(args, "O:noticeboard_delete", &key_obj)) return nullptr;
  if (!require_mutator_thread("noticeboard_delete")) return nullptr;
  std::string key;
  if (!notice_key(key_obj, key)) return nullptr;
  Noticeboard::instance().delete_direct(key);
  Py_RETURN_NONE;
}

// Main interpreter: applies what is posted, then empties the table (tests
// and programs reset it between phases).
PyObject* nb_clear(PyObject*, PyObject*) {
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "noticeboard_clear must be called from the primary interpreter");
    return nullptr;
  }
  flush_posted();
  Noticeboard::instance().clear();
  rearm_noticeboard_cache();
  drain_deferred_decrefs();
  Py_RETURN_NONE;
}

// _noticeboard_teardown(timeout=None) -> the final entries: with a timeout, a mutation still
// running after it (a slow notice_update fn) raises and leaves the board up,
// so a later wait() can finish the teardown.
PyObject* nb_teardown(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs > 0 && args[0] != Py_None) {
    const double seconds = PyFloat_AsDouble(args[0]);
    if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
    bool idle = true;
    if (seconds == seconds && seconds >= 0 && seconds <= 1e9) {
      const auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
      Py_BEGIN_ALLOW_THREADS idle = Noticeboard::instance().flush_for(timeout);
      Py_END_ALLOW_THREADS
    }
    if (!idle) {
      PyErr_Format(PyExc_RuntimeError,
                   "noticeboard thread did not shut down within timeout=%R; a notice_update function is still "
                   "running. Call wait() again to finish the teardown.",
                   args[0]);
      return nullptr;
    }
  } else {
    flush_posted();
  }
  PyObject* final_board = build_snapshot(false);
  if (final_board == nullptr) return nullptr;
  teardown_noticeboard();
  return final_board;
}

PyMethodDef nb_methods[] = {
    {"notice_write", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(nb_write)), METH_FASTCALL,
     "notice_write(key, value): post a write (fire-and-forget)."},
    {"notice_update", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(nb_update)),
     METH_VARARGS | METH_KEYWORDS, "notice_update(key, fn, default=None): post key = fn(current or default)."},
    {"notice_delete", nb_delete, METH_O, "notice_delete(key): post a delete."},
    {"notice_seed", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(nb_seed)), METH_FASTCALL,
     "notice_seed(key, value): synchronous write from the main interpreter."},
    {"noticeboard", nb_view, METH_NOARGS, "Read-only snapshot of the noticeboard."},
    {"notice_read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(nb_read)), METH_VARARGS | METH_KEYWORDS,
     "notice_read(key, default=None)"},
    {"_noticeboard_snapshot", nb_flushed_snapshot, METH_NOARGS, nullptr},
    {"noticeboard_snapshot", nb_flushed_snapshot, METH_NOARGS,
     "noticeboard_snapshot(): every posted mutation applied, then a dict of the entries."},
    {"noticeboard_clear", nb_clear, METH_NOARGS, "noticeboard_clear(): drop every entry (main interpreter)."},
    {"noticeboard_write_direct", nb_write_direct, METH_VARARGS,
     "noticeboard_write_direct(key, value, pins=None): noticeboard thread only."},
    {"noticeboard_delete", nb_delete_direct, METH_VARARGS, "noticeboard_delete(key): noticeboard thread only."},
    {"_noticeboard_teardown", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(nb_teardown)), METH_FASTCALL,
     nullptr},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

bool notice_key(PyObject* obj, std::string& out) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "noticeboard key must be a str, not %s", Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
  if (s == nullptr) return false;
  if (std::memchr(s, '\0', static_cast<std::size_t>(n)) != nullptr) {
    PyErr_SetString(PyExc_ValueError, "noticeboard key must not contain NUL characters");
    return false;
  }
  if (static_cast<std::size_t>(n) > kNoticeKeyMaxBytes) {
    PyErr_Format(PyExc_ValueError, "noticeboard key is %zd UTF-8 bytes; the maximum is %zu", n, kNoticeKeyMaxBytes);
    return false;
  }
  out.assign(s, static_cast<std::size_t>(n));
  return true;
}

void teardown_noticeboard() {
  Py_BEGIN_ALLOW_THREADS Noticeboard::instance().stop();
  Py_END_ALLOW_THREADS Noticeboard::instance().clear();
  clear_noticeboard_cache();
  drain_deferred_decrefs();
}

void rearm_noticeboard_cache() noexcept { tl_cache.checked = false; }

void clear_noticeboard_cache() noexcept {
  SnapshotCache& c = tl_cache;
  if (c.proxy != nullptr) decref_in_interp(c.interp, c.proxy);
  c = SnapshotCache{};
}

int add_noticeboard_functions(PyObject* module) { return PyModule_AddFunctions(module, nb_methods); }

}  // namespace boc::py
