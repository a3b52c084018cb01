"""Cost of a Matrix crossing into a cown and back (run under the bocpy runner).

    build/<dir>/runtime/tools/bocpy tests/matrix/bench_crossing.py

Times three crossings for a 1 x 1 and a 1000 x 1000 Matrix (medians over
repeated runs): `Cown(m)` (the value leaves the main interpreter), `with cown
as v:` (main acquires it and releases it again: in and out once more) and a
behavior on a worker followed by quiesce() (the buffer goes to the worker and
back; includes the scheduling and quiesce round trip). With the
buffer moved (O(1)) both sizes cost about the same; a copying transport
grows with the 8 MB of a 1000 x 1000 buffer.
"""
import statistics
import time

from bocpy import Cown, Matrix, quiesce, wait, when


def median_us(samples):
    return statistics.median(samples) * 1e6


def bench(rows, cols, reps):
    make, acquire, behave = [], [], []
    for _ in range(reps):
        m = Matrix(rows, cols, 1.0)
        t0 = time.perf_counter()
        c = Cown(m)
        make.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with c as v:
            pass
        acquire.append(time.perf_counter() - t0)

    c = Cown(Matrix(rows, cols, 1.0))
    for _ in range(reps):
        t0 = time.perf_counter()

        @when(c)
        def _touch(c):
            c.value[0, 0] = 2.0

        quiesce()  # the behavior ran: the buffer went to a worker and back
        behave.append(time.perf_counter() - t0)
    with c as v:
        assert v[0, 0] == 2.0
    return median_us(make), median_us(acquire), median_us(behave)


if __name__ == "__main__":
    print(f"{'shape':>12} {'Cown(m) us':>12} {'with c us':>12} {'behavior+quiesce us':>20}")
    for rows, cols, reps in ((1, 1, 200), (1000, 1000, 50)):
        make, acquire, behave = bench(rows, cols, reps)
        print(f"{rows:>5} x {cols:<5} {make:12.1f} {acquire:12.1f} {behave:20.1f}")
    wait()
