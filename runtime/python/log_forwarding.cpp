#include "log_forwarding.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <string>

#include "py_compat.h"
#include "py_ref.h"

namespace boc::py {
namespace {

// One log record, interpreter-free (plain strings) so it crosses to main.
struct ForwardedLog {
  std::string name;
  long level = 0;
  std::string pathname;
  long lineno = 0;
  std::string func;
  std::string msg;
  std::string exc_text;
  bool has_exc_text = false;
  std::string stack_info;
  bool has_stack_info = false;
  double created = 0;
  std::string thread_name;
};

struct LogQueue {
  std::mutex mu;
  std::deque<ForwardedLog> records;
  // Set while a pending call to deliver is scheduled on main; exchange
  // (acq_rel) so exactly one producer schedules it per batch.
  std::atomic<bool> delivery_scheduled{false};
};

LogQueue& queue() {
  static LogQueue* q = new LogQueue();  // never destroyed: workers may log during exit
  return *q;
}

PyObject* str_or_none(const std::string& s, bool present) {
  if (!present) return Py_NewRef(Py_None);
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

PyObject* str_of(const std::string& s) { return str_or_none(s, true); }

// Runs on the main thread at its next eval-loop check (Py_AddPendingCall).
int pending_delivery(void*) {
  deliver_forwarded_logs();
  return 0;
}

}  // namespace

PyObject* forward_log(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 10) {
    PyErr_SetString(PyExc_TypeError, "_forward_log takes 10 arguments");
    return nullptr;
  }
  ForwardedLog rec;
  rec.name = utf8_of(args[0]);
  rec.level = PyLong_AsLong(args[1]);
  rec.pathname = utf8_of(args[2]);
  rec.lineno = PyLong_AsLong(args[3]);
  rec.func = utf8_of(args[4]);
  rec.msg = utf8_of(args[5]);
  rec.has_exc_text = args[6] != Py_None;
  rec.exc_text = utf8_of(args[6]);
  rec.has_stack_info = args[7] != Py_None;
  rec.stack_info = utf8_of(args[7]);
  rec.created = PyFloat_AsDouble(args[8]);
  rec.thread_name = utf8_of(args[9]);
  if (PyErr_Occurred()) return nullptr;
  {
    std::lock_guard lock(queue().mu);
    queue().records.push_back(std::move(rec));
  }
  if (in_main_interpreter()) {
    deliver_forwarded_logs();
  } else if (!queue().delivery_scheduled.exchange(true, std::memory_order_acq_rel)) {
    // No main GIL needed; a full pending-call table only delays delivery to
    // the next pump()/wait() slice, which also delivers.
    if (Py_AddPendingCall(&pending_delivery, nullptr) < 0) {
      queue().delivery_scheduled.store(false, std::memory_order_release);
    }
  }
  Py_RETURN_NONE;
}

void deliver_forwarded_logs() noexcept {
  // Release: a record queued after this point schedules a new delivery.
  queue().delivery_scheduled.store(false, std::memory_order_release);
  std::deque<ForwardedLog> batch;
  {
    std::lock_guard lock(queue().mu);
    batch.swap(queue().records);
  }
  if (batch.empty()) return;
  PyObject* saved = PyErr_GetRaisedException();
  PyRef mod(PyImport_ImportModule("bocpy._worker_logging"));
  PyRef deliver(mod ? PyObject_GetAttrString(mod.get(), "deliver") : nullptr);
  if (!deliver) {
    PyErr_WriteUnraisable(nullptr);
  } else {
    for (const ForwardedLog& r : batch) {
      PyRef res(PyObject_CallFunction(deliver.get(), "NlNlNNNNdN", str_of(r.name), r.level, str_of(r.pathname),
                                      r.lineno, str_of(r.func), str_of(r.msg), str_or_none(r.exc_text, r.has_exc_text),
                                      str_or_none(r.stack_info, r.has_stack_info), r.created, str_of(r.thread_name)));
      if (!res) PyErr_WriteUnraisable(deliver.get());
    }
  }
  PyErr_SetRaisedException(saved);
}

void deliver_forwarded_logs_if_queued() noexcept {
  // Acquire: pairs with the producer's exchange, after its push.
  if (queue().delivery_scheduled.load(std::memory_order_acquire)) deliver_forwarded_logs();
}

}  // namespace boc::py
