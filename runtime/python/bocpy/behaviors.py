"""The lifecycle and pump API of bocpy: start / quiesce / wait, pump and the
starvation watchdog. Validation and messages follow bocpy 0.13.0 (its
stubs and tests; README "The bocpy Python API")."""

import builtins
import hashlib
import importlib
import importlib.util
import logging
import marshal
import os
import sys
import types
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from bocpy import _core
from bocpy import transpiler
from bocpy import _worker_logging

_MAX_PUMP_MS = (1 << 63) // 1_000_000 - 1
_WAIT_PUMP_POLL_MS = 50

_log = logging.getLogger("bocpy")


def _compute_worker_count() -> int:
    env = os.environ.get("BOCPY_WORKERS")
    if env:
        try:
            n = int(env)
            if n >= 1:
                return n
        except ValueError:
            pass
    physical = _core.physical_cpu_count()
    if physical:
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

# The live runtime's coordinator, or None while no runtime is up (bocpy's
# module-level BEHAVIORS; tests and tools read it).
BEHAVIORS: Optional["Behaviors"] = None

# The noticeboard captured by the last explicit Behaviors.stop(), handed to the
# next wait(noticeboard=True) that finds the runtime already down.
_final_board: Optional[Dict[str, Any]] = None


def get_caller_module():
    """(module name, source file) of the code that called the caller: the
    module a @when statement sits in. A frame without ``__name__`` (exec
    against bare globals) counts as ``__main__``; a ``__file__`` that is not a
    real file (``<stdin>``, ``-c``) is None, the sourceless case."""
    frame = sys._getframe(2)
    name = frame.f_globals.get("__name__", "__main__")
    file = frame.f_globals.get("__file__")
    if file is not None and not (isinstance(file, str) and os.path.isfile(file)):
        file = None
    return (name, file)


def start(worker_count: Optional[int] = None, module=None) -> None:
    """Start the runtime: worker_count workers (default WORKER_COUNT), each
    with its own sub-interpreter. Returns at once if already running with the
    same arguments."""
    global _started_module, BEHAVIORS
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
    module_name = _bindings_module(module)
    source, filename = transpiler.bindings_for_main(module_name)
    _core.start(n, source, filename or "", list(p for p in sys.path if isinstance(p, str)),
                _worker_logging.main_levels(), module_name)
    _started_module = module
    BEHAVIORS = Behaviors(n)
    BEHAVIORS._started_module = module


def _bindings_module(module) -> str:
    """The module whose bindings the workers load: ``__main__``, unless the
    runtime is started for a loaded module that workers cannot import by its
    name (e.g. one loaded from a file path under a name of its own)."""
    name = module[0] if isinstance(module, tuple) else module
    if not name or name == "__main__" or sys.modules.get(name) is None:
        return "__main__"
    return "__main__" if _findable(name) else name


def _findable(name: str) -> bool:
    """True if the import system finds `name` afresh (as a worker would),
    not only as an entry of this interpreter's sys.modules."""
    parent = name.rpartition(".")[0]
    path = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    if parent and path is None:
        return False
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        try:
            if find_spec is not None and find_spec(name, path) is not None:
                return True
        except Exception:  # a finder that cannot answer is no answer
            continue
    return False


def _auto_start() -> None:
    """The first @when starts the runtime (called from bocpy._core): for the
    module that @when sits in, as bocpy does."""
    start(module=get_caller_module())


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


def _stop_runtime(timeout, stats: bool = False) -> tuple:
    """Finish the work (up to `timeout`), stop the workers and the noticeboard:
    (final scheduler stats if asked for, else [], final noticeboard). Pinned
    behaviors nobody will pump get a RuntimeError on their result (the orphan
    drain below). A noticeboard mutation still running at the timeout raises
    RuntimeError after the workers stopped."""
    global BEHAVIORS
    seconds = _timeout_seconds(timeout)
    if not _core.quiesce(seconds):
        _log.warning("wait(): runtime did not reach quiescence within timeout=%s; tearing down anyway", timeout)
    final_stats = _stats() if stats else []
    behaviors = BEHAVIORS if BEHAVIORS is not None else Behaviors(_core.worker_count())
    try:
        behaviors._drain_at_stop()
    finally:
        _core.stop()
        BEHAVIORS = None
    board = _core._noticeboard_teardown(seconds)
    errors, behaviors._stop_drain_errors = behaviors._stop_drain_errors, []
    if errors:
        raise RuntimeError(f"stop(): {len(errors)} error(s) releasing behaviors dropped by stop(): {errors!r}")
    return final_stats, board


def wait(timeout: Optional[float] = None, *, stats: bool = False, noticeboard: bool = False):
    """Block until every behavior completed (running pinned ones here), then
    tear the runtime down. The next @when starts a fresh one."""
    global _final_board
    if not _core.is_primary():
        return None
    if not _core.running():
        board, _final_board = (_final_board or {}), None
        _core._noticeboard_teardown(_timeout_seconds(timeout))  # finishes a timed-out teardown
        return _result(stats, noticeboard, [], board)
    _final_board = None
    final_stats, board = _stop_runtime(timeout, stats)
    try:
        caller = sys._getframe(1)
    except ValueError:  # called straight from C/C++: no Python caller to rescue for
        caller = None
    _rescue_cowns(caller)
    return _result(stats, noticeboard, final_stats, board)


# bocpy's pump-bound check, kept by name for its callers: the C++ one pump() uses.
_validate_pump_bound = _core._validate_pump_bound

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
        # What releasing dropped behaviors raised during stop() (bocpy's name).
        self._stop_drain_errors: List[BaseException] = []

    def _drain_at_stop(self) -> None:
        """stop()'s drain: new behaviors are refused from here; workers finish
        their queues, and each round fails and releases the pinned behaviors
        nobody will pump (releasing one can make the next runnable)."""
        _core.scheduler_request_stop_all()
        while True:
            errors, _ = self._drain_orphan_behaviors()
            self._stop_drain_errors.extend(errors)
            if _core._stop_drain_wait(0.05) == _core.TERMINATED:
                return

    def _drain_orphan_behaviors(self):
        """Fail and release every behavior _core.scheduler_drain_all_queues()
        hands back, until it hands back none: (release errors, how many).

        Each gets a RuntimeError on its result cown (set_drop_exception) and
        its cowns handed on (release_all), each step on its own, so one that
        raises does not leave the rest holding cowns. A KeyboardInterrupt or
        SystemExit is re-raised once the drain is done, with the release
        errors kept in self._stop_drain_errors and noted on it."""
        errors: List[BaseException] = []
        drained = 0
        interrupt: Optional[BaseException] = None
        while True:
            orphans = _core.scheduler_drain_all_queues()
            if not orphans:
                break
            for orphan in orphans:
                drained += 1
                drop = RuntimeError("behavior dropped by stop(): the runtime stopped before it ran")
                steps = (("set_drop_exception", lambda: orphan.set_drop_exception(drop)),
                         ("release_all", lambda: orphan.release_all()))
                for name, step in steps:
                    try:
                        step()
                    except BaseException as ex:  # noqa: B036 - finish the drain first
                        _log.error("stop(): %s of a dropped behavior failed: %r", name, ex)
                        if name == "release_all":
                            errors.append(ex)
                        if not isinstance(ex, Exception) and interrupt is None:
                            interrupt = ex
        if interrupt is not None:
            if errors:
                self._stop_drain_errors.extend(errors)
                interrupt.add_note(f"the orphan drain kept {len(errors)} release_all error(s) in "
                                   "Behaviors._stop_drain_errors")
            raise interrupt
        return errors, drained

    def start(self, module=None) -> None:
        start(self.num_workers, module)

    def stop(self, timeout: Optional[float] = None) -> None:
        """Tear the runtime down; keeps its final noticeboard (also handed to
        the next wait(noticeboard=True))."""
        global _final_board
        if not _core.running():
            return
        _, self._final_noticeboard = _stop_runtime(timeout)
        _final_board = self._final_noticeboard

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


# ---------------------------------------------------------------- behavior code registry
#
# A behavior body crosses interpreters as marshalled code in the process-wide,
# append-only registry of runtime/python/behavior_code.cpp (bocpy._core's
# registry_register / registry_lookup). Its key is a content digest of the
# code plus its defining module; each interpreter rebuilds the function once,
# through a Resolver, with that module's globals.


class BehaviorResolveError(RuntimeError):
    """A registered behavior cannot be rebuilt here: its defining module does
    not import in this interpreter (the import error is the __cause__)."""


# (original code object, func.__module__) -> registry key. The module is part
# of the memo key: code equality ignores co_filename, so equal bodies from two
# modules would otherwise share the first one's key (and globals).
_CODE_KEY_MEMO: Dict[Tuple[types.CodeType, Optional[str]], str] = {}

# Storing source text costs a file read per behavior and is never shown:
# opt in with BOCPY_STORE_BEHAVIOR_SOURCE=1.
_STORE_BEHAVIOR_SOURCE = os.environ.get("BOCPY_STORE_BEHAVIOR_SOURCE") == "1"

_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL"})


def _digest_field(h, data: bytes) -> None:
    # Length-prefixed, so adjacent fields can never run into each other.
    h.update(len(data).to_bytes(8, "little"))
    h.update(data)


def _digest_const(h, value) -> None:
    if isinstance(value, types.CodeType):
        _digest_field(h, b"code")
        _digest_code(h, value)
    elif isinstance(value, tuple):
        _digest_field(h, b"tuple%d" % len(value))
        for item in value:
            _digest_const(h, item)
    elif isinstance(value, frozenset):
        # Iteration order is not part of a frozenset's value: sort the parts.
        parts = []
        for item in value:
            sub = hashlib.blake2b(digest_size=16)
            _digest_const(sub, item)
            parts.append(sub.digest())
        _digest_field(h, b"frozenset%d" % len(parts))
        for part in sorted(parts):
            h.update(part)
    else:
        # Constants are None/bool/int/float/complex/str/bytes/Ellipsis: their
        # repr is exact. (marshal output would depend on string interning.)
        _digest_field(h, type(value).__name__.encode() + b":" + repr(value).encode("utf-8", "surrogatepass"))


def _digest_code(h, code: types.CodeType) -> None:
    # What the code does, not where it was written: co_filename,
    # co_firstlineno and the line table stay out.
    for n in (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_nlocals,
              code.co_stacksize, code.co_flags):
        _digest_field(h, b"%d" % n)
    _digest_field(h, code.co_code)
    _digest_field(h, getattr(code, "co_exceptiontable", b""))
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        _digest_field(h, repr(names).encode("utf-8", "surrogatepass"))
    _digest_field(h, code.co_name.encode("utf-8", "surrogatepass"))
    _digest_field(h, code.co_qualname.encode("utf-8", "surrogatepass"))
    _digest_const(h, code.co_consts)


def _canonical_key(code: types.CodeType, target_modname: Optional[str] = None) -> str:
    """The registry key of `code`: 32 hex digits over its semantic fields
    (nested code included; file name and line numbers excluded), so it is
    the same in every interpreter and after a marshal round trip. With
    `target_modname`, the defining module is folded in: equal bodies bound
    to different modules' globals are different behaviors."""
    h = hashlib.blake2b(digest_size=16)
    _digest_code(h, code)
    if target_modname is not None:
        _digest_field(h, b"module:" + target_modname.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _is_interactive(func) -> bool:
    """True when no other interpreter can rebuild `func`'s globals: its module
    is neither loaded nor importable, or it is a `__main__` without a source
    file (REPL, -c, stdin, exec)."""
    module = func.__module__
    if module is not None and module != "__main__":
        if sys.modules.get(module) is not None:
            return False
        try:
            return importlib.util.find_spec(module) is None
        except Exception:  # find_spec imports parents; any failure means "not importable"
            return True
    return not os.path.isfile(func.__code__.co_filename)


def _referenced_globals(code: types.CodeType) -> set:
    """Global names `code` (and its nested code) reads or writes. From the
    instructions, not co_names, which also holds attribute names."""
    import dis  # only on a first registration: keeps worker start-up light

    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in _GLOBAL_OPS}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_globals(const)
    return names


def _check_interactive_globals(func) -> None:
    """An interactive body sees, in a worker, only builtins, its captures and
    what the live bindings re-import (bocpy.transpiler.bind_live_module):
    refuse any other global now, by name, rather than fail in a worker."""
    code = func.__code__
    n_defaults = len(func.__defaults__ or ())
    captures = set(code.co_varnames[code.co_argcount - n_defaults:code.co_argcount])
    env = func.__globals__
    for name in sorted(_referenced_globals(code)):
        if name in captures or hasattr(builtins, name):
            continue
        if name in env and transpiler.reimport_statement(name, env[name]) is not None:
            continue
        raise NameError(
            f"behavior {code.co_qualname!r} uses the global {name!r}, which was defined interactively and does "
            f"not exist in a worker; move it into an importable module or pass it as a capture "
            f"(a trailing parameter with a default, e.g. {name}={name})")


def register_behavior(func) -> str:
    """Puts `func`'s code into the registry (once per code object and module)
    and returns its key. Async and generator bodies are refused. An
    interactive body is checked for globals a worker cannot have, and its
    stored copy is relabelled `<behavior:KEY>` (its file name for
    tracebacks; the key ignores file names, so it is unchanged)."""
    if isinstance(func, str):
        raise TypeError("whencall() takes a behavior function, not a thunk name; scheduling by name was "
                        "removed when @when became a runtime decorator")
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"a behavior must be a Python function, got {type(func).__name__}")
    code = func.__code__
    memo_key = (code, func.__module__)
    key = _CODE_KEY_MEMO.get(memo_key)
    if key is not None:
        return key
    import inspect  # only on a first registration: keeps worker start-up light

    if code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE):
        raise SyntaxError(f"behavior {code.co_qualname!r} is an async function; @when does not support them")
    if code.co_flags & inspect.CO_GENERATOR:
        raise SyntaxError(f"behavior {code.co_qualname!r} is a generator function; @when does not support them")
    # Globals without __name__ leave __module__ None: such bodies bind to
    # __main__ (the bindings) like any other sourceless one.
    module = func.__module__ if isinstance(func.__module__, str) else "__main__"
    key = _canonical_key(code, module)
    stored = code
    if _is_interactive(func):
        _check_interactive_globals(func)
        stored = code.replace(co_filename=f"<behavior:{key}>")
    source = None
    if _STORE_BEHAVIOR_SOURCE:
        try:
            source = inspect.getsource(func)
        except (OSError, TypeError):
            pass
    _core.registry_register(key, marshal.dumps(stored), module, source)
    _CODE_KEY_MEMO[memo_key] = key
    return key


class Resolver:
    """Rebuilds registered behaviors in this interpreter: `resolver.KEY` is
    the function stored under KEY, its globals those of its defining module
    -- the `bindings` module's for `__main__` (or `modname`) bodies. A hit
    is kept on the instance, so the next lookup is a plain attribute."""

    def __init__(self, bindings: types.ModuleType, modname: str):
        # Instance attributes: never routed through __getattr__.
        self._bindings = bindings
        self._modname = modname

    def __getattr__(self, key: str):
        if key.startswith("__"):  # copy/pickle probes are not behavior keys
            raise AttributeError(key)
        entry = _core.registry_lookup(key)
        if entry is None:
            raise AttributeError(f"no behavior is registered under key {key!r}")
        blob, module, _source = entry
        code = marshal.loads(blob)
        env = self._globals_for(key, module)
        # Free variables get empty cells here; a schedule supplies its own
        # snapshot of them (runtime/python/behavior_code.cpp).
        cells = tuple(types.CellType() for _ in code.co_freevars) or None
        fn = types.FunctionType(code, env, code.co_name, None, cells)
        setattr(self, key, fn)
        return fn

    def _globals_for(self, key: str, module: str) -> dict:
        if module in ("__main__", self._modname):
            return self._bindings.__dict__
        try:
            return importlib.import_module(module).__dict__
        except Exception as exc:
            raise BehaviorResolveError(
                f"cannot rebuild behavior {key}: its defining module {module!r} is not importable in this "
                f"interpreter") from exc


_resolver: Optional[Resolver] = None


def _interpreter_resolver() -> Resolver:
    """This interpreter's Resolver over its current `__main__` (in a worker,
    the bindings installed by bocpy.transpiler.install_worker_main)."""
    global _resolver
    main = sys.modules["__main__"]
    if _resolver is None or _resolver._bindings is not main:
        _resolver = Resolver(main, "__main__")
    return _resolver


def _resolve_behavior(key: str):
    """The function for registry `key` here (called by behavior_code.cpp)."""
    return getattr(_interpreter_resolver(), key)
