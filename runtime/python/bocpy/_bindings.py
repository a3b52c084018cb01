"""Worker bindings: each worker's `__main__` is the application script reduced
to what behaviors need as globals (imports, definitions, simple assignments),
so the script's main block never runs in a worker.

Kept at top level: imports; class and function definitions (except functions
decorated with @when, which would schedule again); assignments (each guarded,
so one that fails in a worker -- e.g. PinnedCown(...) -- does not stop the
rest); `if` blocks that do not test __name__ and `try` blocks, reduced
recursively. Dropped: expression statements, loops, `with`, and
`if __name__ == "__main__":` blocks. Line numbers are preserved.
"""

import ast
import builtins
import os
import sys
import traceback
import types

_SYNTHETIC = "<bocpy-bindings>"


def bindings_for_main():
    """(source, filename) describing the main module for the workers."""
    main = sys.modules.get("__main__")
    filename = getattr(main, "__file__", None)
    if filename and os.path.isfile(filename):
        with open(filename, encoding="utf-8") as f:
            return f.read(), os.path.abspath(filename)
    # REPL, -c, stdin: re-create the module and object imports of the live namespace.
    lines = []
    for name, value in list(vars(main).items()) if main is not None else []:
        if name.startswith("__") or not name.isidentifier():
            continue
        if isinstance(value, types.ModuleType):
            if value.__name__ in ("readline", "rlcompleter"):
                continue
            lines.append(f"try:\n    import {value.__name__} as {name}\nexcept Exception:\n    pass")
        elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
            mod = getattr(value, "__module__", None)
            qual = getattr(value, "__qualname__", "")
            if mod and mod != "__main__" and qual.isidentifier():
                lines.append(f"try:\n    from {mod} import {qual} as {name}\nexcept Exception:\n    pass")
    return "\n".join(lines), _SYNTHETIC


def _is_when_decorator(dec, when_names, bocpy_names) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Name):
        return target.id in when_names
    if isinstance(target, ast.Attribute) and target.attr in ("when", "whencall"):
        return isinstance(target.value, ast.Name) and target.value.id in bocpy_names
    return False


def _tests_name(expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(expr))


def _guard(stmt):
    handler = ast.ExceptHandler(type=ast.Name(id="Exception", ctx=ast.Load()), name=None, body=[ast.Pass()])
    node = ast.Try(body=[stmt], handlers=[handler], orelse=[], finalbody=[])
    return ast.copy_location(node, stmt)


def _reduce(stmts, when_names, bocpy_names):
    out = []
    for stmt in stmts:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "bocpy" and alias.name in ("when", "whencall"):
                    when_names.add(alias.asname or alias.name)
                if isinstance(stmt, ast.Import) and alias.name == "bocpy":
                    bocpy_names.add(alias.asname or alias.name)
            out.append(stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not any(_is_when_decorator(d, when_names, bocpy_names) for d in stmt.decorator_list):
                out.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            out.append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            out.append(_guard(stmt))
        elif isinstance(stmt, ast.If):
            if _tests_name(stmt.test):
                continue
            body = _reduce(stmt.body, when_names, bocpy_names) or [ast.copy_location(ast.Pass(), stmt)]
            orelse = _reduce(stmt.orelse, when_names, bocpy_names)
            out.append(ast.copy_location(ast.If(test=stmt.test, body=body, orelse=orelse), stmt))
        elif isinstance(stmt, ast.Try):
            body = _reduce(stmt.body, when_names, bocpy_names) or [ast.copy_location(ast.Pass(), stmt)]
            out.append(ast.copy_location(
                ast.Try(body=body, handlers=stmt.handlers, orelse=_reduce(stmt.orelse, when_names, bocpy_names),
                        finalbody=_reduce(stmt.finalbody, when_names, bocpy_names)), stmt))
    return out


def reduce_script(source: str, filename: str):
    """The code object of the reduced script (line numbers kept)."""
    tree = ast.parse(source, filename)
    tree.body = _reduce(tree.body, set(), set())
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


def install_worker_main(source: str, filename: str, path) -> None:
    """Runs in a worker: make the reduced script this interpreter's __main__."""
    for p in reversed(path):
        if p not in sys.path:
            sys.path.insert(0, p)
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    if filename and filename != _SYNTHETIC:
        main.__file__ = filename
    sys.modules["__main__"] = main
    if not source:
        return
    try:
        if filename == _SYNTHETIC:
            code = compile(source, filename, "exec")
        else:
            code = reduce_script(source, filename)
        exec(code, main.__dict__)
    except BaseException:  # a broken script must not take the worker down
        traceback.print_exc()
