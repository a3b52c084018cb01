"""bocpy: Behavior-Oriented Concurrency for Python, on a C++ runtime.

Cowns (concurrently-owned values) and behaviors scheduled with ``@when``; each
behavior runs once it holds all its cowns, on a worker sub-interpreter with its
own GIL, or on the main thread (drained by ``pump()``) when it names a
``PinnedCown``.
"""

from bocpy import _core
from bocpy._core import (
    TIMEOUT,
    Cown,
    CownCapsule,
    PinnedCown,
    drain,
    notice_delete,
    notice_read,
    notice_seed,
    notice_update,
    notice_write,
    noticeboard,
    receive,
    send,
    set_tags,
    when,
    whencall,
)
from bocpy._sentinels import REMOVED
from bocpy._math import Matrix
from bocpy.behaviors import (
    Behaviors,
    PumpResult,
    WaitResult,
    WORKER_COUNT,
    pump,
    quiesce,
    set_pump_watchdog,
    set_wait_pump_poll,
    start,
    wait,
)

__version__ = "0.13.0+boc"

if _core.is_primary():
    import atexit as _atexit

    # Interpreter exit finishes the work and ends the workers first.
    _atexit.register(_core._shutdown_at_exit)
    del _atexit

__all__ = [
    "Behaviors",
    "Cown",
    "Matrix",
    "PinnedCown",
    "PumpResult",
    "REMOVED",
    "TIMEOUT",
    "WORKER_COUNT",
    "__version__",
    "drain",
    "notice_delete",
    "notice_read",
    "notice_seed",
    "notice_update",
    "notice_write",
    "noticeboard",
    "pump",
    "quiesce",
    "receive",
    "send",
    "set_pump_watchdog",
    "set_tags",
    "set_wait_pump_poll",
    "start",
    "wait",
    "WaitResult",
    "when",
    "whencall",
]
