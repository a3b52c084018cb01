"""Ctrl-C stops the whole runtime (runtime/python/interrupt.h).

Each case starts a program in a child process -- under the `bocpy` runner
(BOCPY_RUNNER) and under the stock CPython that imports the extension package
(sys.executable when this file runs as pyext.*, with PYTHONPATH passed on) --
sends SIGINT once it is READY, and checks that it exits with the SIGINT status
(130, or killed by SIGINT as python does) within 5 s, and what ran.
"""

import os
import signal
import sys
import tempfile
import textwrap
import unittest

from bocpy_test_support import interrupt_when_ready

RUNNER = os.environ.get("BOCPY_RUNNER")
EXIT_WITHIN = 5.0  # generous: the benchmark records the real time


def interpreters():
    """The commands that run a bocpy program here."""
    cmds = []
    if RUNNER:
        cmds.append(("runner", [RUNNER]))
    if "bocpy" not in os.path.basename(sys.executable):
        cmds.append(("python", [sys.executable]))
    return cmds


ENDLESS = """\
    from bocpy import Cown, when, wait
    a, b = Cown(0), Cown(0)
    @when(a)
    def spin_a(a):
        while True:
            pass
    @when(b)
    def spin_b(b):
        while True:
            pass
    queued = [Cown(i) for i in range(10)]
    for c in queued:
        @when(c, a)
        def late(c, a):
            print("LATE RAN", flush=True)
    print("READY", flush=True)
    wait()
    """


class InterruptTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self._tmp.cleanup()

    def run_and_interrupt(self, cmd, source, delay=0.5, signals=1, workers=2):
        path = os.path.join(self._tmp.name, "prog.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(source))
        env = dict(os.environ, BOCPY_WORKERS=str(workers), PYTHONDONTWRITEBYTECODE="1")
        return interrupt_when_ready([*cmd, path], delay, signals, env)

    def assert_sigint_exit(self, rc, err):
        self.assertIn(rc, (130, -signal.SIGINT), err)

    def assert_stops_in_time(self, source):
        """Under each interpreter: one SIGINT ends source with the SIGINT status within EXIT_WITHIN."""
        for name, cmd in interpreters():
            with self.subTest(name):
                rc, elapsed, out, err = self.run_and_interrupt(cmd, source)
                self.assert_sigint_exit(rc, err)
                self.assertLess(elapsed, EXIT_WITHIN, err)

    def test_endless_workers_stop(self):
        for name, cmd in interpreters():
            with self.subTest(name):
                rc, elapsed, out, err = self.run_and_interrupt(cmd, ENDLESS)
                self.assert_sigint_exit(rc, err)
                self.assertLess(elapsed, EXIT_WITHIN, err)
                self.assertNotIn("LATE RAN", out)
                self.assertIn("KeyboardInterrupt", err)

    def test_queued_behaviors_are_cancelled(self):
        # Finite bodies: what had not started when the signal came never runs,
        # and its result cown says why.
        source = """\
            import time
            from bocpy import Cown, when, wait
            gate = Cown(0)
            results = []
            @when(gate)
            def first(g):
                time.sleep(1.0)   # running when SIGINT comes
            for i in range(10):
                @when(gate)
                def later(g, i=i):
                    print("LATER RAN", i, flush=True)
                results.append(later)
            print("READY", flush=True)
            try:
                wait()
            except KeyboardInterrupt:
                import bocpy
                bocpy.wait()
                try:
                    results[-1].unwrap()
                except RuntimeError as e:
                    print("RESULT:", e, flush=True)
                raise
            """
        for name, cmd in interpreters():
            with self.subTest(name):
                rc, elapsed, out, err = self.run_and_interrupt(cmd, source, delay=0.2)
                self.assert_sigint_exit(rc, err)
                self.assertNotIn("LATER RAN", out)
                self.assertIn("RESULT: cancelled: interrupted", out)

    def test_worker_blocked_in_receive_stops(self):
        source = """\
            from bocpy import Cown, when, wait, receive
            c = Cown(0)
            @when(c)
            def listen(c):
                receive("never-sent")
            print("READY", flush=True)
            wait()
            """
        self.assert_stops_in_time(source)

    def test_workers_that_went_idle_after_behaviors_let_the_interrupt_in(self):
        # A worker keeps its interpreter's GIL across back-to-back behaviors and
        # gives it back when it runs out of work (runtime/python/py_behavior.h):
        # an idle worker holding it would leave the interrupt waiting for it.
        source = """\
            import time
            from bocpy import Cown, quiesce, when, wait
            # Slow enough that every worker runs some of them.
            for c in [Cown(i) for i in range(8)]:
                @when(c)
                def step(c):
                    time.sleep(0.05)
            quiesce()
            spin = Cown(0)
            @when(spin)
            def endless(spin):
                while True:
                    pass
            print("READY", flush=True)
            wait()
            """
        self.assert_stops_in_time(source)

    def test_main_in_pump_loop_stops(self):
        source = """\
            import time
            from bocpy import Cown, when, pump
            c = Cown(0)
            @when(c)
            def spin(c):
                while True:
                    pass
            print("READY", flush=True)
            while True:
                pump()
                time.sleep(0.005)
            """
        self.assert_stops_in_time(source)

    def test_second_sigint_exits_at_once(self):
        # A worker in a C call that a KeyboardInterrupt cannot break (a long
        # sleep) keeps the shutdown waiting; the second SIGINT ends it.
        source = """\
            import time
            from bocpy import Cown, when, wait
            c = Cown(0)
            @when(c)
            def nap(c):
                time.sleep(30)
            print("READY", flush=True)
            wait()
            """
        for name, cmd in interpreters():
            with self.subTest(name):
                rc, elapsed, out, err = self.run_and_interrupt(cmd, source, signals=2)
                self.assertEqual(rc, 130, err)
                self.assertLess(elapsed, EXIT_WITHIN, err)


if __name__ == "__main__":
    unittest.main()
