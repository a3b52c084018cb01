"""The lifecycle and pump API of bocpy: start / quiesce / wait, pump and the
starvation watchdog. Validation and messages follow bocpy 0.13.0 (see
bocpy-api-spec.md sections 1.5-1.9 and 3)."""

import logging
import os
import sys
from typing import Any, Dict, List, NamedTuple, Optional

from bocpy import _core
from bocpy import _bindings

_MAX_PUMP_MS = (1 << 63) // 1_000_000 - 1
_WAIT_PUMP_POLL_MS = 50

_log = logging.getLogger("bocpy")


def _physical_cpu_count() -> Optional[int]:
    """Distinct physical cores in the process affinity mask (Linux sysfs)."""
    try:
        cpus = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return None
    leaders = set()
    for cpu in cpus:
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
        try:
            with open(path, encoding="utf-8") as f:
                leaders.add(f.read().strip().split(",")[0].split("-")[0])
        except OSError:
            return None
    return len(leaders) or None


def _compute_worker_count() -> int:
    env = os.environ.get("BOCPY_WORKERS")
    if env:
        try:
            n = int(env)
            if n >= 1:
                return n
        except ValueError:
            pass
    physical = _physical_cpu_count()
    if physical is not None:
        return max(1, physical - 1)
    try:
        return max(1, len(os.sched_getaffinity(0)) - 1)
    except (AttributeError, OSError):
        return max(1, (os.cpu_count() or 2) - 1)


WORKER_COUNT: int = _compute_worker_count()


class PumpResult(NamedTuple):
    """What one pump() call did."""

    executed: int
    deadline_reached: bool
    raised: int


class WaitResult(NamedTuple):
    """wait()/quiesce() result when both stats and noticeboard are requested."""

    stats: List[Dict[str, Any]]
    noticeboard: Dict[str, Any]


_started_module = None


def _main_module_spec():
    main = sys.modules.get("__main__")
    return (getattr(main, "__name__", "__main__"), getattr(main, "__file__", None))


def start(worker_count: Optional[int] = None, module=None) -> None:
    """Start the runtime: worker_count workers (default WORKER_COUNT), each
    with its own sub-interpreter. Returns at once if already running with the
    same arguments."""
    global _started_module
    if not _core.is_primary():
        raise RuntimeError("start() can only be called from the main interpreter")
    if worker_count is not None and (not isinstance(worker_count, int) or isinstance(worker_count, bool)
                                     or worker_count < 1):
        raise TypeError(f"worker_count must be a positive int or None, got {worker_count!r}")
    if module is not None:
        name = module[0] if isinstance(module, tuple) else module
        if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"module must name a dotted Python module path, got {name!r}")
    if _core.running():
        if worker_count is not None and worker_count != _core.worker_count():
            raise RuntimeError(
                f"the runtime is already running with {_core.worker_count()} workers; "
                f"call wait() before start(worker_count={worker_count})")
        if module is not None and module != _started_module:
            raise RuntimeError("the runtime is already running for another module; call wait() first")
        return
    n = WORKER_COUNT if worker_count is None else worker_count
    source, filename = _bindings.bindings_for_main()
    _core.start(n, source, filename or "", list(p for p in sys.path if isinstance(p, str)))
    _started_module = module


def _auto_start() -> None:
    start()


def _timeout_seconds(timeout) -> Optional[float]:
    if timeout is None:
        return None
    t = float(timeout)
    if t != t:
        raise ValueError("timeout must not be NaN")
    return max(0.0, t)


def _stats() -> List[Dict[str, Any]]:
    return _core.scheduler_stats()


def _result(stats: bool, noticeboard: bool, stats_value, board_value):
    if stats and noticeboard:
        return WaitResult(stats_value, board_value)
    if stats:
        return stats_value
    if noticeboard:
        return board_value
    return None


def quiesce(timeout: Optional[float] = None, *, stats: bool = False, noticeboard: bool = False):
    """Block until no behavior is in flight (pumping pinned work meanwhile),
    keeping the runtime alive."""
    if not _core.is_primary():
        return None
    if not _core.running():
        return _result(stats, noticeboard, [], {})
    if not _core.quiesce(_timeout_seconds(timeout)):
        raise TimeoutError(f"quiesce(): runtime did not reach quiescence within timeout={timeout}")
    board = _core._noticeboard_snapshot() if noticeboard else {}
    return _result(stats, noticeboard, _stats() if stats else [], board)


def _rescue_cowns(frame) -> None:
    """Acquire the cowns the waiting call stack refers to directly, so their
    final values are readable on main after wait()."""
    seen = set()
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for value in list(scope.values()):
                if isinstance(value, _core.CownCapsule) and id(value) not in seen:
                    seen.add(id(value))
                    try:
                        value.acquire()
                    except RuntimeError:
                        pass
        frame = frame.f_back


def wait(timeout: Optional[float] = None, *, stats: bool = False, noticeboard: bool = False):
    """Block until every behavior completed (running pinned ones here), then
    tear the runtime down. The next @when starts a fresh one."""
    if not _core.is_primary():
        return None
    if not _core.running():
        return _result(stats, noticeboard, [], {})
    if not _core.quiesce(_timeout_seconds(timeout)):
        _log.warning("wait(): runtime did not reach quiescence within timeout=%s; tearing down anyway", timeout)
    final_stats = _stats() if stats else []
    board = _core._noticeboard_snapshot() if noticeboard else {}
    _core.stop()
    _core._noticeboard_teardown()
    try:
        caller = sys._getframe(1)
    except ValueError:  # called straight from C/C++: no Python caller to rescue for
        caller = None
    _rescue_cowns(caller)
    return _result(stats, noticeboard, final_stats, board)


def _validate_pump_bound(name: str, value, ms: bool = False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TypeError(f"{name} must be a positive int or None, got {value!r}")
    if ms and value > _MAX_PUMP_MS:
        raise OverflowError(f"{name}={value} exceeds the maximum of {_MAX_PUMP_MS} ms")
    return value


_core._set_pump_result_type(PumpResult)

# pump(deadline_ms=None, max_behaviors=None, raise_on_error=False) -> PumpResult
# is implemented in C++ (validation, gates and loop): it is called every frame.
pump = _core.pump


def set_pump_watchdog(warn_ms: Optional[int] = 1000, on_starve=None) -> None:
    """Warn (once per non-empty episode) when pinned work waits >= warn_ms.
    on_starve(severity, message) replaces the default logger "bocpy.pump"."""
    if warn_ms is not None and (isinstance(warn_ms, bool) or not isinstance(warn_ms, int) or warn_ms <= 0):
        raise TypeError(f"warn_ms must be a positive int or None to disable, got {warn_ms!r}")
    if warn_ms is not None and warn_ms > _MAX_PUMP_MS:
        raise OverflowError(f"warn_ms={warn_ms} exceeds the maximum of {_MAX_PUMP_MS} ms")
    if on_starve is not None and not callable(on_starve):
        raise TypeError(f"on_starve must be callable or None, got {on_starve!r}")
    if not _core.is_primary():
        raise RuntimeError("set_pump_watchdog() must be called from the main interpreter")
    _core.set_pump_watchdog(warn_ms, on_starve)


def set_wait_pump_poll(ms: int = 50) -> None:
    """How long wait()/quiesce() park at most between pump checks (ms)."""
    global _WAIT_PUMP_POLL_MS
    if isinstance(ms, bool) or not isinstance(ms, int) or ms <= 0:
        raise TypeError(f"ms must be a positive int, got {ms!r}")
    _core.set_wait_pump_poll(ms)
    _WAIT_PUMP_POLL_MS = ms


class Behaviors:
    """The runtime coordinator (bocpy's Behaviors): start/stop/quiesce."""

    def __init__(self, num_workers: Optional[int] = None):
        self.num_workers = WORKER_COUNT if num_workers is None else num_workers

    def start(self, module=None) -> None:
        start(self.num_workers, module)

    def stop(self, timeout: Optional[float] = None) -> None:
        wait(timeout)

    def quiesce(self, timeout: Optional[float] = None) -> bool:
        if not _core.running():
            return True
        return _core.quiesce(_timeout_seconds(timeout))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False
