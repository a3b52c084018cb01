"""Worker bindings: the module a behavior's globals resolve against in a worker.

Behaviors travel as marshalled code (see runtime/python/behavior_code.cpp), so
a worker never runs the application script itself. It runs the script
*reduced* to what a behavior body may look up as a global: imports, class and
function definitions, and module-level assignments. Everything else -- bare
expressions, loops, ``with``, ``if`` blocks (``if __name__ == "__main__":``
included) -- is dropped, so top-level side effects must sit under that guard.

What is kept at top level:

* ``import`` / ``from ... import`` (names recorded; never rewritten);
* ``class`` definitions and ``def``s, except a module-level def decorated with
  ``@when`` (the decorator schedules it on main; in a worker it would schedule
  again). A ``@when`` nested inside a kept function stays as written;
* an assignment whose value is a constant (any number of targets), or any
  value bound to one name / one tuple of names; ``x: T = v``; ``x += v``.
  A kept value is re-evaluated once per worker: each interpreter has its own
  object, never shared state;
* ``try`` blocks, reduced the same way (``try: import numpy`` fallbacks).

A module with no source file (REPL, ``-c``, stdin) is bound from its live
namespace instead: one guarded ``import`` per module it holds (see
:func:`bind_live_module`).
"""

import __future__
import ast
import builtins
import os
import sys
import tokenize
import traceback
import types
from typing import NamedTuple, Optional, Set, Tuple

# The filename of bindings synthesized from a live namespace (no source file).
_SYNTHETIC = "<bocpy-bindings>"

# Modules the interactive REPL puts into __main__ that no behavior uses; a
# worker must not import them (readline can block on the terminal).
_NEVER_REIMPORT = frozenset({"readline", "rlcompleter"})


class MainBindings(NamedTuple):
    """A reduced module: its source text and the definitions it keeps."""

    code: str
    classes: Set[str]
    functions: Set[str]


def _dotted_name(text) -> bool:
    return isinstance(text, str) and bool(text) and all(part.isidentifier() for part in text.split("."))


def _binds_names_only(target) -> bool:
    """True for `x`, `x, y`, `[x, *rest]`: plain names, no attribute/item stores."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Starred):
        return _binds_names_only(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_binds_names_only(e) for e in target.elts)
    return False


class MainModuleBinder(ast.NodeTransformer):
    """Reduces a module's top level in place (``binder.visit(tree)``) and
    records what it keeps: ``imports`` (bound names), ``classes``,
    ``functions`` and the names that spell bocpy's ``when`` decorator
    (``when_aliases``; ``bocpy_aliases`` for ``import bocpy [as b]``)."""

    def __init__(self):
        self.imports: Set[str] = set()
        self.classes: Set[str] = set()
        self.functions: Set[str] = set()
        # `when` itself counts even without an import (`from bocpy import *`).
        self.when_aliases: Set[str] = {"when"}
        self.bocpy_aliases: Set[str] = set()

    # -- the module and compound statements

    def visit_Module(self, node: ast.Module):  # noqa: N802
        node.body[:] = self._reduce(node.body)
        return node

    def _reduce(self, stmts):
        kept = []
        for stmt in stmts:
            out = self.visit(stmt)
            if out is not None:
                kept.append(out)
        return kept

    def visit_Try(self, node: ast.Try):  # noqa: N802
        node.body = self._reduce(node.body) or [ast.copy_location(ast.Pass(), node)]
        for handler in node.handlers:
            handler.body = self._reduce(handler.body) or [ast.copy_location(ast.Pass(), handler)]
        node.orelse = self._reduce(node.orelse)
        node.finalbody = self._reduce(node.finalbody)
        return node

    if hasattr(ast, "TryStar"):
        visit_TryStar = visit_Try  # noqa: N815

    def generic_visit(self, node):
        # Expressions, loops, with, if, match, ...: never part of the bindings.
        return None

    # -- imports

    def visit_Import(self, node: ast.Import):  # noqa: N802
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.imports.add(bound)
            if alias.name == "bocpy":
                self.bocpy_aliases.add(bound)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom):  # noqa: N802
        for alias in node.names:
            if alias.name == "*":
                continue
            bound = alias.asname or alias.name
            self.imports.add(bound)
            if node.module == "bocpy" and node.level == 0 and alias.name == "when":
                self.when_aliases.add(bound)
        return node

    # -- definitions

    def visit_ClassDef(self, node: ast.ClassDef):  # noqa: N802
        self.classes.add(node.name)
        return node

    def _is_when(self, decorator) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            return target.id in self.when_aliases
        return (isinstance(target, ast.Attribute) and target.attr == "when"
                and isinstance(target.value, ast.Name) and target.value.id in self.bocpy_aliases)

    def visit_FunctionDef(self, node):  # noqa: N802
        if any(self._is_when(d) for d in node.decorator_list):
            return None
        self.functions.add(node.name)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    if hasattr(ast, "TypeAlias"):
        def visit_TypeAlias(self, node):  # noqa: N802
            return node

    # -- assignments

    def visit_Assign(self, node: ast.Assign):  # noqa: N802
        if isinstance(node.value, ast.Constant):
            return node
        # `a = b = f()` would bind one object to two names in main but is
        # re-evaluated per worker; bocpy drops it, and so does this reducer.
        if len(node.targets) == 1 and _binds_names_only(node.targets[0]):
            return node
        return None

    def visit_AnnAssign(self, node: ast.AnnAssign):  # noqa: N802
        return node if isinstance(node.target, ast.Name) else None

    def visit_AugAssign(self, node: ast.AugAssign):  # noqa: N802
        return node if isinstance(node.target, ast.Name) else None


def _reduce_tree(tree: ast.Module) -> MainModuleBinder:
    binder = MainModuleBinder()
    binder.visit(tree)
    ast.fix_missing_locations(tree)
    return binder


def bind_module(tree: ast.Module) -> MainBindings:
    """Reduces `tree` (in place) and returns the bindings as source text."""
    binder = _reduce_tree(tree)
    return MainBindings(ast.unparse(tree), binder.classes, binder.functions)


def _read_source(path: str) -> str:
    # tokenize.open honours a PEP 263 coding cookie, as the interpreter does.
    with tokenize.open(path) as f:
        return f.read()


def bind_file(path: str) -> MainBindings:
    """The bindings of the Python source file at `path`."""
    return bind_module(ast.parse(_read_source(path), filename=path))


# ---------------------------------------------------------------- live namespaces

def reimport_statement(name: str, value) -> Optional[str]:
    """The statement that re-creates global `name` = `value` in another
    interpreter, or None when there is none. A module is re-imported; a
    class or function is imported from its (non-main) defining module when
    that module really exports it under its qualname."""
    if not name.isidentifier() or name.startswith("__"):
        return None
    if isinstance(value, types.ModuleType):
        real = getattr(value, "__name__", None)
        if not _dotted_name(real) or real in _NEVER_REIMPORT:
            return None
        return f"import {real}" if name == real else f"import {real} as {name}"
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        module = getattr(value, "__module__", None)
        qual = getattr(value, "__qualname__", None)
        if (not _dotted_name(module) or module == "__main__" or not isinstance(qual, str)
                or not qual.isidentifier()):
            return None
        home = sys.modules.get(module)
        if home is None or getattr(home, qual, None) is not value:
            return None
        return f"from {module} import {qual}" if name == qual else f"from {module} import {qual} as {name}"
    return None


def bind_live_module(module: types.ModuleType) -> MainBindings:
    """Bindings for a module without a source file, from its namespace: each
    module it holds (and each class/function importable from a real module)
    is re-imported, every import guarded so one that fails in a worker is
    skipped. Nothing else crosses; see register_behavior in behaviors.py,
    which refuses interactive bodies that need anything more."""
    blocks = []
    for name, value in list(vars(module).items()):
        stmt = reimport_statement(name, value)
        if stmt is not None:
            blocks.append(f"try:\n    {stmt}\nexcept Exception:\n    pass\n")
    return MainBindings("".join(blocks), set(), set())


def _has_source_file(module) -> bool:
    path = getattr(module, "__file__", None)
    return isinstance(path, str) and os.path.isfile(path)


def bind_main(module_name: str = "__main__") -> MainBindings:
    """The bindings of the loaded module `module_name` (``__main__`` when it
    is not loaded): from its source file, or from its live namespace."""
    module = sys.modules.get(module_name) or sys.modules["__main__"]
    if _has_source_file(module):
        return bind_file(module.__file__)
    return bind_live_module(module)


# ---------------------------------------------------------------- the runtime's use

def bindings_for_main(module_name: str = "__main__") -> Tuple[str, str]:
    """(source, filename) the workers build their ``__main__`` from. A real
    file ships whole (each worker reduces it, keeping line numbers for
    tracebacks); a sourceless module ships its synthesized bindings."""
    module = sys.modules.get(module_name) or sys.modules.get("__main__")
    if module is not None and _has_source_file(module):
        return _read_source(module.__file__), os.path.abspath(module.__file__)
    return (bind_live_module(module).code if module is not None else ""), _SYNTHETIC


_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)


def _future_flags(tree: ast.Module) -> int:
    flags = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def install_worker_main(source: str, filename: str, module_name: str = "__main__") -> None:
    """Runs in a worker: make the reduced script this interpreter's
    ``__main__`` -- or, for a module the runtime was started for that workers
    cannot import by name (loaded from a path under its own name), that
    module, beside an empty ``__main__``. Statements run one by one so an
    assignment that cannot be evaluated here (e.g. ``pc = PinnedCown(...)``)
    is skipped without losing the rest; any other failure is printed and ends
    the load."""
    # sys.path is already main's (bocpy_runtime.cpp sets it before bocpy is
    # imported here).
    main = types.ModuleType(module_name)
    main.__builtins__ = builtins
    if filename and filename != _SYNTHETIC:
        main.__file__ = filename
    if module_name != "__main__":
        sys.modules["__main__"] = types.ModuleType("__main__")
    sys.modules[module_name] = main
    if not source:
        return
    try:
        tree = ast.parse(source, filename)
        if filename != _SYNTHETIC:
            _reduce_tree(tree)
        flags = _future_flags(tree)
        for stmt in tree.body:
            code = compile(ast.Module(body=[stmt], type_ignores=[]), filename, "exec", flags=flags,
                           dont_inherit=True)
            try:
                exec(code, main.__dict__)
            except Exception:
                if not isinstance(stmt, _ASSIGNMENTS):
                    raise
    except BaseException:  # a broken script must not take the worker down
        traceback.print_exc()
