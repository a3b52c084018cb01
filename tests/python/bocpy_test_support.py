"""Helpers shared by the Python test scripts (importable in every interpreter:
workers get the main interpreter's sys.path, which holds this folder)."""

import threading

QUIESCE_TIMEOUT = 60


def where():
    """(interpreter id, thread ident) of the caller; id 0 is the main interpreter."""
    try:
        import _interpreters
        interp = _interpreters.get_current()[0]
    except Exception:  # pragma: no cover - interpreter ids not available
        interp = None
    return interp, threading.get_ident()


def rss_mb():
    """This process's resident set size in MB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def interrupt_when_ready(cmd, delay=0.5, signals=1, env=None, timeout=60):
    """Runs `cmd`, waits for its first line READY, sends SIGINT `signals`
    times (0.3 s apart) after `delay` s. Returns (returncode, seconds from the
    first SIGINT to exit, stdout rest, stderr); the child's SIGINT is not
    ignored even when this runs as a background job."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline().strip()
        if line != "READY":
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"expected READY, got {line!r}: {err}")
        time.sleep(delay)
        start = time.monotonic()
        for i in range(signals):
            if i:
                time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, time.monotonic() - start, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def under_address_sanitizer():
    """True in a process built with ASan (its quarantine keeps freed memory,
    so resident-size checks say nothing there)."""
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False
