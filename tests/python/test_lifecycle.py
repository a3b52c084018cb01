"""Runtime lifecycle: start, quiesce (non-destructive), wait (teardown), restart.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.5 (start: primary only, mismatched re-start
refused), §1.6 / §2.10 (WORKER_COUNT), §1.7 (wait: return shapes, no-op
without a runtime or inside a worker, restart afterwards, direct locals keep
their values), §1.8 (quiesce: non-destructive barrier, TimeoutError, no-op in
a worker), §1.9 (WaitResult), §2.9 (terminator: nested work completes before
the barrier returns). Mirrors upstream test_noticeboard.py
(TestWaitNoticeboardCapture shapes) and test_boc.py (TestTimeoutValidation,
TestCrossWorker stats).
"""

import math
import time
import unittest

import bocpy
from bocpy import (WORKER_COUNT, Cown, PinnedCown, WaitResult, pump, quiesce,
                   start, wait, when, whencall)
from bocpy_test_support import QUIESCE_TIMEOUT, rss_mb, under_address_sanitizer


def identity(c):
    return c.value


def read(c):
    with c as v:
        return v


class TestNoRuntime(unittest.TestCase):
    def setUp(self):
        wait()

    def test_wait_shapes_without_runtime(self):
        self.assertIsNone(wait())
        self.assertEqual(wait(stats=True), [])
        if hasattr(bocpy, "noticeboard"):
            self.assertEqual(wait(noticeboard=True), {})
            both = wait(stats=True, noticeboard=True)
            self.assertIsInstance(both, WaitResult)
            self.assertEqual(both, WaitResult([], {}))

    def test_quiesce_shapes_without_runtime(self):
        self.assertIsNone(quiesce())
        self.assertEqual(quiesce(stats=True), [])

    def test_whencall_without_runtime_raises(self):
        with self.assertRaisesRegex(RuntimeError, "not running"):
            whencall(identity, [Cown(1)], [])

    def test_pump_after_wait_raises(self):
        with self.assertRaises(RuntimeError):
            pump()

    def test_when_auto_starts(self):
        c = Cown(3)
        @when(c)
        def triple(c):
            return c.value * 3
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(triple.unwrap(), 9)
        wait()


class TestStart(unittest.TestCase):
    def setUp(self):
        wait()

    def tearDown(self):
        wait()

    def test_worker_count(self):
        self.assertIsInstance(WORKER_COUNT, int)
        self.assertGreaterEqual(WORKER_COUNT, 1)

    def test_start_returns_none_and_is_idempotent(self):
        self.assertIsNone(start(worker_count=2))
        self.assertIsNone(start(worker_count=2))
        self.assertIsNone(start())

    def test_mismatched_restart_refused(self):
        start(worker_count=2)
        with self.assertRaises(RuntimeError):
            start(worker_count=3)
        # The running runtime is untouched.
        @when()
        def still_ok():
            return "ok"
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(still_ok.unwrap(), "ok")

    def test_stats_shape(self):
        start(worker_count=2)
        c = Cown(0)
        for _ in range(10):
            @when(c)
            def inc(c):
                c.value += 1
        stats = quiesce(QUIESCE_TIMEOUT, stats=True)
        self.assertIsInstance(stats, list)
        self.assertEqual(len(stats), 2)
        for s in stats:
            self.assertIsInstance(s, dict)
        # Per-worker scheduler counters (spec §2.5), one dict per worker.
        self.assertEqual(sorted(s.get("worker_index") for s in stats), [0, 1])
        final = wait(stats=True)
        self.assertIsInstance(final, list)
        self.assertEqual(len(final), 2)
        self.assertTrue(all(isinstance(s, dict) for s in final))

    def test_scheduler_counters_account_for_dispatches(self):
        # Main-thread dispatches go to the workers' shared queues (pushed_remote);
        # a body's dispatch into its worker's empty private queue is
        # dispatched_to_pending. Every behavior ran, so the pops add up too.
        from bocpy import _core
        start(worker_count=2)
        n = 16
        outers = [Cown(0) for _ in range(n)]
        inners = [Cown(0) for _ in range(n)]
        for o, i in zip(outers, inners):
            @when(o)
            def outer(o, i=i):
                @when(i)
                def inner(i):
                    i.value += 1
        final = wait(stats=True)
        self.assertEqual(len(final), 2)
        total = lambda key: sum(s[key] for s in final)  # noqa: E731
        self.assertGreaterEqual(total("pushed_remote"), n)
        self.assertGreaterEqual(total("dispatched_to_pending"), 1)
        self.assertEqual(total("pushed_local") + total("dispatched_to_pending") + total("pushed_remote"),
                         total("popped_local") + total("popped_via_steal"))
        for s in final:
            self.assertLessEqual(s["steal_failures"], s["steal_attempts"])
            self.assertEqual(s["last_steal_attempt_ns"] == 0, s["steal_attempts"] == 0)
        self.assertEqual(_core.scheduler_stats(), [])

    @unittest.skipUnless(hasattr(bocpy, "noticeboard"), "no noticeboard")
    def test_wait_result_shape(self):
        start()
        @when()
        def work():
            return 1
        r = wait(stats=True, noticeboard=True)
        self.assertIsInstance(r, WaitResult)
        self.assertEqual(WaitResult._fields, ("stats", "noticeboard"))
        self.assertIsInstance(r.stats, list)
        self.assertIsInstance(r.noticeboard, dict)
        stats, board = r
        self.assertIs(stats, r.stats)
        self.assertIs(board, r.noticeboard)

    def test_start_in_worker_refused(self):
        @when()
        def try_start():
            try:
                bocpy.start()
            except RuntimeError:
                return "RuntimeError"
            return "started"
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(try_start.unwrap(), "RuntimeError")

    def test_wait_and_quiesce_in_worker_are_no_ops(self):
        @when()
        def barrier():
            return bocpy.quiesce(), bocpy.wait()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(barrier.unwrap(), (None, None))


class TestBarriers(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def test_quiesce_is_non_destructive(self):
        c = Cown(0)
        for round_ in range(3):
            @when(c)
            def inc(c):
                c.value += 1
                return c.value
            self.assertIsNone(quiesce(QUIESCE_TIMEOUT))
            self.assertEqual(inc.unwrap(), round_ + 1)
        self.assertEqual(read(c), 3)

    def test_quiesce_waits_for_nested_work(self):
        c = Cown([])
        @when(c)
        def outer(c):
            c.value.append("outer")
            @when(c)
            def middle(c):
                time.sleep(0.05)
                c.value.append("middle")
                @when(c)
                def inner(c):
                    time.sleep(0.05)
                    c.value.append("inner")
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read(c), ["outer", "middle", "inner"])

    def test_quiesce_timeout(self):
        c = Cown(0)
        @when(c)
        def slow(c):
            time.sleep(1.0)
            return "done"
        with self.assertRaises(TimeoutError):
            quiesce(0.1)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(slow.unwrap(), "done")

    def test_quiesce_timeout_validation(self):
        start()
        with self.assertRaises(ValueError):
            quiesce(math.nan)
        self.assertIsNone(quiesce(math.inf))
        self.assertIsNone(quiesce(-1))  # negative: an immediate check

    def test_unwrap_refused_while_anything_is_in_flight(self):
        @when()
        def quick():
            return 1
        c = Cown(0)
        @when(c)
        def slow(c):
            time.sleep(0.3)
        time.sleep(0.1)
        with self.assertRaisesRegex(RuntimeError, "in flight"):
            quick.unwrap()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(quick.unwrap(), 1)


class TestRestart(unittest.TestCase):
    def tearDown(self):
        wait()

    def test_restart_after_wait(self):
        c = Cown(0)
        for run in range(3):
            @when(c)
            def inc(c):
                c.value += 1
                return c.value
            self.assertIsNone(wait())
            self.assertEqual(inc.unwrap(), run + 1)
        self.assertEqual(read(c), 3)

    def test_direct_local_keeps_worker_value_across_wait(self):
        c = Cown([1])
        @when(c)
        def grow(c):
            c.value.append(2)
        wait()
        self.assertEqual(read(c), [1, 2])

    def test_restart_with_different_worker_count(self):
        start(worker_count=1)
        @when()
        def one():
            return 1
        wait()
        start(worker_count=2)
        @when()
        def two():
            return 2
        stats = wait(stats=True)
        self.assertEqual(len(stats), 2)
        self.assertEqual((one.unwrap(), two.unwrap()), (1, 2))

    def test_pinned_cowns_across_restart(self):
        value = []
        pc = PinnedCown(value)
        for run in range(3):
            @when(pc)
            def append(pc, run=run):
                pc.value.append(run)
            wait()
        self.assertEqual(value, [0, 1, 2])

    def test_scheduling_after_wait_from_fresh_cowns(self):
        wait()
        results = []
        for i in range(5):
            @when(Cown(i))
            def double(c):
                return c.value * 2
            results.append(double)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], [0, 2, 4, 6, 8])


# Worker state a behavior leaves behind; each start() must begin without it.
LEFT_BEHIND = []


class TestRepeatedCycles(unittest.TestCase):
    """Worker interpreters are kept across start()/wait() (runtime/python/
    worker_interpreters.h); what bocpy's semantics need fresh is reset."""

    def setUp(self):
        wait()

    def test_each_start_gets_fresh_bindings(self):
        for cycle in range(5):
            start(worker_count=2)
            c = Cown(cycle)

            @when(c)
            def leave(c):
                LEFT_BEHIND.append(c.value)   # the worker's copy of the module global
                return len(LEFT_BEHIND)

            wait()
            # The bindings (the script's __main__) are re-run per start, so the
            # worker's list never carries an earlier cycle's entry.
            self.assertEqual(leave.value, 1)

    @unittest.skipIf(under_address_sanitizer(), "ASan's quarantine keeps freed memory resident")
    def test_memory_stays_flat_over_many_cycles(self):
        start(worker_count=2)
        wait()
        before = rss_mb()
        for i in range(150):
            start(worker_count=2)
            c = Cown(i)

            @when(c)
            def bump(c):
                c.value += 1

            wait()
        grown = rss_mb() - before
        # Ending and re-creating two interpreters per cycle grew ~14 MB a
        # cycle; kept interpreters grow by far less than 1 MB.
        self.assertLess(grown, 60.0, f"RSS grew {grown:.0f} MB over 150 cycles")


if __name__ == "__main__":
    unittest.main()
