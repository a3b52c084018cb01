"""Stress invariants through the Python layer: random request sets (single
cowns, groups and duplicates) over several worker counts never lose an
update and never deadlock; bank transfers keep their total.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.3 (ordering guarantee, duplicates, groups) and
§2.4 (two-phase acquisition). The core has the same invariants at C++ level
(tests/core/stress_test.cpp); this checks the Python layer on top of it:
acquire/release of values across interpreters, groups and captures.
"""

import random
import unittest

from bocpy import Cown, quiesce, start, wait, when

TIMEOUT = 120


def bump_all(single, group, amount=1):
    # The same cown may arrive through several parameters; capsules compare
    # and hash by cown, so each distinct cown is bumped once.
    distinct = {}
    for c in [single] + list(group):
        distinct.setdefault(c, c)
    for c in distinct.values():
        c.value += amount
    return len(distinct)


def transfer(a, b, amount=0):
    a.value -= amount
    b.value += amount


class TestStress(unittest.TestCase):
    def tearDown(self):
        wait(TIMEOUT)

    def run_random_sets(self, workers, seed):
        start(worker_count=workers)
        rng = random.Random(seed)
        cowns = [Cown(0) for _ in range(12)]
        expected = [0] * len(cowns)
        results = []
        for _ in range(600):
            single = rng.randrange(len(cowns))
            group = [rng.randrange(len(cowns)) for _ in range(rng.randrange(0, 4))]
            for i in set([single] + group):
                expected[i] += 1

            @when(cowns[single], [cowns[i] for i in group])
            def r(s, g):
                return bump_all(s, g)
            results.append((r, len(set([single] + group))))
        self.assertTrue(quiesce(TIMEOUT) is None)
        for r, distinct in results:
            self.assertEqual(r.unwrap(), distinct)
        got = [c.unwrap() for c in cowns]
        self.assertEqual(got, expected)

    def test_random_sets_one_worker(self):
        self.run_random_sets(1, 1)

    def test_random_sets_two_workers(self):
        self.run_random_sets(2, 2)

    def test_random_sets_four_workers(self):
        self.run_random_sets(4, 3)

    def test_bank_transfers_keep_the_total(self):
        start(worker_count=2)
        rng = random.Random(7)
        accounts = [Cown(1000) for _ in range(32)]
        for _ in range(3000):
            a, b = rng.sample(range(len(accounts)), 2)

            @when(accounts[a], accounts[b])
            def _(x, y, amount=rng.randrange(1, 50)):
                transfer(x, y, amount)
        quiesce(TIMEOUT)
        self.assertEqual(sum(c.unwrap() for c in accounts), 32 * 1000)


if __name__ == "__main__":
    unittest.main()
