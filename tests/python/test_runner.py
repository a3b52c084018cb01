"""The `bocpy` runner: command line, `python`-compatible execution, exit path.

Covers the runner this project adds (no bocpy spec section; its contract is
`python`'s): script / -m / -c / stdin modes, sys.argv, sys.path[0],
__main__ (pickling of classes defined in the script), exit statuses
(SystemExit, uncaught exceptions, KeyboardInterrupt), --workers (BOCPY_WORKERS
→ WORKER_COUNT, spec §2.10), usage errors, and the exit path: work still in
flight when the script ends is finished (as wait() would) and the process
ends cleanly (the strict shutdown order of runtime/python/embedded_python.h, SystemExit).
Also spec §1.1's report of an unconsumed exception when its cown dies.

Needs BOCPY_RUNNER (set by CTest) naming the runner binary.
"""

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from bocpy_test_support import interrupt_when_ready

RUNNER = os.environ.get("BOCPY_RUNNER")
TIMEOUT = 120
CRASH_MARKERS = ("Fatal Python error", "Segmentation fault", "Aborted", "core dumped")


def clean_env(**extra):
    env = dict(os.environ)
    env.pop("BOCPY_WORKERS", None)
    env.update(extra)
    return env


@unittest.skipUnless(RUNNER, "BOCPY_RUNNER is not set")
class RunnerTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def run_bocpy(self, *args, env=None, cwd=None, stdin=None):
        proc = subprocess.run([RUNNER, *args], capture_output=True, text=True,
                              timeout=TIMEOUT, env=env or clean_env(), cwd=cwd or self.tmp,
                              input=stdin)
        for marker in CRASH_MARKERS:
            self.assertNotIn(marker, proc.stderr, f"crash running {args}: {proc.stderr}")
        self.assertGreaterEqual(proc.returncode, 0,
                                f"killed by signal {-proc.returncode}: {proc.stderr}")
        return proc

    def run_script(self, text, *args, **kwargs):
        return self.run_bocpy(self.write("script.py", text), *args, **kwargs)


class TestCommandLine(RunnerTestCase):
    def test_help(self):
        for flag in ("-h", "--help"):
            proc = self.run_bocpy(flag)
            self.assertEqual(proc.returncode, 0)
            self.assertIn("usage: bocpy", proc.stdout)
            self.assertIn("--workers", proc.stdout)

    def test_version(self):
        proc = self.run_bocpy("--version")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"^bocpy \S+ \(CPython 3\.\d+")

    def test_no_script_runs_piped_stdin(self):
        # As python: with stdin not a terminal, no script means "read stdin".
        proc = self.run_bocpy(stdin="import sys\nprint('ARGV', sys.argv)\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ARGV ['-']", proc.stdout)

    def test_python_flags_are_accepted(self):
        # Programs re-run sys.executable (this runner) with python's flags.
        proc = self.run_bocpy("-s", "-E", "-X", "utf8", "-c", "print('OK')")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("OK", proc.stdout)

    def test_unknown_option(self):
        proc = self.run_bocpy("--frobnicate", "x.py")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--frobnicate", proc.stderr)

    def test_bad_worker_counts(self):
        for bad in ("0", "-1", "abc", "2x", "", "1.5"):
            with self.subTest(bad=bad):
                proc = self.run_bocpy("--workers", bad, "-c", "pass")
                self.assertEqual(proc.returncode, 2)
                self.assertIn("--workers", proc.stderr)
        proc = self.run_bocpy("--workers")
        self.assertEqual(proc.returncode, 2)

    def test_workers_sets_worker_count(self):
        code = "import os, bocpy; print(os.environ['BOCPY_WORKERS'], bocpy.WORKER_COUNT)"
        proc = self.run_bocpy("--workers", "3", "-c", code)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["3", "3"])
        proc = self.run_bocpy("--workers=2", "-c", code)
        self.assertEqual(proc.stdout.split(), ["2", "2"])

    def test_workers_used_by_the_runtime(self):
        # Sleeping bodies leave every worker time to take some: 60 of them
        # must be spread over exactly the 3 workers asked for.
        script = """\
            import threading, time
            from bocpy import quiesce, wait, when

            def main():
                results = []
                for _ in range(60):
                    @when()
                    def work():
                        time.sleep(0.02)
                        return threading.get_ident()
                    results.append(work)
                quiesce()
                print("THREADS", len({r.unwrap() for r in results}))
                wait()

            if __name__ == "__main__":
                main()
            """
        proc = self.run_bocpy("--workers", "3", self.write("w.py", script))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("THREADS 3", proc.stdout)

    def test_missing_file(self):
        proc = self.run_bocpy(os.path.join(self.tmp, "nope.py"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("can't open file", proc.stderr)


class TestExecution(RunnerTestCase):
    def test_script_environment(self):
        script = """\
            import os, pickle, sys

            class Thing:
                def __init__(self, n):
                    self.n = n

            if __name__ == "__main__":
                t = pickle.loads(pickle.dumps(Thing(5)))
                main = sys.modules["__main__"]
                print("ARGV", sys.argv)
                print("FILE", __file__)
                print("PATH0", sys.path[0])
                print("PICKLE", type(t) is Thing, t.n, type(t).__module__)
                print("MAIN", main.__dict__ is globals(), main.__file__ == __file__)
                print("EXE", os.path.basename(sys.executable) == "bocpy",
                      os.path.exists(sys.executable))
                print("VERSION", sys.version_info >= (3, 12))
            """
        path = self.write("sub/env_script.py", script)
        proc = self.run_bocpy(path, "a", "b c")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        self.assertIn(f"ARGV {[path, 'a', 'b c']!r}", out)
        self.assertIn(f"FILE {os.path.abspath(path)}", out)
        self.assertIn(f"PATH0 {os.path.dirname(os.path.realpath(path))}", out)
        self.assertIn("PICKLE True 5 __main__", out)
        self.assertIn("MAIN True True", out)
        self.assertIn("EXE True True", out)
        self.assertIn("VERSION True", out)

    def test_relative_script_path(self):
        self.write("rel/r.py", "import sys\nprint('ARGV0', sys.argv[0])\nprint('FILE', __file__)\n")
        proc = self.run_bocpy(os.path.join("rel", "r.py"), cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ARGV0 rel/r.py", proc.stdout)
        self.assertIn(f"FILE {os.path.join(os.path.realpath(self.tmp), 'rel', 'r.py')}", proc.stdout)

    def test_dash_c(self):
        proc = self.run_bocpy("-c", "import sys; print('ARGV', sys.argv, repr(sys.path[0]))", "x", "y")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ARGV ['-c', 'x', 'y'] ''", proc.stdout)

    def test_dash_m(self):
        self.write("pkg/__init__.py", "")
        self.write("pkg/tool.py", """\
            import os, sys
            print("ARGV", sys.argv)
            print("NAME", __name__)
            print("PATH0", sys.path[0] == os.getcwd())
            """)
        proc = self.run_bocpy("-m", "pkg.tool", "arg", cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        tool = os.path.join(os.path.realpath(self.tmp), "pkg", "tool.py")
        self.assertIn(f"ARGV {[tool, 'arg']!r}", proc.stdout.replace(self.tmp, os.path.realpath(self.tmp)))
        self.assertIn("NAME __main__", proc.stdout)
        self.assertIn("PATH0 True", proc.stdout)

    def test_dash_m_missing_module(self):
        proc = self.run_bocpy("-m", "no_such_module_xyz")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("No module named", proc.stderr)

    def test_stdin(self):
        proc = self.run_bocpy("-", "z", stdin="import sys\nprint('STDIN', sys.argv)\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("STDIN ['-', 'z']", proc.stdout)

    def test_behaviors_in_dash_c_program(self):
        code = ("import math\nfrom bocpy import wait, when\n"
                "@when()\ndef b():\n    return math.sqrt(9)\n"
                "wait()\nprint('RESULT', b.unwrap())\n")
        proc = self.run_bocpy("-c", code)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("RESULT 3.0", proc.stdout)

    def test_behaviors_in_stdin_program(self):
        code = ("import math\nfrom bocpy import Cown, wait, when\n"
                "c = Cown(50)\n"
                "@when(c)\ndef b(c):\n    return c.value + int(math.log2(4))\n"
                "wait()\nprint('RESULT', b.unwrap())\n")
        proc = self.run_bocpy("-", stdin=code)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("RESULT 52", proc.stdout)

    def test_directory_with_main(self):
        d = os.path.dirname(self.write("app/__main__.py", "print('APP MAIN', __name__)\n"))
        proc = self.run_bocpy(d)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("APP MAIN __main__", proc.stdout)

    def test_script_imports_sibling_module(self):
        self.write("lib/helper.py", "VALUE = 41\n")
        path = self.write("lib/main.py", "import helper\nprint('HELPER', helper.VALUE + 1)\n")
        proc = self.run_bocpy(path, cwd="/")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("HELPER 42", proc.stdout)

    def test_coding_cookie(self):
        path = os.path.join(self.tmp, "latin.py")
        with open(path, "wb") as f:
            f.write(b"# -*- coding: latin-1 -*-\nprint('LATIN', len('\xe9t\xe9'))\n")
        proc = self.run_bocpy(path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("LATIN 3", proc.stdout)


class TestExitStatus(RunnerTestCase):
    def test_normal_exit(self):
        self.assertEqual(self.run_script("print('hi')\n").returncode, 0)

    def test_sys_exit_codes(self):
        cases = [("sys.exit()", 0, ""), ("sys.exit(0)", 0, ""), ("sys.exit(3)", 3, ""),
                 ("sys.exit(None)", 0, ""), ("sys.exit('bye now')", 1, "bye now"),
                 ("raise SystemExit(42)", 42, "")]
        for stmt, status, err in cases:
            with self.subTest(stmt=stmt):
                proc = self.run_script(f"import sys\n{stmt}\n")
                self.assertEqual(proc.returncode, status, proc.stderr)
                if err:
                    self.assertIn(err, proc.stderr)
                self.assertNotIn("Traceback", proc.stderr)

    def test_uncaught_exception(self):
        proc = self.run_script("def f():\n    raise ValueError('boom')\nf()\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Traceback (most recent call last)", proc.stderr)
        self.assertIn("ValueError: boom", proc.stderr)
        self.assertIn("line 2, in f", proc.stderr)

    def test_syntax_error(self):
        proc = self.run_script("def broken(:\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("SyntaxError", proc.stderr)

    def test_keyboard_interrupt(self):
        proc = self.run_script("raise KeyboardInterrupt\n")
        self.assertEqual(proc.returncode, 130)
        self.assertIn("KeyboardInterrupt", proc.stderr)

    def interrupt_when_ready(self, path, delay):
        """Runs path, waits for it to print READY, sends SIGINT after `delay`
        seconds; returns (returncode, stdout rest, stderr)."""
        returncode, _, out, err = interrupt_when_ready([RUNNER, path], delay, env=clean_env(), timeout=TIMEOUT)
        return returncode, out, err

    def test_sigint(self):
        path = self.write("sleepy.py", """\
            import time
            print("READY", flush=True)
            time.sleep(60)
            """)
        returncode, _, err = self.interrupt_when_ready(path, 0.2)
        self.assertEqual(returncode, 130, err)
        self.assertIn("KeyboardInterrupt", err)

    def test_sigint_during_wait(self):
        # The main thread blocked in wait() must still see Ctrl-C
        # (wait() parks in short slices and checks signals between them).
        path = self.write("sigwait.py", """\
            import time
            from bocpy import Cown, wait, when

            def main():
                c = Cown(0)
                @when(c)
                def slow(c):
                    time.sleep(3)
                print("READY", flush=True)
                wait()
                print("WAIT RETURNED", flush=True)
                time.sleep(1)
                print("NOT INTERRUPTED", flush=True)

            if __name__ == "__main__":
                main()
            """)
        returncode, out, err = self.interrupt_when_ready(path, 0.5)
        self.assertNotIn("NOT INTERRUPTED", out)
        self.assertEqual(returncode, 130, err)
        self.assertIn("KeyboardInterrupt", err)

    def test_unittest_failure_is_non_zero(self):
        script = """\
            import unittest

            class T(unittest.TestCase):
                def test_fails(self):
                    self.assertEqual(1, 2)

            if __name__ == "__main__":
                unittest.main()
            """
        proc = self.run_script(script)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("FAILED", proc.stderr)

    def test_excepthook_is_used(self):
        script = """\
            import sys
            def hook(t, v, tb):
                print("HOOKED", t.__name__, v, file=sys.stderr)
            sys.excepthook = hook
            raise RuntimeError("via hook")
            """
        proc = self.run_script(script)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("HOOKED RuntimeError via hook", proc.stderr)


class TestExitWithRuntime(RunnerTestCase):
    """Work in flight when the script ends is finished, and the exit is clean."""

    PROGRAM = """\
        import sys, time
        from bocpy import Cown, PinnedCown, when

        def log(path, text):
            with open(path, "a") as f:
                f.write(text + "\\n")

        def main(path, ending):
            pc = PinnedCown([])
            for i in range(6):
                c = Cown(i)
                @when(c)
                def work(c, path=path):
                    time.sleep(0.05)
                    log(path, f"worker {{c.value}}")
                    return c.value
                @when(work, pc)
                def on_main(r, pc, path=path):
                    log(path, f"pinned {{r.value}}")
            print("SCHEDULED", flush=True)
            {ending}

        if __name__ == "__main__":
            main(sys.argv[1], sys.argv[2])
        """

    def run_ending(self, ending):
        out = os.path.join(self.tmp, "out.txt")
        if os.path.exists(out):
            os.remove(out)
        script = self.write("inflight.py", self.PROGRAM.format(ending=ending))
        return self.run_bocpy(script, out, "x")

    def assertAllWorkDone(self, text):
        lines = text.splitlines()
        self.assertEqual(sorted(l for l in lines if l.startswith("worker")),
                         sorted(f"worker {i}" for i in range(6)), text)
        self.assertEqual(sorted(l for l in lines if l.startswith("pinned")),
                         sorted(f"pinned {i}" for i in range(6)), text)

    def read_out(self):
        path = os.path.join(self.tmp, "out.txt")
        if not os.path.exists(path):
            return ""
        with open(path) as f:
            return f.read()

    def test_falling_off_the_end_finishes_work(self):
        proc = self.run_ending("pass")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("SCHEDULED", proc.stdout)
        self.assertAllWorkDone(self.read_out())

    def test_sys_exit_finishes_work(self):
        proc = self.run_ending("sys.exit(4)")
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertAllWorkDone(self.read_out())

    def test_uncaught_exception_finishes_work(self):
        proc = self.run_ending("raise ValueError('after scheduling')")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("ValueError: after scheduling", proc.stderr)
        self.assertAllWorkDone(self.read_out())

    def test_repeated_runs_are_clean(self):
        for _ in range(3):
            proc = self.run_ending("pass")
            self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_atexit_and_threads_may_still_use_bocpy(self):
        # As in `python`: non-daemon threads are joined and atexit callbacks
        # run at exit, and both come before the bocpy runtime shuts down.
        script = """\
            import atexit, threading, time
            from bocpy import Cown, quiesce, when

            def late_work(tag):
                c = Cown(tag)
                @when(c)
                def echo(c):
                    return c.value
                quiesce()
                print("DONE", echo.unwrap(), flush=True)

            def main():
                atexit.register(late_work, "atexit")
                t = threading.Thread(target=lambda: (time.sleep(0.3), late_work("thread")))
                t.start()

            if __name__ == "__main__":
                main()
            """
        proc = self.run_script(script)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["DONE", "thread", "DONE", "atexit"])

    def test_unconsumed_exception_reported(self):
        script = """\
            from bocpy import quiesce, wait, when

            def main():
                @when()
                def boom():
                    raise ValueError("never unwrapped")
                quiesce()
                del boom
                wait()

            if __name__ == "__main__":
                main()
            """
        proc = self.run_script(script)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("unhandled exception", proc.stderr)
        self.assertIn("never unwrapped", proc.stderr)


if __name__ == "__main__":
    unittest.main()
