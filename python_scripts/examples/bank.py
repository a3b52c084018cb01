"""Bank transfers between many accounts, each account a cown.

Every transfer is one behavior over exactly the two accounts it touches, so
transfers between disjoint pairs run in parallel on the workers while
transfers sharing an account run one after the other, in the order they were
scheduled. Audits are behaviors over *all* accounts: each one sees a
consistent snapshot (no transfer half-done), so every audit must find the
same total. Runs unchanged on upstream bocpy.

    bocpy bank.py [--accounts N] [--transfers N] [--seed N]
"""

import argparse
import random
import sys

from bocpy import Cown, quiesce, wait, when

INITIAL_BALANCE = 1000
MAX_AMOUNT = 300
AUDIT_EVERY = 500


class Account:
    """One bank account (its cown is the unit of mutual exclusion)."""

    def __init__(self, number, balance):
        self.number = number
        self.balance = balance
        self.transfers = 0


def transfer(src, dst, amount):
    """Schedules moving `amount` from src to dst; the result is True if applied."""

    @when(src, dst)
    def _transfer(src, dst, amount=amount):
        if src.value.balance < amount:
            return False  # insufficient funds: nothing moves
        src.value.balance -= amount
        dst.value.balance += amount
        src.value.transfers += 1
        dst.value.transfers += 1
        return True

    return _transfer


def audit(accounts):
    """Schedules an audit over every account; the result is (total, transfers)."""

    @when(accounts)
    def _audit(accounts):
        total = sum(a.value.balance for a in accounts)
        moves = sum(a.value.transfers for a in accounts)
        return total, moves

    return _audit


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=32)
    parser.add_argument("--transfers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.accounts < 2:
        parser.error("--accounts must be at least 2")

    rng = random.Random(args.seed)
    accounts = [Cown(Account(i, INITIAL_BALANCE)) for i in range(args.accounts)]
    expected = args.accounts * INITIAL_BALANCE

    results = []
    audits = []
    for i in range(args.transfers):
        a, b = rng.sample(range(args.accounts), 2)
        results.append(transfer(accounts[a], accounts[b], rng.randint(1, MAX_AMOUNT)))
        if (i + 1) % AUDIT_EVERY == 0:
            audits.append(audit(accounts))
    final = audit(accounts)

    # Read results on main after the barrier (and before wait() tears the
    # runtime down).
    quiesce()
    applied = sum(1 for r in results if r.unwrap())
    totals = [a.unwrap()[0] for a in audits]
    total, moves = final.unwrap()
    wait()

    print(f"bank: {args.transfers} transfers ({applied} applied, "
          f"{args.transfers - applied} refused) over {args.accounts} accounts")
    print(f"bank: {len(totals)} mid-run audits, all totals {sorted(set(totals)) or [total]}")
    print(f"bank: final total {total} (expected {expected})")

    assert all(t == expected for t in totals), f"an audit saw money appear or vanish: {totals}"
    assert total == expected, f"total {total} != {expected}"
    assert moves == 2 * applied, f"{moves} account moves for {applied} transfers"
    print("bank: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
