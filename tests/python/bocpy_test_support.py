"""Helpers shared by the Python test scripts (importable in every interpreter:
workers get the main interpreter's sys.path, which holds this folder)."""

import threading

QUIESCE_TIMEOUT = 60


def where():
    """(interpreter id, thread ident) of the caller; id 0 is the main interpreter."""
    try:
        import _interpreters
        interp = _interpreters.get_current()[0]
    except Exception:  # pragma: no cover - interpreter ids not available
        interp = None
    return interp, threading.get_ident()
