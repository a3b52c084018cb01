"""Test script for boids_demo's Python driver: the real flock, except that the tile behavior
covering cell rows 0 and 1 raises on every step.

The driver must report the exception (message + traceback) through drain_errors() while the
other tiles keep moving and every frame is still written back.
"""

import os
import sys

# The real simulation lives in python_scripts/; workers import this module too, so the path
# is set up at import time (no other side effect).
_SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python_scripts")
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

import boids  # noqa: E402


def failing_step(snap, job):
    if job[0] == 0:
        raise ZeroDivisionError("injected failure in the first tile")
    return boids.flock_step(snap, job)


class Simulation(boids.Simulation):
    tile_behavior = staticmethod(failing_step)
