"""bocpy._core.BehaviorCapsule and the whencall steps @when goes through.

A capsule is a behavior built but not scheduled (runtime/python/behavior_capsule.cpp):
schedule() hands it to the runtime once, set_drop_exception() leaves an exception
on its result cown without running the body. @when takes bocpy's whencall steps,
BehaviorCapsule(...), terminator_inc(), schedule(), terminator_dec() on failure,
through bocpy._core's attributes when one of them was replaced
(runtime/python/core_schedule.cpp).
"""

import time
import unittest

import bocpy
from bocpy import Cown, PinnedCown, _core, quiesce, start, wait, when
from bocpy.behaviors import register_behavior
from bocpy_test_support import QUIESCE_TIMEOUT


def add_pair(a, b, k):
    """A module-level body over two cowns and one capture."""
    return a.value + b.value + k


def total(xs, k):
    """A body over one group parameter."""
    return sum(x.value for x in xs) + k


def constant(k):
    """A body over no cowns."""
    return k


class Replaced:
    """Sets bocpy._core.<name> for the duration of a with block."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __enter__(self):
        self.saved = getattr(_core, self.name)
        setattr(_core, self.name, self.value)

    def __exit__(self, *exc):
        setattr(_core, self.name, self.saved)
        return False


class TestBehaviorCapsule(unittest.TestCase):
    def tearDown(self):
        wait()

    def test_a_scheduled_capsule_runs_its_body_over_its_cowns(self):
        start(worker_count=2)
        a, b, result = Cown(2), Cown(3), Cown(None)
        capsule = _core.BehaviorCapsule(register_behavior(add_pair), result.impl, [(1, a.impl), (2, b.impl)], [10])
        capsule.schedule()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(result.unwrap(), 15)

    def test_negative_group_ids_make_one_list_parameter(self):
        start(worker_count=2)
        cowns = [Cown(i) for i in range(5)]
        result = Cown(None)
        _core.BehaviorCapsule(register_behavior(total), result.impl, [(-1, c.impl) for c in cowns], [100]).schedule()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(result.unwrap(), 110)

    def test_a_capsule_schedules_once(self):
        start(worker_count=1)
        capsule = _core.BehaviorCapsule(register_behavior(constant), Cown(None).impl, [], [0])
        capsule.schedule()
        with self.assertRaisesRegex(RuntimeError, "already scheduled"):
            capsule.schedule()
        with self.assertRaisesRegex(RuntimeError, "already scheduled"):
            capsule.set_drop_exception(RuntimeError("late"))

    def test_schedule_without_a_runtime_raises_and_runs_nothing(self):
        wait()
        result = Cown("untouched")
        capsule = _core.BehaviorCapsule(register_behavior(total), result.impl, [], [0])
        with self.assertRaisesRegex(RuntimeError, "bocpy runtime is not running"):
            capsule.schedule()
        self.assertEqual(result.unwrap(), "untouched")

    def test_an_unknown_key_is_refused_at_schedule(self):
        start(worker_count=1)
        capsule = _core.BehaviorCapsule("no such behavior", Cown(None).impl, [], [])
        with self.assertRaisesRegex(RuntimeError, "no behavior is registered under 'no such behavior'"):
            capsule.schedule()

    def test_set_drop_exception_flags_the_result_and_leaves_it_released(self):
        result = Cown(None)
        capsule = _core.BehaviorCapsule("never run", result.impl, [(1, Cown(1).impl)], [])
        capsule.set_drop_exception(RuntimeError("dropped at stop()"))
        capsule.release_all()  # nothing was acquired: nothing to hand on
        result.acquire()
        try:
            self.assertTrue(result.exception)
            self.assertIsInstance(result.value, RuntimeError)
            self.assertIn("dropped at stop()", str(result.value))
            result.exception = False  # seen: not reported as unhandled when the cown dies
        finally:
            result.release()
        with self.assertRaises(TypeError):
            capsule.set_drop_exception("not an exception")

    def test_bad_arguments_raise_type_errors(self):
        with self.assertRaisesRegex(TypeError, "result must be a cown"):
            _core.BehaviorCapsule("k", 42, [], [])
        with self.assertRaisesRegex(TypeError, r"args\[0\] must be a \(group_id, cown\) pair"):
            _core.BehaviorCapsule("k", Cown(None).impl, [Cown(1).impl], [])
        with self.assertRaisesRegex(TypeError, "regular cown"):
            _core.BehaviorCapsule("k", PinnedCown(None).impl, [], [])


class TestWhencallSteps(unittest.TestCase):
    def tearDown(self):
        wait()

    def test_a_replaced_capsule_type_is_what_when_schedules_through(self):
        start(worker_count=2)
        built = []

        original = _core.BehaviorCapsule

        class Recording:
            def __init__(self, *args):
                built.append(args)
                self.real = original(*args)

            def schedule(self):
                self.real.schedule()

        c = Cown(20)

        @when(c)
        def before(c):  # the inline path: what @when compares against is looked up now
            return c.value

        with Replaced("BehaviorCapsule", Recording):
            @when(c)
            def plus_one(c, k=1):
                return c.value + k
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(plus_one.unwrap(), 21)
        (key, result, pairs, captures), = built
        self.assertIsInstance(key, str)
        self.assertEqual([gid for gid, _ in pairs], [1])
        self.assertEqual(captures, [1])
        self.assertEqual(_core.terminator_count(), 1)  # only the runtime's seed: the hold was handed over

        @when(c)
        def after(c):  # restored: inline again, nothing recorded
            return c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual((before.unwrap(), after.unwrap(), len(built)), (20, 20, 1))

    def test_a_failing_schedule_drops_its_hold_and_propagates(self):
        start(worker_count=1)
        before = _core.terminator_count()
        boom = RuntimeError("schedule failed")

        class Failing:
            def __init__(self, *args):
                pass

            def schedule(self):
                raise boom

        with Replaced("BehaviorCapsule", Failing):
            with self.assertRaises(RuntimeError) as info:
                @when(Cown(1))
                def never(c):
                    return c.value
        self.assertIs(info.exception, boom)
        self.assertEqual(_core.terminator_count(), before)

    def test_a_refused_hold_raises_shutting_down(self):
        start(worker_count=1)
        with Replaced("terminator_inc", lambda: -1):
            with self.assertRaisesRegex(RuntimeError, "shutting down"):
                @when(Cown(1))
                def never(c):
                    return c.value

    def test_a_closed_terminator_refuses_when_on_the_inline_path(self):
        start(worker_count=1)
        _core.terminator_close()
        try:
            with self.assertRaisesRegex(RuntimeError, "shutting down"):
                @when(Cown(1))
                def never(c):
                    return c.value
        finally:
            _core.terminator_reset()


class TestOrphanDrain(unittest.TestCase):
    """Pinned behaviors nobody will pump when stop() begins are failed, not run."""

    def tearDown(self):
        wait()

    def test_a_pinned_behavior_runnable_only_after_the_timeout_is_dropped(self):
        start(worker_count=1)
        shared, board = Cown(0), PinnedCown([])

        @when(shared)
        def slow(shared):
            time.sleep(0.3)  # still running when wait()'s timeout passes
            shared.value = 1

        @when(shared, board)
        def late(shared, board):
            board.value.append("ran")

        wait(timeout=0.05)
        self.assertEqual(board.value, [])  # the body never ran
        late.acquire()
        try:
            self.assertTrue(late.exception)
            self.assertIn("dropped by stop()", str(late.value))
            late.exception = False
        finally:
            late.release()
        self.assertEqual(shared.value, 1)  # worker work still finished

    def test_nothing_is_an_orphan_while_the_runtime_runs(self):
        start(worker_count=1)
        board = PinnedCown(0)

        @when(board)
        def queued(board):
            board.value += 1

        self.assertEqual(_core.scheduler_drain_all_queues(), [])
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(board.value, 1)

    def test_an_interrupt_mid_drain_finishes_the_drain_first(self):
        from bocpy import behaviors

        released = []

        class Orphan:
            def __init__(self, name, fail):
                self.name, self.fail = name, fail

            def set_drop_exception(self, exc):
                pass

            def release_all(self):
                released.append(self.name)
                if self.fail is not None:
                    raise self.fail

        rounds = [[Orphan("a", ValueError("a")), Orphan("b", KeyboardInterrupt()), Orphan("c", None)], []]
        b = behaviors.Behaviors(1)
        with Replaced("scheduler_drain_all_queues", lambda: rounds.pop(0)):
            with self.assertRaises(KeyboardInterrupt) as info:
                b._drain_orphan_behaviors()
        self.assertEqual(released, ["a", "b", "c"])
        self.assertEqual([type(e) for e in b._stop_drain_errors], [ValueError, KeyboardInterrupt])
        self.assertTrue(any("2 release_all error(s)" in n for n in info.exception.__notes__))


if __name__ == "__main__":
    unittest.main()
