"""Lifecycle and Ctrl-C figures (README "Benchmarks": lifecycle and interrupts).

  python3.13 tests/bench/lifecycle_bench.py [--cycles N] [--runner PATH]

with PYTHONPATH=build/release/python (the importable package). Each figure
comes from a fresh child process:
  * bocpy start(worker_count=2)/one behavior/wait() cycles: ms per cycle, RSS
    after the first cycle and after the last;
  * CPython's own floor in the same run: creating and destroying two isolated
    sub-interpreters per cycle (what a runtime that ends its workers pays);
  * Ctrl-C with two workers in endless pure-Python bodies: seconds from SIGINT
    to exit (median and range of 5), for stock python and, with --runner, the
    runner.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

# One SIGINT-after-READY driver for the tests and this benchmark.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from bocpy_test_support import interrupt_when_ready  # noqa: E402

RSS = """
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
"""

BOCPY_CYCLES = RSS + """
import sys, time
from bocpy import Cown, start, wait, when
n = int(sys.argv[1])
start(worker_count=2); wait()
first = rss_mb(); t0 = time.perf_counter()
for i in range(n):
    start(worker_count=2)
    c = Cown(i)
    @when(c)
    def _(c):
        c.value += 1
    wait()
print(f"{(time.perf_counter() - t0) / n * 1000:.2f} {first:.0f} {rss_mb():.0f}")
"""

CPYTHON_FLOOR = RSS + """
import sys, time
import _interpreters
n = int(sys.argv[1])
def cycle():
    ids = [_interpreters.create() for _ in range(2)]   # isolated, own GIL
    for i in ids:
        _interpreters.destroy(i)
cycle()
first = rss_mb(); t0 = time.perf_counter()
for _ in range(n):
    cycle()
print(f"{(time.perf_counter() - t0) / n * 1000:.2f} {first:.0f} {rss_mb():.0f}")
"""

ENDLESS = """
from bocpy import Cown, when, wait
a, b = Cown(0), Cown(0)
@when(a)
def _(a):
    while True:
        pass
@when(b)
def _(b):
    while True:
        pass
print("READY", flush=True)
wait()
"""


def run_script(cmd, source, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(textwrap.dedent(source))
    try:
        out = subprocess.run([*cmd, f.name, *map(str, args)], capture_output=True, text=True, check=True)
        return out.stdout.split()
    finally:
        os.unlink(f.name)


def sigint_seconds(cmd):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(ENDLESS)
    try:
        rc, seconds, _, _ = interrupt_when_ready([*cmd, f.name], env=dict(os.environ, BOCPY_WORKERS="2"))
        return seconds, rc
    finally:
        os.unlink(f.name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--runner", help="the bocpy runner, for its Ctrl-C row")
    a = ap.parse_args()
    py = [sys.executable]
    ms, first, last = run_script(py, BOCPY_CYCLES, a.cycles)
    fms, ffirst, flast = run_script(py, CPYTHON_FLOOR, a.cycles)
    print(f"| start()/wait() cycles, 2 workers, x{a.cycles} | {ms} ms/cycle | RSS {first} -> {last} MB |")
    print(f"| CPython floor: create+destroy 2 isolated sub-interpreters, x{a.cycles} | {fms} ms/cycle "
          f"| RSS {ffirst} -> {flast} MB |")
    for name, cmd in [("stock python", py)] + ([("runner", [a.runner])] if a.runner else []):
        runs = [sigint_seconds(cmd) for _ in range(5)]
        secs = sorted(s for s, _ in runs)
        codes = sorted({rc for _, rc in runs})
        print(f"| Ctrl-C, 2 endless workers, {name} | exit {statistics.median(secs):.3f} s "
              f"[{secs[0]:.3f}-{secs[-1]:.3f}] | status {codes} |")


if __name__ == "__main__":
    main()
