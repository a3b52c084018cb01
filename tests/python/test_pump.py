"""pump(): the main-thread drain of pinned behaviors, and wait()'s auto-pump.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §3.4 (argument validation, preconditions, the loop:
non-blocking, non-preemptive deadline, max_behaviors, raise_on_error,
BaseException propagation, PumpResult), §3.5 (wait()/quiesce() auto-pump),
§3.7 (set_wait_pump_poll), §3.8 (reentrancy, thread affinity), §3.10
(BaseException summary) and the pinned-cown contract's "Pump Contract" and "Exception
Model". Mirrors upstream test_pinned_pump.py (TestPinnedCownsManualPump,
TestPumpArgValidation, TestPumpRuntimeRequired, TestPumpWatchdogOverflow,
set_wait_pump_poll tests, test_body_raise_drains_queue).

Pinned-only request sets scheduled from main are runnable at once, so they
sit in the pump queue until pump() / quiesce() / wait() runs them.
"""

import threading
import time
import typing
import unittest

import bocpy
from bocpy import (Cown, PinnedCown, PumpResult, pump, quiesce,
                   set_wait_pump_poll, start, wait, when)
from bocpy_test_support import QUIESCE_TIMEOUT, where

MAX_PUMP_MS = (1 << 63) // 1_000_000 - 1  # 9_223_372_036_853
BAD_BOUNDS = (0, -1, -1000, 1.5, "1", True, False)


def queue_sleepers(count, seconds):
    """Queues `count` pinned behaviors (distinct pinned cowns) that sleep."""
    results = []
    for _ in range(count):
        pc = PinnedCown(None)
        @when(pc)
        def sleeper(pc, seconds=seconds):
            time.sleep(seconds)
            return "slept"
        results.append(sleeper)
    return results


def queue_returning(values):
    """Queues one pinned behavior per value, each returning it."""
    results = []
    for v in values:
        pc = PinnedCown(v)
        @when(pc)
        def give(pc):
            return pc.value
        results.append(give)
    return results


class TestPumpNoRuntime(unittest.TestCase):
    """pump() and its validation with no runtime (spec §3.4 preconditions)."""

    def setUp(self):
        wait()

    def test_pump_without_runtime_raises(self):
        with self.assertRaises(RuntimeError) as cm:
            pump()
        self.assertIn("start", str(cm.exception))
        # ...and it did not start one.
        self.assertEqual(wait(stats=True), [])

    def test_validation_happens_before_runtime_check(self):
        with self.assertRaises(TypeError):
            pump(deadline_ms=0)
        with self.assertRaises(TypeError):
            pump(max_behaviors=True)
        with self.assertRaises(OverflowError):
            pump(deadline_ms=MAX_PUMP_MS + 1)


class TestPumpValidation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start()

    @classmethod
    def tearDownClass(cls):
        wait()

    def assert_pump_rejects(self, name, values, exc_type):
        """pump(name=v) raises exc_type naming the parameter, for every v."""
        for value in values:
            with self.subTest(**{name: value}):
                with self.assertRaises(exc_type) as cm:
                    pump(**{name: value})
                self.assertIn(name, str(cm.exception))

    def test_deadline_ms_rejects_bad_input(self):
        self.assert_pump_rejects("deadline_ms", BAD_BOUNDS, TypeError)

    def test_max_behaviors_rejects_bad_input(self):
        self.assert_pump_rejects("max_behaviors", BAD_BOUNDS, TypeError)

    def test_deadline_ms_overflow(self):
        self.assert_pump_rejects("deadline_ms", (MAX_PUMP_MS + 1, 2**64, 2**200), OverflowError)

    def test_deadline_ms_at_cap_accepted(self):
        self.assertEqual(pump(deadline_ms=MAX_PUMP_MS), PumpResult(0, False, 0))

    def test_max_behaviors_has_no_cap(self):
        self.assertEqual(pump(max_behaviors=2**80), PumpResult(0, False, 0))

    def test_none_means_unbounded(self):
        self.assertEqual(pump(deadline_ms=None, max_behaviors=None), PumpResult(0, False, 0))

    def test_raise_on_error_is_truthiness(self):
        for flag in (0, 1, "", "yes", [], None):
            with self.subTest(flag=flag):
                self.assertEqual(pump(raise_on_error=flag), PumpResult(0, False, 0))


class TestPumpResult(unittest.TestCase):
    def test_is_named_tuple(self):
        self.assertTrue(issubclass(PumpResult, tuple))
        self.assertEqual(PumpResult._fields, ("executed", "deadline_reached", "raised"))
        self.assertEqual(typing.get_type_hints(PumpResult),
                         {"executed": int, "deadline_reached": bool, "raised": int})
        r = PumpResult(3, True, 1)
        self.assertEqual((r.executed, r.deadline_reached, r.raised), (3, True, 1))
        self.assertEqual(r, (3, True, 1))
        self.assertEqual(r._asdict(), {"executed": 3, "deadline_reached": True, "raised": 1})

    def test_exported(self):
        for name in ("PinnedCown", "pump", "PumpResult", "set_pump_watchdog", "set_wait_pump_poll"):
            self.assertIn(name, bocpy.__all__)


class PumpTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start()

    @classmethod
    def tearDownClass(cls):
        wait()

    def tearDown(self):
        quiesce(QUIESCE_TIMEOUT)


class TestPumpLoop(PumpTestCase):
    def test_empty_queue(self):
        r = pump()
        self.assertEqual(r, PumpResult(0, False, 0))
        self.assertIs(type(r.executed), int)
        self.assertIs(type(r.deadline_reached), bool)
        self.assertIs(type(r.raised), int)

    def test_returns_pump_result(self):
        queue_returning([1])
        r = pump()
        self.assertIsInstance(r, PumpResult)
        self.assertEqual(r, PumpResult(1, False, 0))

    def test_drains_everything_by_default(self):
        results = queue_returning(range(10))
        self.assertEqual(pump(), PumpResult(10, False, 0))
        self.assertEqual(pump(), PumpResult(0, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(10)))

    def test_max_behaviors_caps_drain(self):
        results = queue_returning(range(10))
        self.assertEqual(pump(max_behaviors=3), PumpResult(3, False, 0))
        self.assertEqual(pump(max_behaviors=1), PumpResult(1, False, 0))
        self.assertEqual(pump(), PumpResult(6, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(10)))

    def test_successors_released_during_the_call_are_picked_up(self):
        pc = PinnedCown([])
        for i in range(5):
            @when(pc)
            def append(pc, i=i):
                pc.value.append(i)
        # Only the first is runnable; each body's release makes the next one
        # runnable, and the same pump() call runs it.
        self.assertEqual(pump(), PumpResult(5, False, 0))
        self.assertEqual(pc.value, [0, 1, 2, 3, 4])

    def test_max_behaviors_on_a_chain(self):
        pc = PinnedCown([])
        for i in range(5):
            @when(pc)
            def append(pc, i=i):
                pc.value.append(i)
        self.assertEqual(pump(max_behaviors=2), PumpResult(2, False, 0))
        self.assertEqual(pc.value, [0, 1])
        self.assertEqual(pump(), PumpResult(3, False, 0))

    def test_work_scheduled_by_a_pinned_body_runs_in_the_same_call(self):
        pc1, pc2 = PinnedCown("one"), PinnedCown("two")
        @when(pc1)
        def first(pc1, pc2=pc2):
            @when(pc2)
            def second(pc2):
                return pc2.value
            return second
        self.assertEqual(pump(), PumpResult(2, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(first.unwrap().unwrap(), "two")

    def test_deadline_is_non_preemptive(self):
        queue_sleepers(5, 0.05)
        r = pump(deadline_ms=20)
        # The first body already overruns the budget: it runs to its end (its
        # result is there), and no second body starts after the deadline.
        self.assertEqual(r, PumpResult(1, True, 0))
        self.assertEqual(pump(), PumpResult(4, False, 0))

    def test_deadline_reached_even_when_last_behavior_drains(self):
        # Spec §3.4 [verified]: deadline_reached is True whenever the loop
        # ended by the deadline test, even if that emptied the queue.
        queue_sleepers(1, 0.03)
        self.assertEqual(pump(deadline_ms=5), PumpResult(1, True, 0))

    def test_generous_deadline_not_reached(self):
        queue_returning(range(3))
        self.assertEqual(pump(deadline_ms=60_000), PumpResult(3, False, 0))

    def test_deadline_caps_drain(self):
        # Each body sleeps past the 1 ms budget, and the deadline is checked
        # after every behavior: exactly one runs, the rest stay queued.
        queue_sleepers(10, 0.003)
        self.assertEqual(pump(deadline_ms=1), PumpResult(1, True, 0))
        self.assertEqual(pump(), PumpResult(9, False, 0))

    def test_deadline_and_max_behaviors_together(self):
        queue_returning(range(6))
        self.assertEqual(pump(deadline_ms=60_000, max_behaviors=4), PumpResult(4, False, 0))
        self.assertEqual(pump(deadline_ms=60_000, max_behaviors=4), PumpResult(2, False, 0))

    def test_pump_from_another_main_interpreter_thread(self):
        # Classic CPython: any thread of the main interpreter may pump (§3.8).
        pc = PinnedCown([])
        @when(pc)
        def body(pc):
            pc.value.append("ran")
            return where()
        out = {}
        def pumper():
            try:
                out["result"] = pump()
            except BaseException as e:  # report, don't kill the thread silently
                out["error"] = e
            out["ident"] = threading.get_ident()
        t = threading.Thread(target=pumper)
        t.start()
        t.join(QUIESCE_TIMEOUT)
        self.assertNotIn("error", out)
        self.assertEqual(out["result"], PumpResult(1, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        interp, ident = body.unwrap()
        if interp is not None:
            self.assertEqual(interp, 0)
        self.assertEqual(ident, out["ident"])
        self.assertEqual(pc.value, ["ran"])

    def test_pump_in_a_worker_raises(self):
        @when()
        def try_pump():
            try:
                bocpy.pump()
            except RuntimeError as e:
                return "RuntimeError", str(e)
            return "no error", ""
        quiesce(QUIESCE_TIMEOUT)
        kind, _ = try_pump.unwrap()
        self.assertEqual(kind, "RuntimeError")

    def test_pump_is_not_reentrant(self):
        pc = PinnedCown(None)
        @when(pc)
        def nested(pc):
            try:
                pump()
            except RuntimeError as e:
                return str(e)
            return "no error"
        self.assertEqual(pump(), PumpResult(1, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        self.assertIn("not reentrant", nested.unwrap())

    def test_pump_is_not_reentrant_under_auto_pump(self):
        pc = PinnedCown(None)
        @when(pc)
        def nested(pc):
            try:
                pump(max_behaviors=1)
            except RuntimeError as e:
                return str(e)
            return "no error"
        quiesce(QUIESCE_TIMEOUT)
        self.assertIn("not reentrant", nested.unwrap())


class TestPumpErrors(PumpTestCase):
    def test_body_exceptions_are_captured_and_counted(self):
        pcs = [PinnedCown(i) for i in range(3)]
        @when(pcs[0])
        def ok1(p):
            return "ok1"
        @when(pcs[1])
        def bad(p):
            raise ValueError("boom")
        @when(pcs[2])
        def ok2(p):
            return "ok2"
        # Default: nothing re-raised; executed counts every lifecycle, raised
        # only the bodies that raised an Exception.
        self.assertEqual(pump(), PumpResult(3, False, 1))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(ok1.unwrap(), "ok1")
        with self.assertRaisesRegex(ValueError, "boom"):
            bad.unwrap()
        self.assertEqual(ok2.unwrap(), "ok2")

    def test_exception_flag_set_on_result(self):
        pc = PinnedCown(None)
        @when(pc)
        def bad(pc):
            raise KeyError("k")
        @when(bad)
        def inspect(r):
            return r.exception, type(r.value).__name__
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(inspect.unwrap(), (True, "KeyError"))

    def test_raise_on_error_reraises_first_and_keeps_rest_queued(self):
        pcs = [PinnedCown(i) for i in range(3)]
        @when(pcs[0])
        def e1(p):
            raise ValueError("first")
        @when(pcs[1])
        def e2(p):
            raise ValueError("second")
        @when(pcs[2])
        def ok(p):
            return "ok"
        with self.assertRaises(ValueError) as cm:
            pump(raise_on_error=True)
        self.assertEqual(str(cm.exception), "first")
        # Exactly the remainder runs on the next call.
        self.assertEqual(pump(), PumpResult(2, False, 1))
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaisesRegex(ValueError, "first"):
            e1.unwrap()  # also left in the result cown
        with self.assertRaisesRegex(ValueError, "second"):
            e2.unwrap()
        self.assertEqual(ok.unwrap(), "ok")

    def test_raise_on_error_without_errors_drains(self):
        queue_returning(range(4))
        self.assertEqual(pump(raise_on_error=True), PumpResult(4, False, 0))

    def assert_base_exception_propagates(self, exc, followers):
        """A pinned body raising `exc` (a BaseException only) makes pump() re-raise
        it after that behavior; the `followers` queued after it stay queued."""
        pcs = [PinnedCown(i) for i in range(1 + len(followers))]

        @when(pcs[0])
        def failing(p, exc=exc):
            raise exc
        results = []
        for pc, tag in zip(pcs[1:], followers):
            @when(pc)
            def fine(p, tag=tag):
                return tag
            results.append(fine)
        with self.assertRaises(type(exc)) as cm:
            pump(raise_on_error=False)
        self.assertEqual(pump(), PumpResult(len(followers), False, 0))
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(type(exc)):
            failing.unwrap()  # captured in the result cown too
        self.assertEqual([r.unwrap() for r in results], list(followers))
        return cm.exception

    def test_keyboard_interrupt_propagates_rest_stays_queued(self):
        self.assert_base_exception_propagates(KeyboardInterrupt(), ("fine1", "fine2"))

    def test_system_exit_propagates_rest_stays_queued(self):
        raised = self.assert_base_exception_propagates(SystemExit(7), ("fine",))
        self.assertEqual(raised.code, 7)

    def test_generator_exit_propagates(self):
        self.assert_base_exception_propagates(GeneratorExit(), ("fine",))

    def test_keyboard_interrupt_after_an_ordinary_error(self):
        pcs = [PinnedCown(i) for i in range(2)]
        @when(pcs[0])
        def bad(p):
            raise ValueError("counted")
        @when(pcs[1])
        def interrupt(p):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            pump()
        self.assertEqual(pump(), PumpResult(0, False, 0))
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(ValueError):
            bad.unwrap()
        with self.assertRaises(KeyboardInterrupt):
            interrupt.unwrap()

    def test_keyboard_interrupt_from_auto_pump(self):
        # §3.5 [verified]: a BaseException from a pinned body propagates out
        # of quiesce(); the next pinned behavior stays queued.
        pcs = [PinnedCown(i) for i in range(2)]
        @when(pcs[0])
        def interrupt(p):
            raise KeyboardInterrupt
        @when(pcs[1])
        def fine(p):
            return "fine"
        with self.assertRaises(KeyboardInterrupt):
            quiesce(QUIESCE_TIMEOUT)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(fine.unwrap(), "fine")
        with self.assertRaises(KeyboardInterrupt):
            interrupt.unwrap()

    def test_pinned_body_exception_does_not_block_successors(self):
        pc = PinnedCown([])
        @when(pc)
        def bad(pc):
            raise ValueError("x")
        @when(pc)
        def survived(pc):
            return "survived"
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(ValueError):
            bad.unwrap()
        self.assertEqual(survived.unwrap(), "survived")
        self.assertEqual(pump(), PumpResult(0, False, 0))


class TestAutoPump(PumpTestCase):
    def test_quiesce_drains_pinned_without_pump(self):
        pc = PinnedCown(0)
        @when(pc)
        def body(pc):
            pc.value += 1
            return pc.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(body.unwrap(), 1)
        self.assertEqual(pump(), PumpResult(0, False, 0))

    def test_quiesce_wakes_for_pinned_work_released_by_a_worker(self):
        pc = PinnedCown([])
        u = Cown(0)
        @when(u)
        def slow(u):
            time.sleep(0.2)
            u.value = 41
        @when(pc, u)
        def after(pc, u):
            pc.value.append(u.value + 1)
            return where()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pc.value, [42])
        interp, ident = after.unwrap()
        self.assertEqual(ident, threading.get_ident())

    def test_quiesce_wakes_for_pinned_work_scheduled_by_a_worker(self):
        pc = PinnedCown([])
        @when()
        def w(pc=pc):
            time.sleep(0.1)
            @when(pc)
            def on_main(p):
                p.value.append("late")
            return on_main
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pc.value, ["late"])

    def test_chain_worker_pinned_worker_pinned(self):
        pc = PinnedCown([])
        u = Cown(1)
        for _ in range(3):
            @when(u)
            def double(u):
                u.value *= 2
            @when(pc, u)
            def record(pc, u):
                pc.value.append(u.value)
                u.value += 1
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pc.value, [2, 6, 14])

    def test_wait_drains_pinned_work(self):
        value = []
        pc = PinnedCown(value)
        u = Cown(5)
        @when(u)
        def compute(u):
            return u.value * 10
        @when(compute, pc)
        def store(r, pc):
            pc.value.append(r.value)
            return "stored"
        wait()
        self.assertEqual(value, [50])
        self.assertEqual(store.unwrap(), "stored")
        start()  # the class expects a live runtime

    def test_body_exceptions_never_abort_quiesce(self):
        pcs = [PinnedCown(i) for i in range(3)]
        results = []
        for p in pcs:
            @when(p)
            def bad(p):
                raise ValueError(p.value)
            results.append(bad)
        quiesce(QUIESCE_TIMEOUT)
        for i, r in enumerate(results):
            with self.assertRaises(ValueError) as cm:
                r.unwrap()
            self.assertEqual(cm.exception.args, (i,))

    def test_many_pinned_behaviors_via_quiesce(self):
        # More than one auto-pump batch (bocpy pumps at most 64 per wake).
        results = queue_returning(range(150))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(150)))


class TestWaitPumpPoll(PumpTestCase):
    def tearDown(self):
        set_wait_pump_poll(50)
        super().tearDown()

    def test_validation(self):
        for bad in (0, -1, 1.5, True, False, "5", None):
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    set_wait_pump_poll(bad)

    def test_set_and_use(self):
        self.assertIsNone(set_wait_pump_poll(5))
        results = queue_returning(range(5))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(5)))
        self.assertIsNone(set_wait_pump_poll(200))
        results = queue_returning(range(5))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(5)))

    def test_default_argument(self):
        self.assertIsNone(set_wait_pump_poll())


if __name__ == "__main__":
    unittest.main()
