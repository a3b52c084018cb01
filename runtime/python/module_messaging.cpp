// send / receive / drain / set_tags / TIMEOUT, as bocpy 0.13.0 has them.
#include <chrono>
#include <cmath>

#include "interrupt.h"
#include "messaging.h"
#include "py_compat.h"
#include "py_ref.h"

namespace boc::py {
namespace {

constexpr const char* kTimeoutTag = "__timeout__";

bool tag_of(PyObject* obj, std::string& out) {
  if (!PyUnicode_CheckExact(obj)) {
    PyErr_Format(PyExc_TypeError, "tag must be str, not %s", Py_TYPE(obj)->tp_name);
    return false;
  }
  const char* s = PyUnicode_AsUTF8(obj);
  if (s == nullptr) return false;
  out = s;
  return true;
}

bool tags_of(PyObject* obj, std::vector<std::string>& out) {
  if (PyUnicode_Check(obj)) {
    out.emplace_back();
    return tag_of(obj, out.back());
  }
  if (!PyList_Check(obj) && !PyTuple_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "tags must be a str or a list/tuple of str, not %s", Py_TYPE(obj)->tp_name);
    return false;
  }
  const Py_ssize_t n = PySequence_Size(obj);
  if (n == 0) {
    PyErr_SetString(PyExc_RuntimeError, "tags must contain at least one value");
    return false;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_GetItem(obj, i);
    out.emplace_back();
    const bool ok = item != nullptr && tag_of(item, out.back());
    Py_XDECREF(item);
    if (!ok) return false;
  }
  return true;
}

// A sequence is sent shallowly, element by element, and arrives as a tuple.
bool encode_message(PyObject* contents, Parcel& out) {
  if (PyList_Check(contents) || (PyTuple_Check(contents) && !PyTuple_CheckExact(contents))) {
    PyObject* t = PySequence_Tuple(contents);
    if (t == nullptr) return false;
    const bool ok = parcel_encode(t, out);
    Py_DECREF(t);
    return ok;
  }
  return parcel_encode(contents, out);
}

PyObject* msg_send(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "send(tag, contents) takes exactly 2 arguments");
    return nullptr;
  }
  std::string tag;
  if (!tag_of(args[0], tag)) return nullptr;
  Parcel message;
  if (!encode_message(args[1], message)) return nullptr;
  MessageQueues::SendStatus status;
  Py_BEGIN_ALLOW_THREADS status = MessageQueues::instance().send(tag, std::move(message));
  Py_END_ALLOW_THREADS if (status == MessageQueues::SendStatus::kFull) {
    PyErr_SetString(PyExc_RuntimeError, "Message queue is full");
    return nullptr;
  }
  if (status == MessageQueues::SendStatus::kNoQueue) {
    PyErr_Format(PyExc_KeyError, "No queue available for tag %R: tag capacity exceeded", args[0]);
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* msg_receive(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"tags", "timeout", "after", nullptr};
  PyObject* tags_obj = nullptr;
  double timeout = -1;
  PyObject* after = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|dO:receive", const_cast<char**>(kwlist), &tags_obj, &timeout,
                                   &after)) {
    return nullptr;
  }
  std::vector<std::string> tags;
  if (!tags_of(tags_obj, tags)) return nullptr;
  for (const std::string& t : tags) {
    if (MessageQueues::instance().queue_for(t) < 0) {
      PyErr_Format(PyExc_KeyError, "No queue available for tag '%s': tag capacity exceeded", t.c_str());
      return nullptr;
    }
  }
  if (std::isnan(timeout)) {
    PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
    return nullptr;
  }
  const bool forever = timeout < 0 || timeout > 1e9;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(forever ? 0.0 : timeout));
  Parcel message;
  std::optional<std::size_t> got;
  for (;;) {
    std::chrono::nanoseconds slice = std::chrono::milliseconds(20);  // signals are checked between slices
    if (!forever) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left < slice) slice = std::max<std::chrono::nanoseconds>(left, std::chrono::nanoseconds(0));
    }
    Py_BEGIN_ALLOW_THREADS got = MessageQueues::instance().receive(tags, message, slice);
    Py_END_ALLOW_THREADS if (got) break;
    if (in_main_interpreter() && PyErr_CheckSignals() < 0) return nullptr;
    // Ctrl-C reaches a worker blocked here as its own KeyboardInterrupt.
    if (!in_main_interpreter() && runtime_interrupted()) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      return nullptr;
    }
    if (!forever && std::chrono::steady_clock::now() >= deadline) break;
  }
  if (!got) {
    if (after != Py_None) return PyObject_CallNoArgs(after);
    return Py_BuildValue("(sO)", kTimeoutTag, Py_None);
  }
  PyObject* contents = parcel_decode(message);
  if (contents == nullptr) return nullptr;
  PyObject* tag = PyUnicode_FromStringAndSize(tags[*got].data(), static_cast<Py_ssize_t>(tags[*got].size()));
  if (tag == nullptr) {
    Py_DECREF(contents);
    return nullptr;
  }
  PyObject* out = PyTuple_Pack(2, tag, contents);
  Py_DECREF(tag);
  Py_DECREF(contents);
  return out;
}

PyObject* msg_drain(PyObject*, PyObject* arg) {
  std::vector<std::string> tags;
  // drain([]) names no queue: nothing to do (bocpy's tests).
  if ((PyList_Check(arg) || PyTuple_Check(arg)) && PySequence_Size(arg) == 0) Py_RETURN_NONE;
  if (!tags_of(arg, tags)) return nullptr;
  Py_BEGIN_ALLOW_THREADS MessageQueues::instance().drain(tags);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

PyObject* msg_set_tags(PyObject*, PyObject* arg) {
  if (!in_main_interpreter()) {
    PyErr_SetString(PyExc_RuntimeError, "set_tags() must be called from the main interpreter");
    return nullptr;
  }
  std::vector<std::string> tags;
  if (!PyList_Check(arg) && !PyTuple_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "set_tags() takes a list or tuple of str");
    return nullptr;
  }
  if (PySequence_Size(arg) > static_cast<Py_ssize_t>(kMessageQueues)) {
    PyErr_SetString(PyExc_IndexError, "Only 16 or fewer tags supported");
    return nullptr;
  }
  if (PySequence_Size(arg) > 0 && !tags_of(arg, tags)) return nullptr;
  Py_BEGIN_ALLOW_THREADS MessageQueues::instance().set_tags(tags);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

// One dict per queue bound to a tag, in index order (bocpy's queue_stats()).
// The queues share one mutex (messaging.h), so bocpy's CAS-retry keys count
// operations on the queue that found that lock held.
PyObject* msg_queue_stats(PyObject*, PyObject*) {
  std::vector<MessageQueueStats> stats;
  Py_BEGIN_ALLOW_THREADS stats = MessageQueues::instance().stats();
  Py_END_ALLOW_THREADS using ull = unsigned long long;
  return list_of(stats, [](const MessageQueueStats& q) {
    return Py_BuildValue("{s:n,s:s#,s:K,s:K,s:K,s:K}", "queue_index", static_cast<Py_ssize_t>(q.index), "tag",
                         q.tag.data(), static_cast<Py_ssize_t>(q.tag.size()), "enqueue_cas_retries",
                         static_cast<ull>(q.enqueue_contended), "dequeue_cas_retries",
                         static_cast<ull>(q.dequeue_contended), "pushed_total", static_cast<ull>(q.pushed_total),
                         "popped_total", static_cast<ull>(q.popped_total));
  });
}

PyMethodDef msg_methods[] = {
    {"send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(msg_send)), METH_FASTCALL,
     "send(tag, contents): queue a message (non-blocking)."},
    {"receive", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(msg_receive)), METH_VARARGS | METH_KEYWORDS,
     "receive(tags, timeout=-1, after=None) -> (tag, contents); on timeout after() or (TIMEOUT, None)."},
    {"drain", msg_drain, METH_O, "drain(tags): discard pending messages."},
    {"set_tags", msg_set_tags, METH_O, "set_tags(tags): bind tags to queues, dropping every queued message."},
    {"queue_stats", msg_queue_stats, METH_NOARGS,
     "queue_stats() -> list of dicts: each tag-bound queue's cumulative traffic and lock contention."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_messaging_functions(PyObject* module) {
  if (PyModule_AddFunctions(module, msg_methods) < 0) return -1;
  return PyModule_AddStringConstant(module, "TIMEOUT", kTimeoutTag);
}

}  // namespace boc::py
