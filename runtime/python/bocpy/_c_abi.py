"""bocpy's public C ABI: where a C extension finds bocpy's headers.

A C extension that registers its own type as cross-interpreter shareable
(CPython's cross-interpreter data, through the macros of ``bocpy/xidata.h``)
builds against these files, and bocpy's Cowns and messages then carry its
instances between worker interpreters by that registration::

    Extension("myext", sources=["myext.c"] + bocpy.get_sources(),
              include_dirs=[bocpy.get_include()])

and in C: ``#include <bocpy/bocpy.h>``. The contract is written in the
headers themselves (runtime/python/include/bocpy/ in this project).
"""

import os
import sys

__all__ = ["get_include", "get_sources"]


def get_include() -> str:
    """The absolute folder holding ``bocpy/bocpy.h`` and ``bocpy/xidata.h``.

    For the importable package: ``include/`` inside the package folder (the
    build tree's, or the installed one). The runner serves bocpy from its
    binary, so there it is the build tree's package folder, named at build
    time.
    """
    here = globals().get("__file__") or ""
    if os.path.isfile(here):
        return os.path.join(os.path.dirname(os.path.abspath(here)), "include")
    from bocpy._c_abi_location import INCLUDE_DIR

    return os.path.abspath(INCLUDE_DIR)


def get_sources() -> list:
    """C sources an extension must compile in: ``bocpy/bocpy_msvc.c`` (the
    MSVC bodies of ``bocpy.h``'s atomics) on Windows, none elsewhere."""
    if sys.platform == "win32":
        return [os.path.join(get_include(), "bocpy", "bocpy_msvc.c")]
    return []
