"""Parallelism: behaviors on disjoint cowns really run at the same time.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.3 (ordering contract: behaviors sharing a cown
run one at a time; disjoint ones may run in parallel), §2.5 (work-stealing
worker queues), §2.11 (3.12+: per-interpreter GIL, true parallelism).
Mirrors upstream test_boc.py TestCrossWorker
(test_two_workers_observe_distinct_thread_ids).

Each worker is its own sub-interpreter with its own GIL, so two CPU-bound
pure-Python bodies overlap in time *and* each keeps a core busy. The check
uses thread CPU time: under one shared GIL, two bodies together could never
burn more CPU per wall second than a single body does alone.
"""

import os
import threading
import time
import unittest

from bocpy import Cown, quiesce, start, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT, where

ATTEMPTS = 5
SPIN_SECONDS = 0.4


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

    def test_two_cpu_bound_behaviors_overlap(self):
        # Compare CPU per wall second of two concurrent bodies with that of a
        # solo body measured just before: in parallel the pair gets about
        # twice the solo figure (even on a loaded machine); under one shared
        # GIL it could never exceed it.
        attempts = []
        for _ in range(ATTEMPTS):
            solo = timed_spin(Cown("solo"), SPIN_SECONDS)
            quiesce(QUIESCE_TIMEOUT)
            s0, e0, cpu0, _ = solo.unwrap()
            solo_use = cpu0 / (e0 - s0)
            ra, rb = timed_spin(Cown("a"), SPIN_SECONDS), timed_spin(Cown("b"), SPIN_SECONDS)
            quiesce(QUIESCE_TIMEOUT)
            (s1, e1, cpu1, loc1), (s2, e2, cpu2, loc2) = ra.unwrap(), rb.unwrap()
            overlap = min(e1, e2) - max(s1, s2)
            span = max(e1, e2) - min(s1, s2)
            pair_use = (cpu1 + cpu2) / span
            attempts.append(dict(overlap=round(overlap, 3), span=round(span, 3),
                                 solo_use=round(solo_use, 2), pair_use=round(pair_use, 2),
                                 distinct_threads=loc1[1] != loc2[1]))
            if overlap > 0.5 * SPIN_SECONDS and loc1[1] != loc2[1] and pair_use > 1.3 * solo_use:
                return
        self.fail(f"no parallel execution observed in {ATTEMPTS} attempts: {attempts}")

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
