"""A cown's value released by a worker and acquired again by the same worker.

The runtime may hand the released object back instead of decoding the cown's
parcel (runtime/python/kept_values.h, values/reusable_value.h) only when that
cannot be told apart from decoding: each test here builds a case where it could
be told apart and asserts what decoding gives. One worker, so consecutive
behaviors on a cown share an interpreter.
"""

import gc
import unittest
import weakref

from bocpy import Cown, Matrix, PinnedCown, quiesce, start, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT

# Set by behaviors in the worker's copy of this module.
STASH = None
DELETED = []


class Counter:
    def __init__(self, n):
        self.n = n


class Holder:
    def __init__(self):
        self.items = []


class Finalised:
    def __init__(self, n):
        self.n = n

    def __del__(self):
        DELETED.append(self.n)


class Marker:
    def __init__(self):
        self.tag = "marker"


class TestKeptValues(unittest.TestCase):
    def setUp(self):
        start(worker_count=1)

    def tearDown(self):
        wait()

    def test_a_chain_of_steps_sees_every_write(self):
        c = Cown(Counter(0))
        results = []
        for _ in range(200):
            @when(c)
            def step(c):
                c.value.n += 1
                return c.value.n

            results.append(step)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], list(range(1, 201)))

    def test_an_object_still_referenced_at_release_is_not_handed_back(self):
        c = Cown(Counter(0))

        @when(c)
        def stash(c):
            global STASH
            c.value.n = 1
            STASH = c.value

        @when(c)
        def read(c):
            STASH.n = 99  # the stashed object is not the cown's value any more
            return c.value.n

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read.unwrap(), 1)

    def test_a_container_attribute_still_referenced_is_not_shared(self):
        c = Cown(Holder())

        @when(c)
        def stash(c):
            global STASH
            c.value.items.append(1)
            STASH = c.value.items

        @when(c)
        def read(c):
            STASH.append(2)
            return list(c.value.items)

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read.unwrap(), [1])

    def test_a_weak_reference_dies_at_release(self):
        c = Cown(Counter(0))

        @when(c)
        def watch(c):
            global STASH
            c.value.n = 5
            STASH = weakref.ref(c.value)

        @when(c)
        def read(c):
            return STASH() is None, c.value.n

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read.unwrap(), (True, 5))

    def test_del_runs_at_release(self):
        c = Cown(Finalised(0))

        @when(c)
        def write(c):
            del DELETED[:]
            c.value.n = 7

        @when(c)
        def read(c):
            return list(DELETED), c.value.n

        quiesce(QUIESCE_TIMEOUT)
        deleted, n = read.unwrap()
        self.assertEqual(n, 7)
        self.assertIn(7, deleted)

    def test_a_write_from_another_interpreter_is_seen(self):
        c = Cown(Counter(0))
        p = PinnedCown(None)

        @when(c)
        def on_worker(c):
            c.value.n += 1

        @when(c, p)
        def on_main(c, p):
            c.value.n += 10

        @when(c)
        def on_worker_again(c):
            c.value.n += 100
            return c.value.n

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(on_worker_again.unwrap(), 111)

    def test_a_matrix_keeps_every_write_across_steps_and_interpreters(self):
        c = Cown(Matrix(2, 2, [0, 0, 0, 0]))
        p = PinnedCown(None)
        for _ in range(50):
            @when(c)
            def bump(c):
                c.value[0, 0] = c.value[0, 0] + 1

        @when(c, p)
        def on_main(c, p):
            c.value[1, 1] = 10

        @when(c)
        def read(c):
            return c.value[0, 0], c.value[1, 1]

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read.unwrap(), (50, 10))

    def test_a_released_value_is_not_listed_by_the_garbage_collector(self):
        c = Cown(None)
        other = Cown(None)

        @when(c)
        def write(c):
            c.value = Marker()

        @when(other)
        def look(other):
            return any(type(o) is Marker for o in gc.get_objects())

        @when(c)
        def read(c):
            return c.value.tag

        quiesce(QUIESCE_TIMEOUT)
        self.assertFalse(look.unwrap())
        self.assertEqual(read.unwrap(), "marker")

    def test_a_handed_back_object_takes_part_in_cycles_again(self):
        c = Cown(Counter(0))

        @when(c)
        def write(c):
            c.value.n = 1

        @when(c)
        def cycle(c):
            c.value.me = [c.value]  # tracked again: the cycle is collectable
            gc.collect()
            return c.value.me[0] is c.value

        quiesce(QUIESCE_TIMEOUT)
        self.assertTrue(cycle.unwrap())


if __name__ == "__main__":
    unittest.main()
