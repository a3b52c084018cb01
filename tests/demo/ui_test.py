#!/usr/bin/env python3
"""UI tests of boids_demo with real X input: the interactive window under Xvfb, driven by xdotool
(XTEST), observed through `--ui-log` (one JSON line per frame: demo/panels/ui_log.h), not pixels.

    ui_test.py BOIDS_DEMO CASE WORKDIR

Cases: pause_banner, resize, grow, drag_reset, escape, ctrl_q, tab_tap, record_save. Exit 0 pass, 1 fail,
77 skip (no X display or no xdotool: ctest SKIP_RETURN_CODE). tests/run.sh runs ctest under one
xvfb-run: a plain X server with no window manager, so the window is focused with
`xdotool windowfocus` and resized with `xdotool windowsize` (a maximise stand-in).
"""

import json
import os
import shutil
import subprocess
import sys
import time

SKIP = 77
TIMEOUT = 30.0  # generous: the 2-core test machine is shared


class Fail(Exception):
    pass


def xdo(*args, check=True):
    r = subprocess.run(["xdotool", *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise Fail(f"xdotool {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip()


class Demo:
    def __init__(self, exe, workdir, name, size, extra=()):
        self.log = os.path.join(workdir, f"{name}.jsonl")
        if os.path.exists(self.log):
            os.remove(self.log)
        # A small flock on one worker: the test is about the UI, not the simulation.
        cmd = [exe, "--size", f"{size[0]}x{size[1]}", "--boids", "300", "--workers", "1", "--ui-log", self.log,
               *extra]
        print("run:", " ".join(cmd), flush=True)
        self.out = open(os.path.join(workdir, f"{name}.out"), "w")
        self.exe = exe
        self.proc = subprocess.Popen(cmd, cwd=workdir, stdout=self.out, stderr=subprocess.STDOUT)
        self.wid = None

    def start(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.out.flush()
                with open(self.out.name) as f:
                    tail = "".join(f.readlines()[-15:])
                raise Fail(f"boids_demo exited early with {self.proc.returncode}; its output ends:\n{tail}")
            r = subprocess.run(["xdotool", "search", "--pid", str(self.proc.pid)], capture_output=True, text=True)
            ids = r.stdout.split()
            if ids and self.last() is not None:
                self.wid = ids[-1]
                break
            time.sleep(0.1)
        else:
            raise Fail("no boids_demo window / UI log line within the timeout")
        # No window manager: give the window the keyboard focus (GLFW_FOCUSED, which ImGui's
        # GLFW backend needs before it reads the mouse) and put the pointer over it.
        # XSetInputFocus fails (BadMatch) until the window is viewable: retry until it is.
        while True:
            xdo("windowfocus", self.wid, check=False)
            if self.focused():
                break
            if time.monotonic() > deadline:
                raise Fail("could not focus the boids_demo window")
            time.sleep(0.1)
        xdo("mousemove", "--window", self.wid, 640, 700)
        return self

    def focused(self):
        r = subprocess.run(["xdotool", "getwindowfocus"], capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip() == self.wid

    def frames(self):
        try:
            with open(self.log) as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line being written
        return out

    def last(self):
        f = self.frames()
        return f[-1] if f else None

    def wait(self, what, pred, timeout=TIMEOUT, after=-1):
        """The first frame (newer than `after`) satisfying pred, within timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for fr in self.frames():
                if fr["frame"] > after and pred(fr):
                    return fr
            if self.proc.poll() is not None:
                raise Fail(f"boids_demo exited ({self.proc.returncode}) while waiting for: {what}")
            if time.monotonic() > deadline:
                last = self.last()
                raise Fail(f"timed out ({timeout} s) waiting for: {what}; last frame: {json.dumps(last)[:1500]}")
            time.sleep(0.05)

    def click(self, widget):
        fr = self.last()
        x0, y0, x1, y1 = fr["widgets"][widget]
        xdo("mousemove", "--window", self.wid, int((x0 + x1) / 2), int((y0 + y1) / 2))
        time.sleep(0.2)  # a frame sees the pointer over the widget before the button goes down
        xdo("click", 1)
        return fr["frame"]

    def stop(self):
        if self.out.closed:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.out.close()


def check(cond, message):
    print(("ok:   " if cond else "FAIL: ") + message, flush=True)
    if not cond:
        raise Fail(message)


def inside(fr):
    w, h = fr["display"]
    bad = []
    for name, p in fr["panels"].items():
        x, y = p["pos"]
        pw, ph = p["size"]
        if x < -0.5 or y < -0.5 or x + pw > w + 0.5 or y + ph > h + 0.5:
            bad.append(f"{name} at {x},{y} size {pw}x{ph}")
    return bad


def resize(demo, w, h):
    xdo("windowsize", demo.wid, w, h)
    return demo.wait(f"window {w}x{h}", lambda f: f["window"] == [w, h] and f["display"] == [w, h])


def right_edge(fr, name):
    p = fr["panels"][name]
    return p["pos"][0] + p["size"][0]


def case_pause_banner(demo):
    demo.wait("the Starvation lab's checkbox", lambda f: "pause_pump" in f["widgets"])
    check("starving" not in demo.last()["banners"], "no starvation banner before the click")
    demo.click("pause_pump")
    ticked = demo.wait("pause_pump ticked", lambda f: f["controls"]["pump_paused"])
    t0 = time.monotonic()
    fr = demo.wait("the starvation banner", lambda f: "starving" in f["banners"], after=ticked["frame"] - 1)
    elapsed = time.monotonic() - t0
    check(elapsed <= 1.0, f"the banner is up {elapsed:.2f} s after the tick (frame {fr['frame']}, within 1 s)")
    demo.click("pause_pump")
    unticked = demo.wait("pause_pump unticked", lambda f: not f["controls"]["pump_paused"], after=fr["frame"])
    fr = demo.wait("the banner cleared", lambda f: "starving" not in f["banners"], after=unticked["frame"] - 1)
    check(True, f"the banner is gone at frame {fr['frame']} after unticking")


def case_resize(demo):
    fr = demo.wait("the first frame", lambda f: len(f["panels"]) == 5)
    check(not inside(fr), "every panel inside 1280x720")
    fr = resize(demo, 900, 560)
    fr = demo.wait("the layout at 900x560", lambda f: f["window"] == [900, 560] and not inside(f), timeout=5,
                   after=fr["frame"])
    check(not inside(fr), "900x560: every panel inside the window")
    fr = resize(demo, 1280, 720)
    fr = demo.wait("the layout at 1280x720", lambda f: right_edge(f, "Tuning") == 1272, timeout=5, after=fr["frame"])
    check(not inside(fr), "back at 1280x720: every panel inside")
    check(right_edge(fr, "Tuning") == 1272 and right_edge(fr, "Starvation lab") == 1272,
          "back at 1280x720: the right column touches the right edge again (no gap)")


def case_grow(demo):
    fr = demo.wait("the first frame", lambda f: len(f["panels"]) == 5)
    check(not inside(fr), "800x500: every panel inside")
    fr = resize(demo, 1280, 720)  # a maximise, without a window manager
    fr = demo.wait("the layout at 1280x720", lambda f: right_edge(f, "Tuning") == 1272, timeout=5, after=fr["frame"])
    errors = fr["panels"]["Errors"]
    check(errors["pos"][1] + errors["size"][1] == 712, "grown to 1280x720: Errors sits on the bottom edge")
    check(all(p["anchored"] for p in fr["panels"].values()), "every panel still anchored")


def case_drag_reset(demo):
    fr = demo.wait("the first frame", lambda f: "Tuning" in f["panels"] and "reset_layout" in f["widgets"])
    x, y = fr["panels"]["Tuning"]["pos"]
    xdo("mousemove", "--window", demo.wid, int(x + 150), int(y + 8))  # the title bar
    time.sleep(0.2)
    xdo("mousedown", 1)
    for step in range(1, 6):
        time.sleep(0.1)
        xdo("mousemove", "--window", demo.wid, int(x + 150 - 40 * step), int(y + 8 + 30 * step))
    time.sleep(0.2)
    xdo("mouseup", 1)
    fr = demo.wait("Tuning moved by hand", lambda f: not f["panels"]["Tuning"]["anchored"])
    check(fr["panels"]["Tuning"]["pos"] != [x, y], f"Tuning moved to {fr['panels']['Tuning']['pos']}")
    fr = resize(demo, 1100, 640)
    fr = demo.wait("a frame at 1100x640", lambda f: f["display"] == [1100, 640], after=fr["frame"])
    fr = demo.wait("the next frame", lambda f: True, after=fr["frame"])
    check(not fr["panels"]["Tuning"]["anchored"] and right_edge(fr, "Starvation lab") == 1092,
          "a moved panel stays put; the others follow the window")
    demo.wait("the reset button", lambda f: "reset_layout" in f["widgets"], after=fr["frame"])
    demo.click("reset_layout")
    fr = demo.wait("Tuning anchored again", lambda f: f["panels"]["Tuning"]["anchored"] and
                   right_edge(f, "Tuning") == 1092)
    check(True, "reset layout: Tuning back on the right edge")


def case_quit(demo, keys):
    demo.wait("the first frame", lambda f: True)
    xdo("key", keys)
    try:
        rc = demo.proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Fail(f"boids_demo still running {TIMEOUT} s after {keys}")
    check(rc == 0, f"{keys}: boids_demo exited with {rc} (want 0)")


def case_tab_tap(demo):
    # --stall-ms 150: frames take > 150 ms, so each tap below (press and release a few ms apart)
    # falls inside one frame: the case ImGui 1.86's GLFW backend loses.
    fr = demo.wait("the first frame", lambda f: len(f["panels"]) == 5)
    xdo("key", "Tab")
    fr = demo.wait("panels hidden after a Tab tap", lambda f: f["panels_hidden"], after=fr["frame"])
    check(fr["panels"] == {} and "panels_hidden_hint" in fr["banners"], "Tab: no panel drawn, the hint is shown")
    xdo("key", "F1")
    fr = demo.wait("panels shown after an F1 tap", lambda f: not f["panels_hidden"], after=fr["frame"])
    check(len(fr["panels"]) == 5, "F1: the five panels are back")
    xdo("key", "Return")
    fr = demo.wait("ImGui sees the Return tap", lambda f: "Enter" in f["imgui_keys"], after=fr["frame"])
    check(True, f"a Return tap shorter than a frame reached ImGui (frame {fr['frame']})")


def case_record_save(demo):
    workdir = os.path.dirname(demo.log)
    for f in os.listdir(workdir):
        if f.startswith("boids_demo_session_"):
            os.remove(os.path.join(workdir, f))
    demo.wait("the Record checkbox", lambda f: "record" in f["widgets"])
    demo.click("record")
    fr = demo.wait("recording", lambda f: f["stats"]["recording"])
    demo.click("per_item")
    fr = demo.wait("per-item dispatch", lambda f: f["controls"]["per_item"], after=fr["frame"])
    demo.wait("a few frames more", lambda f: True, after=fr["frame"] + 3)
    demo.click("save_scenario")
    fr = demo.wait("saved", lambda f: f["stats"]["last_saved"].startswith("saved"))
    path = os.path.join(workdir, "boids_demo_session_1.py")
    check(os.path.exists(path), f"Save scenario wrote {path}: {fr['stats']['last_saved']}")
    text = open(path).read()
    check('dispatch("per_item")' in text, "the recorded file has the per-item click as an action")
    demo.stop()
    replay = subprocess.run([demo.exe, "--scenario", path, "--scenario-log", path + ".log"], cwd=workdir,
                            capture_output=True, text=True, timeout=300)
    check(replay.returncode == 0, f"the recording replays: exit {replay.returncode} {replay.stderr[-500:]}")
    log = open(path + ".log").read()
    check('"dispatch":"per_item"' in log, "the replay switches to per-item dispatch")


CASES = {
    "pause_banner": ((1280, 720), (), case_pause_banner),
    "resize": ((1280, 720), (), case_resize),
    "grow": ((800, 500), (), case_grow),
    "drag_reset": ((1280, 720), (), case_drag_reset),
    "escape": ((1280, 720), (), lambda d: case_quit(d, "Escape")),
    "ctrl_q": ((1280, 720), (), lambda d: case_quit(d, "ctrl+q")),
    "tab_tap": ((1280, 720), ("--stall-ms", "150"), case_tab_tap),
    "record_save": ((1280, 720), (), case_record_save),
}


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in CASES:
        print(f"usage: ui_test.py BOIDS_DEMO {{{','.join(CASES)}}} WORKDIR", file=sys.stderr)
        return 2
    exe, name, workdir = sys.argv[1:]
    exe = os.path.abspath(exe)
    if not os.environ.get("DISPLAY"):
        print("SKIPPED: no X display (run ctest under xvfb-run)")
        return SKIP
    if shutil.which("xdotool") is None:
        print("SKIPPED: xdotool not installed (tests/install_deps.sh)")
        return SKIP
    if subprocess.run(["xdotool", "getmouselocation"], capture_output=True).returncode != 0:
        print("SKIPPED: xdotool cannot talk to the X display")
        return SKIP
    os.makedirs(workdir, exist_ok=True)
    size, extra, fn = CASES[name]
    demo = Demo(exe, workdir, name, size, extra)
    try:
        fn(demo.start())
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        demo.stop()
    print(f"PASS: ui.{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
