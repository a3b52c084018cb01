#include "interrupt.h"

#include <unistd.h>

#include <csignal>

namespace boc::py {
namespace {

// Relaxed: a flag polled by behaviors as they start and by receive(); the
// interrupter's KeyboardInterrupt delivery is ordered by the worker's GIL.
std::atomic<bool> g_interrupted{false};

thread_local WorkerSlot* tl_slot = nullptr;

// Python's own SIGINT handler, put back when the next runtime starts (main
// thread only, like every signal-handler change).
void (*g_saved_sigint)(int) = nullptr;
bool g_sigint_replaced = false;

extern "C" void exit_on_second_sigint(int) { _exit(130); }

}  // namespace

bool runtime_interrupted() noexcept { return g_interrupted.load(std::memory_order_relaxed); }

void reset_runtime_interrupt() noexcept {
  g_interrupted.store(false, std::memory_order_relaxed);
  if (g_sigint_replaced) {
    std::signal(SIGINT, g_saved_sigint);
    g_sigint_replaced = false;
  }
}

void set_current_worker_slot(WorkerSlot* slot) noexcept { tl_slot = slot; }
WorkerSlot* current_worker_slot() noexcept { return tl_slot; }

void discard_pending_interrupt() noexcept {
  if (tl_slot != nullptr) PyThreadState_SetAsyncExc(tl_slot->thread_ident, nullptr);
}

void interrupt_runtime(const std::vector<WorkerSlot*>& workers) {
  if (g_interrupted.exchange(true, std::memory_order_relaxed)) return;
  g_saved_sigint = std::signal(SIGINT, exit_on_second_sigint);
  g_sigint_replaced = g_saved_sigint != SIG_ERR;
  PyThreadState* main_ts = PyEval_SaveThread();
  for (WorkerSlot* w : workers) {
    if (w == nullptr || w->tstate == nullptr) continue;
    // Enter the worker's interpreter on a thread state of our own: taking its
    // GIL makes a worker in a pure-Python loop yield at its switch interval.
    PyThreadState* ts = PyThreadState_New(PyThreadState_GetInterpreter(w->tstate));
    if (ts == nullptr) continue;
    PyEval_RestoreThread(ts);
    if (w->in_body.load(std::memory_order_relaxed)) {
      PyThreadState_SetAsyncExc(w->thread_ident, PyExc_KeyboardInterrupt);
    }
    PyThreadState_Clear(ts);
    PyThreadState_DeleteCurrent();
  }
  PyEval_RestoreThread(main_ts);
}

}  // namespace boc::py
