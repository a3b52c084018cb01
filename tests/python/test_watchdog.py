"""The pump-starvation watchdog: set_pump_watchdog(warn_ms=1000, on_starve=None).

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §3.6 (off by default; validation; sampled only at
pump() entry, including the wait()/quiesce() auto-pump; fires once per
non-empty episode and re-arms after a drain; exact message on logger
"bocpy.pump"; on_starve(0, message) replaces the sink; callback errors are
swallowed; warn_ms=None disables; never raises by itself) and the pinned-cown contract's
"Starvation and the Watchdog". Mirrors upstream test_pinned_pump.py
(TestPinnedWatchdog, TestPumpWatchdogOverflow, TestSetPumpWatchdogValidation).
"""

import logging
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from bocpy import (Cown, PinnedCown, PumpResult, pump, quiesce,
                   set_pump_watchdog, start, wait, when)
from bocpy_test_support import QUIESCE_TIMEOUT

MAX_PUMP_MS = (1 << 63) // 1_000_000 - 1
MESSAGE_RE = re.compile(
    r"pinned-cown queue non-empty for (\d+) ms with no pump\(\) progress \(depth=(\d+)\)")


def queue_pinned(count):
    """Queues `count` trivial pinned behaviors on distinct pinned cowns."""
    results = []
    for i in range(count):
        pc = PinnedCown(i)
        @when(pc)
        def body(pc):
            return pc.value
        results.append(body)
    return results


class Recorder:
    """An on_starve callback that records its calls (runs on main, in pump())."""

    def __init__(self, raise_with=None):
        self.calls = []
        self.raise_with = raise_with

    def __call__(self, severity, message):
        self.calls.append((severity, message))
        if self.raise_with is not None:
            raise self.raise_with

    def wait_for(self, n, timeout=10.0):
        """len(calls) once it reaches n (or at the timeout). A report found by the
        monitor thread reaches Python when that thread gets the GIL, possibly just
        after the pump() that would otherwise have reported it."""
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.005)
        return len(self.calls)


def runner_command():
    """How to start another process running bocpy programs."""
    runner = os.environ.get("BOCPY_RUNNER")
    return [runner] if runner else [sys.executable]


class TestDefault(unittest.TestCase):
    def test_silent_without_a_call(self):
        # A fresh process that never calls set_pump_watchdog(): a pinned
        # behavior starves for 300 ms, yet nothing is reported anywhere.
        script = textwrap.dedent("""\
            import logging
            import time
            from bocpy import PinnedCown, pump, wait, when

            class Collect(logging.Handler):
                def __init__(self):
                    super().__init__(logging.DEBUG)
                    self.messages = []
                def emit(self, record):
                    self.messages.append(record.getMessage())

            def main():
                collect = Collect()
                logging.getLogger().addHandler(collect)
                logging.getLogger().setLevel(logging.DEBUG)
                pc = PinnedCown(0)
                @when(pc)
                def body(pc):
                    return 1
                time.sleep(0.3)
                r = pump()
                starving = [m for m in collect.messages if "pinned-cown queue" in m]
                print("RESULT", r.executed, len(starving))
                wait()

            if __name__ == "__main__":
                main()
            """)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "silent.py")
            with open(path, "w") as f:
                f.write(script)
            proc = subprocess.run(runner_command() + [path], capture_output=True, text=True,
                                  timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("RESULT 1 0", proc.stdout)
        self.assertNotIn("pinned-cown queue", proc.stderr)


class TestValidation(unittest.TestCase):
    def tearDown(self):
        set_pump_watchdog(warn_ms=None)

    def test_warn_ms_rejects_bad_input(self):
        for bad in (0, -1, -1000, 1.5, "1", True, False):
            with self.subTest(bad=bad):
                with self.assertRaisesRegex(TypeError, "positive int or None"):
                    set_pump_watchdog(warn_ms=bad)

    def test_warn_ms_overflow(self):
        for big in (MAX_PUMP_MS + 1, 2**64):
            with self.subTest(big=big):
                with self.assertRaises(OverflowError) as cm:
                    set_pump_watchdog(warn_ms=big)
                self.assertIn("warn_ms", str(cm.exception))
        self.assertIsNone(set_pump_watchdog(warn_ms=MAX_PUMP_MS))

    def test_on_starve_must_be_callable(self):
        for bad in (5, "log", object()):
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    set_pump_watchdog(warn_ms=100, on_starve=bad)

    def test_returns_none(self):
        self.assertIsNone(set_pump_watchdog())
        self.assertIsNone(set_pump_watchdog(warn_ms=10, on_starve=Recorder()))
        self.assertIsNone(set_pump_watchdog(warn_ms=None))


class WatchdogTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start()

    @classmethod
    def tearDownClass(cls):
        set_pump_watchdog(warn_ms=None)
        wait()

    def setUp(self):
        quiesce(QUIESCE_TIMEOUT)  # start every test with an empty pinned queue

    def tearDown(self):
        set_pump_watchdog(warn_ms=None)
        quiesce(QUIESCE_TIMEOUT)


class TestReports(WatchdogTestCase):
    def test_default_sink_logs_exact_message(self):
        set_pump_watchdog(warn_ms=50)
        with self.assertLogs("bocpy.pump", level="WARNING") as cm:
            queue_pinned(2)
            time.sleep(0.15)
            r = pump()
        self.assertEqual(r, PumpResult(2, False, 0))  # the watchdog never raises
        self.assertEqual(len(cm.records), 1, cm.output)
        record = cm.records[0]
        self.assertEqual(record.levelno, logging.WARNING)
        self.assertEqual(record.name, "bocpy.pump")
        m = MESSAGE_RE.fullmatch(record.getMessage())
        self.assertIsNotNone(m, record.getMessage())
        age, depth = int(m.group(1)), int(m.group(2))
        self.assertGreaterEqual(age, 50)
        self.assertLess(age, 60_000)
        self.assertEqual(depth, 2)

    def test_callback_replaces_logger(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=30, on_starve=cb)
        with self.assertNoLogs("bocpy.pump", level="DEBUG"):
            queue_pinned(1)
            time.sleep(0.1)
            r = pump()
        self.assertEqual(r.executed, 1)
        self.assertEqual(cb.wait_for(1), 1)
        severity, message = cb.calls[0]
        self.assertIs(type(severity), int)
        self.assertEqual(severity, 0)
        m = MESSAGE_RE.fullmatch(message)
        self.assertIsNotNone(m, message)
        self.assertGreaterEqual(int(m.group(1)), 30)
        self.assertEqual(int(m.group(2)), 1)

    def test_not_before_threshold(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=5_000, on_starve=cb)
        queue_pinned(1)
        time.sleep(0.05)
        self.assertEqual(pump().executed, 1)
        self.assertEqual(cb.calls, [])

    def test_monitor_reports_a_loop_that_never_pumps(self):
        # This runtime goes beyond bocpy (spec §3.6 samples only at pump()
        # entry): a monitor thread also samples, so a main loop that stops
        # calling pump() is reported while it is wedged (README "Differences
        # from bocpy"). Still exactly once per episode.
        cb = Recorder()
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        queue_pinned(1)
        deadline = time.monotonic() + 10
        while not cb.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(cb.wait_for(1), 1, "the monitor did not report a wedged loop")
        severity, message = cb.calls[0]
        self.assertEqual(severity, 0)
        self.assertEqual(int(MESSAGE_RE.fullmatch(message).group(2)), 1)
        time.sleep(0.1)
        self.assertEqual(pump().executed, 1)
        self.assertEqual(cb.wait_for(1), 1)  # pump() entry sees the same episode

    def test_once_per_episode_then_rearms(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=30, on_starve=cb)
        queue_pinned(3)
        time.sleep(0.1)
        self.assertEqual(pump(max_behaviors=1).executed, 1)
        self.assertEqual(cb.wait_for(1), 1)
        self.assertEqual(int(MESSAGE_RE.fullmatch(cb.calls[0][1]).group(2)), 3)
        # Same episode (the queue never emptied): no second report.
        time.sleep(0.1)
        self.assertEqual(pump(max_behaviors=1).executed, 1)
        self.assertEqual(cb.wait_for(1), 1)
        time.sleep(0.1)
        self.assertEqual(pump().executed, 1)  # drains: the episode ends
        self.assertEqual(cb.wait_for(1), 1)
        # A new episode reports again.
        queue_pinned(1)
        time.sleep(0.1)
        self.assertEqual(pump().executed, 1)
        self.assertEqual(cb.wait_for(2), 2)
        self.assertEqual(int(MESSAGE_RE.fullmatch(cb.calls[1][1]).group(2)), 1)

    def test_empty_queue_pump_does_not_report(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=1, on_starve=cb)
        time.sleep(0.02)
        self.assertEqual(pump(), PumpResult(0, False, 0))
        self.assertEqual(cb.calls, [])

    def test_auto_pump_samples_watchdog(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=50, on_starve=cb)
        results = queue_pinned(1)
        time.sleep(0.15)
        quiesce(QUIESCE_TIMEOUT)
        self.assertGreaterEqual(len(cb.calls), 1)
        self.assertEqual(cb.calls[0][0], 0)
        self.assertEqual(results[0].unwrap(), 0)

    def test_no_arguments_enables_1000_ms_default_sink(self):
        set_pump_watchdog()
        with self.assertNoLogs("bocpy.pump", level="WARNING"):
            queue_pinned(1)
            time.sleep(0.2)
            pump()
        with self.assertLogs("bocpy.pump", level="WARNING") as cm:
            queue_pinned(1)
            time.sleep(1.1)
            pump()
        self.assertEqual(len(cm.records), 1)
        self.assertGreaterEqual(int(MESSAGE_RE.fullmatch(cm.records[0].getMessage()).group(1)), 1000)


class TestConfiguration(WatchdogTestCase):
    def test_none_disables(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        set_pump_watchdog(warn_ms=None, on_starve=cb)
        with self.assertNoLogs("bocpy.pump", level="DEBUG"):
            queue_pinned(1)
            time.sleep(0.1)
            self.assertEqual(pump().executed, 1)
        self.assertEqual(cb.calls, [])

    def test_reconfigure_while_pending(self):
        first, second = Recorder(), Recorder()
        set_pump_watchdog(warn_ms=60_000, on_starve=first)
        queue_pinned(2)
        time.sleep(0.1)
        set_pump_watchdog(warn_ms=20, on_starve=second)  # affects the next sample
        self.assertEqual(pump().executed, 2)
        self.assertEqual(first.calls, [])
        self.assertEqual(second.wait_for(1), 1)

    def test_none_callback_restores_default_sink(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        set_pump_watchdog(warn_ms=20, on_starve=None)
        with self.assertLogs("bocpy.pump", level="WARNING"):
            queue_pinned(1)
            time.sleep(0.1)
            pump()
        self.assertEqual(cb.calls, [])

    def test_callback_exception_is_swallowed(self):
        cb = Recorder(raise_with=ValueError("escalate"))
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        unraisable = []
        old_hook = sys.unraisablehook
        sys.unraisablehook = unraisable.append
        try:
            results = queue_pinned(1)
            time.sleep(0.1)
            r = pump()
        finally:
            sys.unraisablehook = old_hook
        self.assertEqual(r, PumpResult(1, False, 0))
        self.assertEqual(cb.wait_for(1), 1)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(results[0].unwrap(), 0)

    def test_callback_exception_reported_as_unraisable(self):
        cb = Recorder(raise_with=ValueError("escalate"))
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        unraisable = []
        old_hook = sys.unraisablehook
        sys.unraisablehook = lambda info: unraisable.append(info.exc_type)
        try:
            queue_pinned(1)
            time.sleep(0.1)
            pump()
        finally:
            sys.unraisablehook = old_hook
        self.assertIn(ValueError, unraisable)

    def test_unpinned_only_work_never_trips(self):
        cb = Recorder()
        pc = PinnedCown("alive")  # a live pinned cown: quiesce() auto-pumps
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        c = Cown(0)
        for _ in range(8):
            @when(c)
            def slow(c):
                time.sleep(0.02)
                c.value += 1
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pump(), PumpResult(0, False, 0))
        self.assertEqual(cb.calls, [])
        # A pinned behavior afterwards runs normally.
        @when(pc)
        def pinned(pc):
            return pc.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pinned.unwrap(), "alive")

    def test_depth_reported_is_current(self):
        cb = Recorder()
        set_pump_watchdog(warn_ms=20, on_starve=cb)
        queue_pinned(5)
        time.sleep(0.1)
        pump()
        self.assertEqual(cb.wait_for(1), 1)
        self.assertEqual(int(MESSAGE_RE.fullmatch(cb.calls[0][1]).group(2)), 5)


if __name__ == "__main__":
    unittest.main()
