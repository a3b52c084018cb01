"""Dining philosophers: forks are cowns, meals are behaviors.

Each meal is one behavior over the philosopher and both neighbouring forks.
BOC acquires all three at once (two-phase locking over a sorted request
set), so there is no deadlock however the forks are ordered, and no
philosopher starves: after each meal the philosopher schedules the next one
from inside the behavior (a chained @when) until they are full. Runs
unchanged on upstream bocpy.

    bocpy dining_philosophers.py [--philosophers N] [--meals N]
"""

import argparse
import sys

from bocpy import Cown, quiesce, wait, when


class Fork:
    def __init__(self, index):
        self.index = index
        self.uses = 0


class Philosopher:
    def __init__(self, index, hunger):
        self.index = index
        self.hunger = hunger
        self.meals = 0


def dine(philosopher, left, right):
    """Schedules the next meal; the meal schedules the one after it."""

    @when(philosopher, left, right)
    def _eat(philosopher, left, right):
        left.value.uses += 1
        right.value.uses += 1
        philosopher.value.meals += 1
        philosopher.value.hunger -= 1
        if philosopher.value.hunger > 0:
            dine(philosopher, left, right)


def report(philosophers, forks):
    """Schedules a behavior over everyone that returns (meals, hunger, uses)."""

    @when(philosophers, forks)
    def _report(philosophers, forks):
        return ([p.value.meals for p in philosophers],
                [p.value.hunger for p in philosophers],
                [f.value.uses for f in forks])

    return _report


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--philosophers", type=int, default=5)
    parser.add_argument("--meals", type=int, default=20)
    args = parser.parse_args(argv)
    n, meals = args.philosophers, args.meals
    if n < 2 or meals < 1:
        parser.error("need at least 2 philosophers and 1 meal")

    forks = [Cown(Fork(i)) for i in range(n)]
    philosophers = [Cown(Philosopher(i, meals)) for i in range(n)]
    for i in range(n):
        dine(philosophers[i], forks[i], forks[(i + 1) % n])

    quiesce()  # every chained meal has been eaten
    final = report(philosophers, forks)
    quiesce()
    eaten, hunger, uses = final.unwrap()
    wait()

    print(f"dining_philosophers: {n} philosophers, meals eaten {eaten}")
    print(f"dining_philosophers: fork uses {uses}")
    assert eaten == [meals] * n, f"someone did not finish: {eaten}"
    assert hunger == [0] * n, f"someone is still hungry: {hunger}"
    assert uses == [2 * meals] * n, f"fork use counts are wrong: {uses}"
    print("dining_philosophers: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
