"""bocpy-level benchmarks, run by the runner: `bocpy tests/bench/python_bench.py`.

Prints medians over repeats of:
  * chain-ring (null payload): chains of behaviors, each over two adjacent ring
    cowns plus the chain's state cown, rescheduling its successor from the
    worker (bocpy's examples/benchmark.py --null-payload shape); behaviors/s
    for 1 and 2 workers;
  * pinned drain: pump() cost per queued pinned behavior, with the body's own
    call cost measured separately and subtracted;
  * empty pump(): cost of a pump() call with nothing queued;
  * schedule from Python: one @when over one cown, from main;
  * round trip: main -> worker behavior -> pinned write-back -> pump() on main.
"""

import statistics
import sys
import time

from bocpy import Cown, PinnedCown, pump, quiesce, start, wait, when, whencall
import bocpy._core as _core

RING = 128
CHAINS = 8
REPEATS = 5


def ring_step(a, b, st, limit=0):
    st.value += 1
    if st.value < limit:
        whencall(ring_step, [b, b.value, st], [limit])


def link(c, nxt=None):
    c.value = nxt


def chain_ring(workers, per_chain):
    start(worker_count=workers)
    ring = [Cown(None) for _ in range(RING)]
    for i, c in enumerate(ring):
        whencall(link, [c], [ring[(i + 1) % RING]])  # each ring cown holds its successor's handle
    quiesce()
    states = [Cown(0) for _ in range(CHAINS)]
    t0 = time.perf_counter()
    for k, st in enumerate(states):
        i = k * (RING // CHAINS)
        whencall(ring_step, [ring[i], ring[(i + 1) % RING], st], [per_chain])
    quiesce()
    elapsed = time.perf_counter() - t0
    wait()
    return CHAINS * per_chain / elapsed


def noop(pc):
    pass


def pinned_drain(n=2000):
    start(worker_count=1)
    pins = [PinnedCown(i) for i in range(n)]
    for p in pins:
        whencall(noop, [p], [])
    while _core.main_pump_queue_depth() < n:
        time.sleep(0.001)
    t0 = time.perf_counter()
    r = pump()
    elapsed = time.perf_counter() - t0
    assert r.executed == n, r
    # The body's own cost: calling it with a capsule argument, on main.
    cap = pins[0]
    t1 = time.perf_counter()
    for _ in range(n):
        noop(cap)
    body = time.perf_counter() - t1
    wait()
    return elapsed / n * 1e6, body / n * 1e6


def empty_pump(n=200_000):
    start(worker_count=1)
    t0 = time.perf_counter()
    for _ in range(n):
        pump()
    elapsed = time.perf_counter() - t0
    wait()
    return elapsed / n * 1e6


def schedule_cost(n=20_000):
    start(worker_count=1)
    cowns = [Cown(0) for _ in range(n)]
    t0 = time.perf_counter()
    for c in cowns:
        @when(c)
        def _(c):
            pass
    elapsed = time.perf_counter() - t0
    wait()
    return elapsed / n * 1e6


def writeback(pc, v=0):
    pc.value.append(v)


def worker_then_pinned(u, pc=None):
    u.value += 1
    whencall(writeback, [pc], [u.value])


def round_trip(n=2000):
    start(worker_count=1)
    pc = PinnedCown([])
    u = Cown(0)
    t0 = time.perf_counter()
    for i in range(n):
        whencall(worker_then_pinned, [u], [pc])
        while True:
            if pump().executed:
                break
    elapsed = time.perf_counter() - t0
    wait()
    assert pc.value == list(range(1, n + 1))
    return elapsed / n * 1e6


def median_of(fn, *args):
    runs = [fn(*args) for _ in range(REPEATS)]
    if isinstance(runs[0], tuple):
        return tuple(statistics.median(r[i] for r in runs) for i in range(len(runs[0])))
    return statistics.median(runs)


def main():
    print(f"python {sys.version.split()[0]}, medians of {REPEATS} runs")
    for w in (1, 2):
        bps = median_of(chain_ring, w, 20_000)
        print(f"chain-ring null payload, {w} worker(s): {bps:,.0f} behaviors/s ({bps / w:,.0f} per worker)")
    drain, body = median_of(pinned_drain)
    print(f"pinned drain: {drain:.3f} us per behavior incl. body; body call alone {body:.3f} us; "
          f"runtime share {drain - body:.3f} us")
    print(f"empty pump(): {median_of(empty_pump):.3f} us")
    print(f"schedule from Python (@when over one cown): {median_of(schedule_cost):.3f} us")
    print(f"worker -> pinned write-back -> pump round trip: {median_of(round_trip):.1f} us")


if __name__ == "__main__":
    main()
