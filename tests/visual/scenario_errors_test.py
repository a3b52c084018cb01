"""A bad scenario script exits 2 with "path:line: Type: message" (the successor of the literal
reader's tests). Errors at the module level come before the window; those inside on_frame need a
display (exit 77 without one: skipped). Run by `bocpy`: tests/visual/CMakeLists.txt.

  scenario_errors_test.py <boids_demo>
"""
import os
import subprocess
import sys
import tempfile

# script body (after `from boids_scenario import *`) -> (message, the line it names; 0: none)
BAD = {
    "setup(boids=0)": ("setup: --boids: expected an integer in [1, 1000000], got '0'", 2),
    "setup(bodis=3)": ("setup: unknown option '--bodis'", 2),
    "setup(size='640')": ("setup: --size: expected WxH with each side in [64, 8192]", 2),
    "setup(dispatch='fine')": ("dispatch: expected 'coarse' or 'per_item', got 'fine'", 2),
    "setup()\npause_pump(True)": ("pause_pump() can only be called inside on_frame(frame)", 3),
    "setup()\nsetup()": ("setup() is called once, at the scenario's module level", 3),
    "setup()\ndef on_frame(f):\n    pause_pump(1)": ("pause_pump: expected True or False, got 1", 4),
    "setup()\ndef on_frame(f):\n    set_knob('speed', 1)": ("unknown knob 'speed' (known: deadline_ms, max_beh", 4),
    "setup()\ndef on_frame(f):\n    set_knob('max_behaviors', 0)":
        ("max_behaviors: expected an integer in [1, 2147483647] or None, got 0", 4),
    "setup()\ndef on_frame(f):\n    set_knob('deadline_ms', 0)": ("deadline_ms: expected a positive number", 4),
    "setup()\ndef on_frame(f):\n    stall_ms(-1)": ("stall_ms: expected an integer in [0, 60000], got -1", 4),
    "setup()\ndef on_frame(f):\n    1 / f": ("ZeroDivisionError: division by zero", 4),
    "frames = 3": ("the scenario never calls boids_scenario.setup(...)", 0),
}

failures = 0
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "bad.py")
    for body, (message, line) in BAD.items():
        with open(path, "w") as f:
            f.write("from boids_scenario import *\n" + body + "\n")
        r = subprocess.run([sys.argv[1], "--scenario", path, "--frames", "2"], capture_output=True, text=True)
        last = (r.stderr.strip().splitlines() or [""])[-1]
        where = f"boids_demo: --scenario: {path}{f':{line}' if line else ''}: "
        ok = r.returncode == 77 or (r.returncode == 2 and last.startswith(where) and message in last)
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}: {body!r} -> exit {r.returncode}: {last}")
sys.exit(1 if failures else 0)
