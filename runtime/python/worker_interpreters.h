// Worker interpreters kept across runtimes. Creating and ending an own-GIL
// sub-interpreter costs tens of milliseconds and, in CPython 3.13, megabytes
// it never returns (README "Benchmarks", lifecycle cycles); a program or a
// test suite that calls start()/wait() per test would pay that each time. So
// a stopping worker parks its interpreter (its thread state is deleted, the
// interpreter stays) and the next runtime's worker adopts it with a fresh
// thread state on its own thread. What bocpy's semantics need fresh is reset
// on adoption: the script's bindings (a new `__main__`), the code cache, the
// noticeboard view and the logging forwarder. Parked interpreters end at
// interpreter exit. CPython 3.12 aborts at finalisation on an interpreter
// ended off its own thread, so there every worker ends its own, as before.
#pragma once

#include <Python.h>

#include <string>

namespace boc::py {

/// Worker thread with no thread state: a parked interpreter adopted on this
/// thread, or a new one. Returns its thread state, current, GIL held; nullptr
/// with `error` set on failure.
PyThreadState* acquire_worker_interpreter(std::string& error);

/// Worker thread, `ts` current with its GIL held, caches already dropped:
/// parks the interpreter (3.13+) or ends it (3.12). No thread state after.
void release_worker_interpreter(PyThreadState* ts);

/// Main thread, main GIL held, no runtime live: ends every parked
/// interpreter. Called at interpreter exit (shutdown_runtime_for_exit).
void end_parked_interpreters();

/// Interpreters parked now (tests, diagnostics).
std::size_t parked_interpreter_count();

}  // namespace boc::py
