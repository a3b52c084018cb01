// bocpy's terminator, over this runtime: the count that must reach zero
// before the runtime may stop. It is the behaviors in flight (the core's
// count), plus holds taken with `terminator_inc` (a scheduling path not yet
// visible to the core), plus the runtime's seed hold: one while it is up, dropped
// by `wait()`. `_core.terminator_*` read and drive it as bocpy's tests do.
#pragma once

#include <Python.h>

namespace boc::py {

/// A runtime started: seeded, open for holds.
void terminator_started() noexcept;
/// The runtime stopped: unseeded and closed (holds are refused).
void terminator_stopped() noexcept;

/// True while the count, less the runtime's seed hold, is above zero: something
/// is in flight.
bool terminator_busy() noexcept;

/// True once terminator_close() (or a stop) refuses new holds: @when then
/// raises "runtime is shutting down", as bocpy's whencall does.
bool terminator_closed() noexcept;
/// Drops one hold taken by terminator_inc for a behavior that is now
/// scheduled: the core counts it in flight from here (core_schedule.cpp).
void terminator_hand_over_hold() noexcept;

/// Adds TERMINATED / PUMP_READY / WAIT_TIMED_OUT and the terminator_*
/// functions to bocpy._core.
int add_terminator_functions(PyObject* module);

}  // namespace boc::py
