"""Test helper for boids_gl.GlBuffer: runs functions that use the GL handle on a worker
interpreter, where every use must be refused."""

import bocpy
from bocpy import Matrix, whencall


def write_from_worker(gl):
    gl.write(Matrix(1, 2), Matrix(1, 2))


def write_range_from_worker(gl):
    gl.write_range(0, Matrix(1, 2), Matrix(1, 2))


def count_from_worker(gl):
    return gl.count


def attached_from_worker(gl):
    return gl.attached


def run_on_worker(fn, *captures):
    """Runs fn(*captures) as a worker behavior and waits for it.
    Returns (raised, repr of the value or exception, traceback text)."""
    bocpy.start()
    result = whencall(fn, [], list(captures))
    bocpy.quiesce()
    result.acquire()
    try:
        raised = bool(result.exception)
        outcome = (raised, repr(result.value), result.traceback or "")
        result.exception = False  # handled: no "unhandled exception" note when it is dropped
        return outcome
    finally:
        result.release()


def write_on_main(gl, n):
    positions = Matrix(n, 2, 1.5)
    velocities = Matrix(n, 2, -2.0)
    gl.write(positions, velocities)
    gl.write_range(n, Matrix.vector([7.0, 8.0]), Matrix.vector([9.0, 10.0]))
    return gl.count
