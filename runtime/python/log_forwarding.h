// Logging from behaviors follows the main interpreter's logging set-up: a
// worker's root logger hands each record to this queue, and the main
// interpreter re-emits it through its own loggers (levels, handlers,
// formatters), as a program's own records would be (bocpy/_worker_logging.py).
#pragma once

#include <Python.h>

namespace boc::py {

/// `_core._forward_log(name, levelno, pathname, lineno, func, msg, exc_text,
/// stack_info, created, thread_name)`: any interpreter; queues the record.
PyObject* forward_log(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

/// Main interpreter, GIL held: emits every queued record through
/// `bocpy._worker_logging.deliver`. Never raises (a failing handler is
/// reported as unraisable, as logging does).
void deliver_forwarded_logs() noexcept;
/// The same, after a lock-free check that a worker queued something (pump()).
void deliver_forwarded_logs_if_queued() noexcept;

}  // namespace boc::py
