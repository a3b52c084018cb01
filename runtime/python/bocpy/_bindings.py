"""The worker-bindings entry points the runtime calls by name (bocpy.behaviors
start(): bindings_for_main; runtime/python/module_core.cpp
load_worker_bindings: install_worker_main). The reducer itself lives in
bocpy.transpiler; this module only keeps those call sites stable."""

from bocpy.transpiler import bindings_for_main, install_worker_main

__all__ = ["bindings_for_main", "install_worker_main"]
