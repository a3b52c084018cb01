"""Values crossing interpreters: what a cown can hold and how it comes back.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.1 (construction serialises the value: later
changes to the caller's object are not seen; unserialisable values raise at
construction; cown-of-cown), §2.2 (value storage: native XIData types,
pickle fallback), §2.6 (return values; captures are private snapshots;
returned cowns stay handles), §2.7 (classes defined in the script's
__main__ resolve to the same class on main). Mirrors upstream test_boc.py
(test_cown_of_cown_*, TestCownInCown, TestUnicodeSource,
test_complex_object_repeated_mutation).
"""

import dataclasses
import math
import pickle
import threading
import unittest

from bocpy import Cown, quiesce, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT


@dataclasses.dataclass
class Point:
    x: int
    y: int
    tags: list = dataclasses.field(default_factory=list)

    def norm1(self):
        return abs(self.x) + abs(self.y)


class AppError(Exception):
    """An exception class defined in the script itself."""


def explode():
    raise ZeroDivisionError("cannot unpickle")


class RaiseOnUnpickle:
    """Pickles fine; unpickling (in whichever interpreter acquires it) raises."""

    def __reduce__(self):
        return (explode, ())


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __eq__(self, other):
        return isinstance(other, Slotted) and (self.a, self.b) == (other.a, other.b)


MODULE_LAMBDA = lambda: 1  # noqa: E731 - a lambda that pickle looks up by name

VALUES = [
    0, 1, -1, 2**62, 2**63, -(2**63) - 1, 2**200, -(3**150),
    0.0, -0.0, 1.5, -2.25e-300, float("inf"), float("-inf"),
    1 + 2j,
    "", "ascii", "héllo € 🙂", "nul\x00inside", "x" * 100_000,
    b"", b"\x00\xff" * 10, bytes(range(256)),
    bytearray(b"mutable"),
    None, True, False,
    (), (1, "a", (2.0, None)), [], [1, [2, [3, [4]]]],
    {}, {"a": 1, "b": [1, 2], 3: "x", (1, 2): {"nested": True}},
    set(), {1, 2, 3}, frozenset({"a", "b"}),
    range(3, 30, 3),
    Point(1, 2, ["t"]),
    Slotted(1, [2]),
]


def echo(value):
    """Schedules a worker behavior returning the cown's value and its type name."""
    c = Cown(value)
    @when(c)
    def _echo(c):
        return c.value, type(c.value).__name__
    return _echo


def read(c):
    with c as v:
        return v


class ValuesTestCase(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def tearDown(self):
        quiesce(QUIESCE_TIMEOUT)


class TestRoundTrip(ValuesTestCase):
    def test_values_round_trip_through_a_worker(self):
        results = [echo(v) for v in VALUES]
        quiesce(QUIESCE_TIMEOUT)
        for value, r in zip(VALUES, results):
            with self.subTest(value=repr(value)[:60]):
                got, type_name_in_worker = r.unwrap()
                self.assertEqual(type_name_in_worker, type(value).__name__)
                self.assertIs(type(got), type(value))
                self.assertEqual(got, value)

    def test_negative_zero_and_nan(self):
        nz = echo(-0.0)
        nan = echo(float("nan"))
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(math.copysign(1.0, nz.unwrap()[0]), -1.0)
        self.assertTrue(math.isnan(nan.unwrap()[0]))

    def test_big_int_arithmetic_in_worker(self):
        c = Cown(2**100)
        @when(c)
        def grow(c):
            c.value = c.value ** 3 + 1
            return c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(grow.unwrap(), 2**300 + 1)

    def test_large_payloads(self):
        blob = bytes(range(256)) * 16384  # 4 MiB
        numbers = list(range(200_000))
        a, b = Cown(blob), Cown(numbers)
        @when(a, b)
        def digest(a, b):
            return len(a.value), a.value[-1], sum(b.value)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(digest.unwrap(), (len(blob), 255, sum(numbers)))

    def test_shared_references_within_a_value(self):
        inner = [1]
        c = Cown({"a": inner, "b": inner})
        @when(c)
        def same(c):
            return c.value["a"] is c.value["b"]
        quiesce(QUIESCE_TIMEOUT)
        self.assertTrue(same.unwrap())


class TestUserClasses(ValuesTestCase):
    def test_dataclass_mutated_in_worker(self):
        c = Cown(Point(1, 2))
        @when(c)
        def move(c):
            c.value.x += 10
            c.value.tags.append("moved")
            return c.value.norm1()
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(move.unwrap(), 13)
        p = read(c)
        self.assertIs(type(p), Point)
        self.assertEqual(p, Point(11, 2, ["moved"]))

    def test_dataclass_created_in_worker(self):
        @when()
        def make():
            return Point(3, 4)
        quiesce(QUIESCE_TIMEOUT)
        p = make.unwrap()
        self.assertIsInstance(p, Point)
        self.assertIs(type(p), Point)
        self.assertEqual(p.norm1(), 7)

    def test_repeated_mutation(self):
        c = Cown(Point(0, 0))
        for val in range(10):
            @when(c)
            def tag(c, val=val):
                c.value.tags.append(val)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(sorted(read(c).tags), list(range(10)))

    def test_script_exception_class(self):
        @when()
        def boom():
            raise AppError("custom")
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaises(AppError) as cm:
            boom.unwrap()
        self.assertEqual(str(cm.exception), "custom")


class TestConstruction(ValuesTestCase):
    def test_value_is_copied_at_construction(self):
        original = [1]
        c = Cown(original)
        original.append(2)
        @when(c)
        def get(c):
            return c.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(get.unwrap(), [1])

    def test_lambda_rejected_at_construction(self):
        # pickle's own error: PicklingError for a module-level lambda; for a
        # local one CPython 3.13's pickle raises AttributeError ("Can't get
        # local object").
        with self.assertRaises((TypeError, pickle.PicklingError)):
            Cown(MODULE_LAMBDA)
        with self.assertRaises((TypeError, pickle.PicklingError, AttributeError)):
            Cown(lambda: 1)

    def test_lock_rejected_at_construction(self):
        with self.assertRaises((TypeError, pickle.PicklingError)):
            Cown(threading.Lock())

    def test_unpicklable_nested_rejected(self):
        with self.assertRaises((TypeError, pickle.PicklingError)):
            Cown({"ok": 1, "bad": threading.Lock()})


class TestAcquireFailure(ValuesTestCase):
    """Spec §1.1 / §2.6: a value that fails to deserialise on acquire."""

    def test_first_waiter_sees_error_later_ones_unavailable(self):
        c = Cown(RaiseOnUnpickle())
        results = []
        for _ in range(3):
            @when(c)
            def use(c):
                return "body ran"
            results.append(use)
        @when(results[0])
        def observe(r):
            return r.exception, type(r.value).__name__
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(observe.unwrap(), (True, "ZeroDivisionError"))
        with self.assertRaises(ZeroDivisionError):
            results[0].unwrap()
        messages = []
        for r in results[1:]:
            with self.assertRaisesRegex(RuntimeError, "permanently unavailable") as cm:
                r.unwrap()
            messages.append(str(cm.exception))
        self.assertEqual(messages[0], messages[1])


class TestCownOfCown(ValuesTestCase):
    def test_cown_of_cown_direct(self):
        outer = Cown(Cown(42))
        @when(outer)
        def unpack(outer):
            inner = outer.value
            with inner as v:
                return isinstance(inner, Cown), v
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(unpack.unwrap(), (True, 42))

    def test_cown_of_cown_access_inner(self):
        inner = Cown(99)
        outer = Cown(inner)
        @when(outer, inner)
        def both(outer, inner):
            return inner.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(both.unwrap(), 99)

    def test_cown_in_container(self):
        box = Cown({"k": Cown(5), "list": [Cown(6)]})
        @when(box)
        def schedule_inner(box):
            @when(box.value["k"], box.value["list"][0])
            def add(a, b):
                return a.value + b.value
            return add
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(schedule_inner.unwrap().unwrap(), 11)

    def test_cown_created_in_behavior_survives_release(self):
        holder = Cown(None)
        @when(holder)
        def create(holder):
            holder.value = Cown([1, 2, 3])
        @when(holder)
        def use(holder):
            @when(holder.value)
            def total(c):
                return sum(c.value)
            return total
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(use.unwrap().unwrap(), 6)

    def test_schedule_on_returned_cown(self):
        @when()
        def make():
            return Cown(10)
        @when(make)
        def follow(r):
            @when(r.value)
            def double(c):
                return c.value * 2
            return double
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(follow.unwrap().unwrap(), 20)


if __name__ == "__main__":
    unittest.main()
