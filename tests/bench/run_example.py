"""Runs one of bocpy's examples unmodified as __main__, under whichever bocpy
is on PYTHONPATH (real bocpy or this project's): `python run_example.py
PATH/TO/example.py ARGS...`. Only fills in `_core.physical_cpu_count` when the
bocpy under test lacks it (the examples call it for a warning)."""

import os
import runpy
import sys

from bocpy import _core

if not hasattr(_core, "physical_cpu_count"):
    _core.physical_cpu_count = lambda: os.cpu_count() or 1

path = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
runpy.run_path(path, run_name="__main__")
