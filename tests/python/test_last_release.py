"""The last release of a cown nothing can acquire again.

When the behavior releasing a cown holds the only references to it (no
handle, no parcel, no behavior behind it), the runtime drops a value nobody
else sees instead of encoding it (runtime/python/py_cown.cpp, `droppable`;
core/behavior.cpp, `sole_holder_of`). Each test builds a case where dropping
could be told apart from encoding and asserts what encoding gives. One worker,
so the behaviors share an interpreter and its module globals.
"""

import unittest

from bocpy import Cown, Matrix, quiesce, start, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT

# Set by behaviors in the worker's copy of this module.
STASH = None


def schedule_stash(value):
    """One behavior on a fresh cown that stashes its value; no handle kept."""
    @when(Cown(value))
    def _(c):
        global STASH
        STASH = c.value


def schedule_square(results):
    """One behavior on a fresh cown, which it squares; the result is kept."""
    @when(Cown(Matrix.uniform(0.0, 1.0, (8, 8))))
    def square(c):
        c.value = c.value @ c.value
        return c.value.shape

    results.append(square)


class TestLastRelease(unittest.TestCase):
    def setUp(self):
        start(worker_count=1)

    def tearDown(self):
        wait()

    def test_a_matrix_the_body_stashed_is_still_sent_away(self):
        schedule_stash(Matrix.zeros((2, 2)))

        @when(Cown(None))
        def probe(_):
            return STASH.acquired

        quiesce(QUIESCE_TIMEOUT)
        # Encoding moves the buffer out of every object of it, as each release does.
        self.assertIs(probe.unwrap(), False)

    def test_fresh_cowns_dropped_after_their_last_behavior_leave_the_rest_intact(self):
        results = []
        kept = Cown(Matrix.ones((8, 8)))
        for _ in range(500):
            schedule_square(results)

        @when(kept)
        def total(k):
            return k.value.sum()

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual([r.unwrap() for r in results], [(8, 8)] * 500)
        self.assertEqual(total.unwrap(), 64.0)


if __name__ == "__main__":
    unittest.main()
