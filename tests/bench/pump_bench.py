"""pump() micro-benchmark, portable between real bocpy and this project:
`python pump_bench.py [--n N]`. Schedules N behaviors over N PinnedCowns
from main, waits until they are queued, then times one draining pump() and
a loop of N empty pump() calls. Prints one JSON line with the seconds."""

import argparse
import json
import time

from bocpy import PinnedCown, pump, start, wait, when


def noop_on(pc):
    @when(pc)
    def _(p):
        p.value += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20000)
    args = p.parse_args()
    start(worker_count=1)
    pins = [PinnedCown(0) for _ in range(args.n)]
    for pc in pins:
        noop_on(pc)
    done = 0
    t0 = time.perf_counter()
    while done < args.n:
        done += pump().executed
    drain = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in range(args.n):
        pump()
    empty = time.perf_counter() - t1
    wait()
    assert all(pc.value == 1 for pc in pins)
    print(json.dumps({"n": args.n, "drain_seconds": drain, "empty_seconds": empty}))


if __name__ == "__main__":
    main()
