"""Prime factorisation fan-out / fan-in: a small CPU-bound demo.

One behavior per number factors it by trial division on a worker (numbers
are independent, so the behaviors run in parallel); one behavior over all
the result cowns then checks and summarises them (fan-in). Runs unchanged
on upstream bocpy.

    bocpy prime_factor.py [--count N] [--seed N]
"""

import argparse
import math
import random
import sys
import time

from bocpy import WORKER_COUNT, Cown, quiesce, wait, when


def factorize(n):
    """Prime factors of n in ascending order (trial division)."""
    factors = []
    while n % 2 == 0:
        factors.append(2)
        n //= 2
    f = 3
    while f * f <= n:
        while n % f == 0:
            factors.append(f)
            n //= f
        f += 2
    if n > 1:
        factors.append(n)
    return factors


def factor_later(number):
    """Schedules factorisation of `number`; the result is (number, factors)."""

    @when(number)
    def _factor(number):
        return number.value, factorize(number.value)

    return _factor


def summarize(results):
    """Schedules the fan-in over every result cown."""

    @when(results)
    def _summary(results):
        checked = 0
        largest = 0
        for r in results:
            n, factors = r.value
            if math.prod(factors) != n:
                raise ArithmeticError(f"bad factorisation of {n}: {factors}")
            checked += 1
            largest = max(largest, factors[-1])
        return checked, largest

    return _summary


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    numbers = [rng.randrange(10**10, 10**11) for _ in range(args.count)]
    t0 = time.perf_counter()
    results = [factor_later(Cown(n)) for n in numbers]
    summary = summarize(results)
    quiesce()
    checked, largest = summary.unwrap()
    pairs = [r.unwrap() for r in results]
    elapsed = time.perf_counter() - t0
    wait()

    print(f"prime_factor: {checked} numbers factored on {WORKER_COUNT} worker(s) "
          f"in {elapsed:.2f} s; largest prime factor {largest}")
    assert checked == len(numbers)
    assert [n for n, _ in pairs] == numbers
    assert all(factors == factorize(n) for n, factors in pairs[:4])
    print("prime_factor: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
