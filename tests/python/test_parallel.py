"""Parallelism: behaviors on disjoint cowns really run at the same time.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.3 (ordering contract: behaviors sharing a cown
run one at a time; disjoint ones may run in parallel), §2.5 (work-stealing
worker queues), §2.11 (3.12+: per-interpreter GIL, true parallelism).
Mirrors upstream test_boc.py TestCrossWorker
(test_two_workers_observe_distinct_thread_ids).

Each worker is its own sub-interpreter with its own GIL: asserted from the
interpreters' own configuration and the threads bodies run on, not from
timings (the speed of two workers against one is a benchmark's figure,
tests/bench/python_bench.py).
"""

import os
import threading
import time
import unittest

from bocpy import Cown, quiesce, start, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT, where

ATTEMPTS = 5


def spin(seconds):
    """Pure-Python CPU work for about `seconds` of wall time."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds:
        for _ in range(1000):
            n += 1
    return n


def timed_spin(c, seconds):
    """Schedules a CPU-bound body on `c` that reports its wall and CPU times."""
    @when(c)
    def body(c, seconds=seconds):
        w0, c0 = time.perf_counter(), time.thread_time()
        spin(seconds)
        w1, c1 = time.perf_counter(), time.thread_time()
        return w0, w1, c1 - c0, where()
    return body


@unittest.skipIf((os.cpu_count() or 1) < 2, "needs at least 2 CPUs")
class TestParallel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wait()
        start(worker_count=2)

    @classmethod
    def tearDownClass(cls):
        wait()

    def test_workers_run_own_gil_interpreters(self):
        # What lets two bodies run Python at the same time: each worker is a
        # sub-interpreter of its own with a GIL of its own (and its own
        # allocator, which an own GIL requires). How much faster two workers
        # are is measured in tests/bench/python_bench.py, not asserted here.
        results = []
        for i in range(8):
            @when(Cown(i))
            def probe(c):
                import _interpreters
                current = _interpreters.get_current()
                ident = current[0] if isinstance(current, tuple) else current
                config = _interpreters.get_config(ident)
                return ident, config.gil, config.use_main_obmalloc
            results.append(probe)
        quiesce(QUIESCE_TIMEOUT)
        configs = {r.unwrap() for r in results}
        self.assertTrue(all(gil == "own" and not shared for _, gil, shared in configs), configs)
        self.assertNotIn(0, {ident for ident, _, _ in configs})  # never the main interpreter

    def test_two_workers_observe_distinct_threads(self):
        seen = set()
        for _ in range(ATTEMPTS):
            results = []
            for i in range(16):
                @when(Cown(i))
                def busy(c):
                    spin(0.02)
                    return where()
                results.append(busy)
            quiesce(QUIESCE_TIMEOUT)
            seen |= {r.unwrap() for r in results}
            if len({ident for _, ident in seen}) >= 2:
                break
        self.assertGreaterEqual(len({ident for _, ident in seen}), 2, seen)
        self.assertNotIn(threading.get_ident(), {ident for _, ident in seen})
        interps = {interp for interp, _ in seen}
        if None not in interps:
            self.assertEqual(len(interps), len({ident for _, ident in seen}),
                             "each worker thread should have its own interpreter")
            self.assertNotIn(0, interps)

    def test_shared_cown_serialises(self):
        c = Cown(None)
        results = [timed_spin(c, 0.03) for _ in range(8)]
        quiesce(QUIESCE_TIMEOUT)
        intervals = sorted((s, e) for s, e, _, _ in (r.unwrap() for r in results))
        for (s1, e1), (s2, e2) in zip(intervals, intervals[1:]):
            self.assertLessEqual(e1, s2, "two behaviors on one cown overlapped")


if __name__ == "__main__":
    unittest.main()
