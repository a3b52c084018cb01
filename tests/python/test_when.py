"""@when / whencall / Cown: scheduling, ordering, results and exceptions.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.1 (Cown surface: value ownership, acquire/
release, `with`, unwrap), §1.3 (@when: groups, captures, ordering,
happens-after, duplicates, validation), §1.4 (whencall), §2.6 (executing a
behavior: arguments, return values, exceptions of any kind captured), §2.8
(results and exceptions). Also this runtime's documented extensions beyond
bocpy: `*args` bodies (the pinned-cown contract's `@when(*results, canvas) def
_writeback(*args)`) and closures captured by value. Mirrors upstream
test_boc.py (TestBOC, TestUnwrap, TestExceptionFlag, TestLoopDefaultCapture,
TestBaseExceptionDiscipline, TestUnicodeSource).
"""

import os
import threading
import time
import unittest

from bocpy import Cown, PinnedCown, quiesce, start, wait, when, whencall
from bocpy_test_support import QUIESCE_TIMEOUT, where


def add_capture(c, k):
    """A module-level body for whencall()."""
    return c.value + k


def square_later(i):
    """Schedules a worker behavior returning i*i; returns its result cown."""
    c = Cown(i)
    @when(c)
    def sq(c):
        return c.value * c.value
    return sq


def fib_behaviors(n):
    """Schedules fib(n) as a tree of behaviors; returns the result cown."""
    if n < 2:
        @when()
        def leaf(n=n):
            return n
        return leaf
    a = fib_behaviors(n - 1)
    b = fib_behaviors(n - 2)
    @when(a, b)
    def add(a, b):
        return a.value + b.value
    return add


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def read(c):
    """The value of an idle cown, read on main."""
    with c as v:
        return v


class WhenTestCase(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def tearDown(self):
        quiesce(QUIESCE_TIMEOUT)


class TestDispatch(WhenTestCase):
    def test_simple_dispatch_returns_cown(self):
        c = Cown(21)
        @when(c)
        def double(c):
            return c.value * 2
        self.assertIsInstance(double, Cown)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(double.unwrap(), 42)

    def test_zero_cowns_runs_on_a_worker(self):
        @when()
        def anywhere():
            return where()
        quiesce(QUIESCE_TIMEOUT)
        interp, ident = anywhere.unwrap()
        self.assertNotEqual(ident, threading.get_ident())
        if interp is not None:
            self.assertNotEqual(interp, 0)

    def test_mutation_persists(self):
        c = Cown([1])
        @when(c)
        def append(c):
            c.value.append(2)
        @when(c)
        def replace(c):
            c.value = c.value + [3]
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read(c), [1, 2, 3])

    def test_contention_serialises(self):
        c = Cown(0)
        for _ in range(50):
            @when(c)
            def inc(c):
                c.value += 1
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read(c), 50)

    def test_per_cown_fifo(self):
        c = Cown([])
        for i in range(30):
            @when(c)
            def append(c, i=i):
                c.value.append(i)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read(c), list(range(30)))

    def test_two_cown_coordination(self):
        a, b = Cown(100), Cown(0)
        @when(a, b)
        def before(a, b):
            return a.value, b.value
        @when(a, b)
        def transfer(a, b):
            a.value -= 50
            b.value += 50
        @when(a, b)
        def after(a, b):
            return a.value, b.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(before.unwrap(), (100, 0))
        self.assertEqual(after.unwrap(), (50, 50))

    def test_nested_scheduling(self):
        c = Cown(1)
        @when(c)
        def outer(c):
            c.value *= 2
            @when(c)
            def inner(c):
                c.value *= 3
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read(c), 6)

    def test_nested_scheduling_from_module_function(self):
        @when()
        def root():
            return fib_behaviors(8)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(root.unwrap().unwrap(), fib(8))

    def test_variable_termination(self):
        for n in (1, 10, 15):
            with self.subTest(n=n):
                r = fib_behaviors(n)
                quiesce(QUIESCE_TIMEOUT)
                self.assertEqual(r.unwrap(), fib(n))

    def test_with_on_main(self):
        c = Cown([1, 2])
        quiesce(QUIESCE_TIMEOUT)
        self.assertFalse(c.acquired)
        with c as v:
            self.assertTrue(c.acquired)
            self.assertEqual(v, [1, 2])
            v.append(3)  # mutates the cown's own value; release() stores it
        self.assertFalse(c.acquired)
        @when(c)
        def get(c):
            return c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(get.unwrap(), [1, 2, 3])

    def test_with_inside_a_body(self):
        a, b = Cown("a"), Cown("b")
        @when(a)
        def peek(a, b=b):
            with b as v:
                return a.value + v
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(peek.unwrap(), "ab")

    def test_manual_acquire_release_on_main(self):
        c = Cown(1)
        with self.assertRaises(RuntimeError):
            c.value  # nobody owns a fresh cown
        c.acquire()
        self.assertTrue(c.acquired)
        self.assertEqual(c.value, 1)
        c.value = 2
        c.release()
        self.assertFalse(c.acquired)
        @when(c)
        def get(c):
            return c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(get.unwrap(), 2)

    def test_cown_requires_a_value(self):
        with self.assertRaises(TypeError):
            Cown()

    def test_equality_and_hash(self):
        a, b = Cown(1), Cown(1)
        self.assertEqual(a, a)
        self.assertNotEqual(a, b)
        self.assertEqual(hash(a), hash(a))
        self.assertEqual(len({a, b, a}), 2)
        self.assertEqual(sorted([a, b]), sorted([b, a]))

    def test_non_ascii_literal_in_body(self):
        @when()
        def euro():
            return "€ ünïcødé 🙂"
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(euro.unwrap(), "€ ünïcødé 🙂")


class TestGroups(WhenTestCase):
    def test_group_and_single(self):
        a, b, c = Cown(1), Cown(2), Cown(3)
        @when([a, b], c)
        def f(group, c):
            return type(group).__name__, len(group), sum(x.value for x in group) * 10 + c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), ("list", 2, 33))

    def test_grouping_shapes(self):
        cowns = [Cown(i) for i in range(10)]
        results = []
        @when(cowns)
        def g1(cs):
            return sum(c.value for c in cs)
        results.append(g1)
        @when(cowns[:5], cowns[5:])
        def g2(x, y):
            return sum(c.value for c in x + y)
        results.append(g2)
        @when(cowns[0], cowns[1:])
        def g3(first, rest):
            return first.value + sum(c.value for c in rest)
        results.append(g3)
        @when(cowns[:9], cowns[9])
        def g4(most, last):
            return sum(c.value for c in most) + last.value
        results.append(g4)
        @when(tuple(cowns))
        def g5(cs):
            return sum(c.value for c in cs)
        results.append(g5)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], [45] * 5)

    def test_grouped_mutation_persists(self):
        cowns = [Cown(i) for i in range(4)]
        @when(cowns)
        def bump(cs):
            for c in cs:
                c.value += 100
        @when(cowns[0], cowns[1:])
        def total(first, rest):
            first.value += 1
            return first.value + sum(c.value for c in rest)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(total.unwrap(), 101 + 101 + 102 + 103)


class TestCaptures(WhenTestCase):
    def test_loop_default_captures_per_iteration_value(self):
        c = Cown(None)
        results = []
        for i in range(4):
            @when(c)
            def snap(c, i=i):
                return i
            results.append(snap)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], [0, 1, 2, 3])

    def test_rename_default(self):
        y = 99
        c = Cown(None)
        @when(c)
        def b(c, x=y):
            return x
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(b.unwrap(), 99)

    def test_capture_is_a_private_snapshot(self):
        data = [1, 2]
        c = Cown(None)
        @when(c)
        def b(c, d=data):
            d.append(99)
            return list(d)
        data.append(3)  # after the snapshot
        @when(c)
        def again(c, d=data):
            return list(d)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(b.unwrap(), [1, 2, 99])
        self.assertEqual(again.unwrap(), [1, 2, 3])
        self.assertEqual(data, [1, 2, 3])

    def test_closure_captured_by_value(self):
        # This runtime accepts closures (bocpy rejects them): free variables
        # are snapshotted when the behavior is scheduled.
        offset = 5
        c = Cown(10)
        @when(c)
        def add(c):
            return c.value + offset
        offset = 1000
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(add.unwrap(), 15)
        self.assertEqual(offset, 1000)

    def test_closure_mutation_not_visible_on_main(self):
        seen = []
        c = Cown(0)
        @when(c)
        def touch(c):
            seen.append("worker")
            return len(seen)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(touch.unwrap(), 1)
        self.assertEqual(seen, [])

    def test_closure_in_a_loop(self):
        c = Cown(0)
        results = []
        for i in range(5):
            k = i * 10
            @when(c)
            def snap(c):
                return k
            results.append(snap)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], [0, 10, 20, 30, 40])


class TestStarArgs(WhenTestCase):
    def test_star_args_worker_body(self):
        a, b, c = Cown(1), Cown(2), Cown(3)
        @when(a, b, c)
        def total(*args):
            return len(args), sum(x.value for x in args)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(total.unwrap(), (3, 6))

    def test_seed_writeback_form(self):
        # The seed's pyglet snippet: @when(*results, canvas) def _writeback(*args).
        results = [square_later(i) for i in range(8)]
        canvas = PinnedCown([])
        @when(*results, canvas)
        def _writeback(*args):
            *cells, canvas = args
            for cell in cells:
                canvas.value.append(cell.value)
            return where()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(canvas.value, [i * i for i in range(8)])
        interp, ident = _writeback.unwrap()
        self.assertEqual(ident, threading.get_ident())
        if interp is not None:
            self.assertEqual(interp, 0)


class TestDuplicates(WhenTestCase):
    def test_same_twice(self):
        c = Cown(5)
        @when(c, c)
        def f(x, y):
            return x.value + y.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), 10)

    def test_same_thrice(self):
        c = Cown(3)
        @when(c, c, c)
        def f(x, y, z):
            return x.value + y.value + z.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), 9)

    def test_non_adjacent(self):
        a, b = Cown(10), Cown(20)
        @when(a, b, a)
        def f(x, y, z):
            return x.value + y.value + z.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), 40)

    def test_in_group(self):
        c = Cown(7)
        @when([c, c])
        def f(group):
            return sum(x.value for x in group)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), 14)

    def test_aliases_share_one_live_value(self):
        c = Cown([0])
        @when(c, c)
        def f(x, y):
            x.value = 42
            same = y.value == 42
            x.value = [1]
            y.value.append(2)
            return same, x.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(f.unwrap(), (True, [1, 2]))


class TestResults(WhenTestCase):
    def test_happens_after_result(self):
        c = Cown(0)
        @when(c)
        def slow(c):
            time.sleep(0.1)
            c.value = 1
            return "first"
        @when(slow)
        def after(r):
            return r.value + " then second"
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(after.unwrap(), "first then second")

    def test_behavior_chain(self):
        c = Cown(5)
        @when(c)
        def r1(c):
            return c.value + 1
        @when(r1)
        def r2(r):
            return r.value * 2
        @when(r2, c)
        def r3(r, c):
            return r.value + 1
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(r3.unwrap(), 13)

    def test_unwrap_consumes(self):
        @when()
        def v():
            return [1]
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(v.unwrap(), [1])
        self.assertIsNone(v.unwrap())

    def test_unwrap_in_flight_raises(self):
        c = Cown(0)
        @when(c)
        def slow(c):
            time.sleep(0.3)
            return 1
        with self.assertRaisesRegex(RuntimeError, "in flight"):
            slow.unwrap()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(slow.unwrap(), 1)

    def test_returned_cown_stays_a_handle(self):
        @when()
        def make():
            return Cown(10)
        quiesce(QUIESCE_TIMEOUT)
        inner = make.unwrap()
        @when(inner)
        def use(inner):
            inner.value += 1
            return inner.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(use.unwrap(), 11)


class TestExceptions(WhenTestCase):
    def test_exception_reraised_by_unwrap(self):
        for exc_type in (ZeroDivisionError, KeyError, TypeError, AssertionError):
            with self.subTest(exc_type=exc_type.__name__):
                @when()
                def boom(exc_type=exc_type):
                    raise exc_type("message text")
                quiesce(QUIESCE_TIMEOUT)
                with self.assertRaises(exc_type) as cm:
                    boom.unwrap()
                self.assertIn("message text", str(cm.exception))

    def test_real_zero_division(self):
        c = Cown(0)
        @when(c)
        def divide(c):
            return 1 / c.value
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(ZeroDivisionError):
            divide.unwrap()

    def test_unwrap_clears_exception(self):
        @when()
        def boom():
            raise ValueError("once")
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(ValueError):
            boom.unwrap()
        self.assertIsNone(boom.unwrap())

    def test_exception_flag(self):
        @when()
        def thrown():
            raise ValueError("thrown")
        @when()
        def returned():
            return ValueError("returned")
        @when(thrown, returned)
        def flags(t, r):
            return t.exception, r.exception, type(t.value).__name__
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(flags.unwrap(), (True, False, "ValueError"))
        value = returned.unwrap()  # a returned exception is a plain value
        self.assertIsInstance(value, ValueError)
        self.assertEqual(str(value), "returned")
        with self.assertRaises(ValueError):
            thrown.unwrap()

    def test_exception_flag_cleared_by_value_write(self):
        @when()
        def thrown():
            raise ValueError("x")
        @when(thrown)
        def fix(t):
            before = t.exception
            t.value = 5
            return before, t.exception
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(fix.unwrap(), (True, False))
        self.assertEqual(thrown.unwrap(), 5)

    def test_exception_flag_manual_set_clear(self):
        c = Cown(1)
        @when(c)
        def toggle(c):
            out = [c.exception]
            c.exception = True
            out.append(c.exception)
            c.exception = False
            out.append(c.exception)
            return out
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(toggle.unwrap(), [False, True, False])

    def test_base_exception_from_worker_body_releases_cown(self):
        c = Cown(0)
        @when(c)
        def interrupt(c):
            c.value = 1
            raise KeyboardInterrupt
        @when(c)
        def follow(c):
            return c.value + 1
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(follow.unwrap(), 2)
        with self.assertRaises(KeyboardInterrupt):
            interrupt.unwrap()

    def test_system_exit_in_worker_body_is_captured(self):
        @when()
        def leave():
            raise SystemExit(3)
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(SystemExit) as cm:
            leave.unwrap()
        self.assertEqual(cm.exception.code, 3)

    def test_worker_traceback_names_the_script_and_line(self):
        @when()
        def tb():
            try:
                raise ValueError("x")  # traceback-marker-line
            except ValueError:
                import traceback
                return traceback.format_exc()
        quiesce(QUIESCE_TIMEOUT)
        text = tb.unwrap()
        self.assertIn(os.path.basename(__file__), text)
        self.assertIn("traceback-marker-line", text)
        self.assertIn("in tb", text)

    def test_exception_raised_while_handling_another(self):
        # The stored exception keeps its type, args and attributes (a chained
        # __cause__ need not survive pickling, as in bocpy).
        @when()
        def chained():
            try:
                {}["missing"]
            except KeyError as e:
                err = ValueError("wrapped", 7)
                err.detail = {"key": "missing"}
                raise err from e
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(ValueError) as cm:
            chained.unwrap()
        self.assertEqual(cm.exception.args, ("wrapped", 7))
        self.assertEqual(cm.exception.detail, {"key": "missing"})


class TestValidation(WhenTestCase):
    def test_too_few_params(self):
        a, b = Cown(1), Cown(2)
        with self.assertRaises(TypeError):
            @when(a, b)
            def f(a):
                pass

    def test_extra_param_without_default(self):
        a = Cown(1)
        with self.assertRaises(TypeError):
            @when(a)
            def f(a, extra):
                pass

    def test_async_rejected(self):
        a = Cown(1)
        with self.assertRaises(SyntaxError):
            @when(a)
            async def f(a):
                pass

    def test_generator_rejected(self):
        a = Cown(1)
        with self.assertRaises(SyntaxError):
            @when(a)
            def f(a):
                yield a

    def test_decorator_takes_exactly_one_function(self):
        a = Cown(1)

        def f(a):
            return a.value + 1

        decorate = when(a)
        with self.assertRaisesRegex(TypeError, r"^when expected 1 argument, got 2$"):
            decorate(f, f)
        with self.assertRaisesRegex(TypeError, r"^when expected 1 argument, got 0$"):
            decorate()
        with self.assertRaisesRegex(TypeError, "takes no keyword arguments"):
            decorate(fn=f)
        # A refused call schedules nothing; the same decorator still works.
        r = decorate(f)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(r.unwrap(), 2)
        self.assertEqual(read(a), 1)


class TestWhencall(WhenTestCase):
    # whencall() never starts a runtime (only @when does).
    @classmethod
    def setUpClass(cls):
        start()

    def test_whencall(self):
        c = Cown(40)
        r = whencall(add_capture, [c], [2])
        self.assertIsInstance(r, Cown)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(r.unwrap(), 42)

    def test_whencall_with_group(self):
        cs = [Cown(i) for i in range(4)]
        r = whencall(total_of_group, [cs], [])
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(r.unwrap(), 6)

    def test_whencall_rejects_name(self):
        with self.assertRaises(TypeError):
            whencall("add_capture", [Cown(1)], [2])

    def test_whencall_rejects_non_cowns(self):
        with self.assertRaises(TypeError):
            whencall(add_capture, [1], [2])


def total_of_group(cs):
    return sum(c.value for c in cs)


if __name__ == "__main__":
    unittest.main()
