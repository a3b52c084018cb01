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
from bocpy._c_abi import get_include, get_sources
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

def _distribution_version() -> str:
    """The installed distribution's version (the build writes bocpy's
    dist-info next to the package; the runner serves the same metadata from
    its embedded sources). A broken lookup is logged, never fatal."""
    from importlib import metadata
    import logging

    try:
        return metadata.version("bocpy")
    except Exception as error:  # any metadata failure, not only PackageNotFoundError
        try:
            logging.getLogger("bocpy").warning(
                "bocpy package metadata unavailable (%s: %s); falling back to __version__ = '0.0.0+unknown'",
                type(error).__name__, error)
        except Exception:
            pass
        return "0.0.0+unknown"


__version__ = _distribution_version()

if _core.is_primary():
    import atexit as _atexit
    import sys as _sys

    from bocpy import examples as _examples

    _examples.note_examples_folder(getattr(_sys.modules.get("__main__"), "__file__", None))
    del _examples, _sys

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
    "get_include",
    "get_sources",
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
