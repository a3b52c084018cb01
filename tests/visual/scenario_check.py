"""scenario_check: what the starvation scenarios mean, from their logs and PNGs. Run by the
project's `bocpy` runner (scenario_meaning.cmake):

  bocpy scenario_check.py <check> <out_dir> [<out_dir_b> <name>...]

<out_dir>/<name>/ holds what `boids_demo --scenario .../<name>.py --screenshot-dir <out_dir>/<name>`
wrote: <name>.log (JSON Lines, demo/scenario/scenario.h) and <name>_f<frame>.png. Checks:

  healthy | pump_paused | recovery | throttled   that scenario's story, plus the watchdog oracle
  paused_vs_healthy      the paused golden frame differs from the healthy one far beyond the budget
  same <name>...         <out_dir>/<name> and <out_dir_b>/<name> hold identical PNGs and logs
                         (below the header)
  goldens                <out_dir> is tests/golden: the committed goldens say what they mean
  errors <boids_demo>    a bad scenario script exits 2 with "path:line: message"

The watchdog oracle: the runtime samples the watchdog at pump() entry, the scenario runner once
per frame before the snapshot (the "monitor" sample); the log records the pinned queue at both
points (pump_* and depth / age_ms / episode). An episode must be reported exactly once, at the
first observation point where its age reached the threshold, and no other episode may be
reported (with each frame's final threshold: changing watchdog_ms mid-episode is out of scope).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

failures = 0
BANNER_MIN = 2000  # the banner is ~210 x 45 px at 640x360


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    failures += 0 if ok else 1
    return ok


class Log:
    def __init__(self, path, name):
        self.name = name
        self.records = [json.loads(line) for line in open(path)]
        self.header = next(r for r in self.records if r["kind"] == "header")
        self.body = [r for r in self.records if r["kind"] != "header"]
        self.frames = [r for r in self.records if r["kind"] == "frame"]
        self.watchdog = [r for r in self.records if r["kind"] == "watchdog"]
        self.actions = [r for r in self.records if r["kind"] == "action"]
        self.ok = check(self.frames and [f["frame"] for f in self.frames] == list(range(len(self.frames))),
                        f"{name}: one log record per frame, in order")

    def action_frames(self, action, value):
        return [a["frame"] for a in self.actions if a["action"] == action and a.get("value") == value]


def read_log(out, name, label=None):
    log = Log(os.path.join(out, name, name + ".log"), label or name)
    return log if log.ok else None


def watchdog_oracle(log):
    expected = {}  # episode -> (frame, source) of the first observation at or past the threshold
    for f in log.frames:
        warn = f["warn_ms"]
        if warn is None:
            continue
        if f["pump"] == "ran" and f["pump_depth"] > 0 and f["pump_age_ms"] >= warn:
            expected.setdefault(f["pump_episode"], (f["frame"], "pump"))
        if f["depth"] > 0 and f["age_ms"] >= warn:
            expected.setdefault(f["episode"], (f["frame"], "monitor"))
    seen = {}
    unexpected = [w for w in log.watchdog if expected.get(w["episode"]) != (w["frame"], w["source"])]
    for w in log.watchdog:
        seen[w["episode"]] = seen.get(w["episode"], 0) + 1
    for w in unexpected:
        print("  unexpected report:", json.dumps(w))
    check(not unexpected, f"{log.name}: every watchdog report is the first time its episode reached the threshold")
    check(all(seen.get(e) == 1 for e in expected),
          f"{log.name}: each starving episode ({len(expected)}) reported exactly once")
    check(log.frames[-1]["watchdog_total"] == len(log.watchdog),
          f"{log.name}: the panel's report count equals the reports in the log")


def load_png(path):
    """RGBA8 or RGB8, non-interlaced (stb_image_write's PNGs): (width, height, bytes per pixel, rows)."""
    data = open(path, "rb").read()
    if not check(data[:8] == b"\x89PNG\r\n\x1a\n", f"load {path}"):
        return None
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", data[pos + 8:pos + 18])
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    bpp = {6: 4, 2: 3}[colour]
    raw, stride, rows = zlib.decompress(idat), w * bpp, []
    prev = bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png(out, name, frame):
    return load_png(os.path.join(out, name, f"{name}_f{frame:04d}.png"))


def banner_pixels(img):
    """Pixels of the starvation banner's fill (panel_style kBannerRed 0.78, 0.08, 0.08 -> 199, 20, 20):
    no boid has a channel that low, and nothing else in the UI is that red."""
    w, h, bpp, rows = img
    return sum(1 for row in rows for x in range(0, w * bpp, bpp)
               if abs(row[x] - 199) <= 2 and abs(row[x + 1] - 20) <= 2 and abs(row[x + 2] - 20) <= 2)


def pixels_over(a, b, tol):
    """Pixels where any channel differs by more than tol (None: the sizes differ)."""
    if a[:3] != b[:3]:
        return None
    bpp, n = a[2], 0
    for ra, rb in zip(a[3], b[3]):
        if ra != rb:
            n += sum(1 for x in range(0, len(ra), bpp) if any(abs(ra[x + k] - rb[x + k]) > tol for k in range(bpp)))
    return n


def healthy(out):
    log = read_log(out, "healthy")
    if not log:
        return
    watchdog_oracle(log)
    f = log.frames
    check(all(r["pump"] == "ran" and r["executed"] == 1 for r in f),
          "healthy: pump() ran every frame and executed the one write-back")
    check(all(r["drained_depth"] == 0 for r in f), "healthy: the pinned queue is empty after every pump()")
    check(all(r["depth"] <= 1 and r["age_ms"] == 0 and not r["banner"] for r in f),
          "healthy: at every snapshot at most the next write-back waits (age 0 ms), no banner")
    check(all(r["frame"] == 0 or r["behaviors"] > 1 for r in f),
          "healthy: tile behaviors ran every frame (the flock is stepped)")
    check(not log.watchdog, "healthy: no watchdog report")
    img = png(out, "healthy", 120)
    if img:
        check(banner_pixels(img) == 0, "healthy: no banner in the golden frame")


def pump_paused(out):
    log = read_log(out, "pump_paused")
    if not log:
        return
    watchdog_oracle(log)
    at = log.action_frames("pause_pump", True)
    if not check(len(at) == 1, "pump_paused: the pump is paused once"):
        return
    p = at[0]
    after = log.frames[p:]
    check(all(r["pump"] == "skipped" for r in after), f"pump_paused: pump() is not called from frame {p}")
    check(all(r["behaviors"] == 0 and r["pending"] for r in after),
          "pump_paused: no behavior runs and the step stays in flight (the flock is frozen)")
    check(all(r["depth"] == 1 and r["episode"] == log.frames[p]["episode"] for r in after),
          "pump_paused: the one write-back stays queued: depth 1, one episode")
    check(all(r["age_ms"] > log.frames[r["frame"] - 1]["age_ms"] for r in after[1:]),
          "pump_paused: the queue's age grows every frame")
    w = log.watchdog
    check(len(w) == 1 and w[0]["depth"] == 1 and w[0]["age_ms"] >= log.frames[p]["warn_ms"],
          "pump_paused: one watchdog report, depth 1, at the threshold")
    banner_from = next((r["frame"] for r in after if r["banner"]), None)
    check(len(w) == 1 and banner_from == w[0]["frame"] and all(r["banner"] for r in log.frames[banner_from:]),
          "pump_paused: the banner appears in the frame of the report and stays")
    last = log.frames[-1]
    check(last["banner"] and last["age_ms"] >= 1000,
          f"pump_paused: the golden frame is starving for >= 1 s (age {last['age_ms']} ms)")
    img = png(out, "pump_paused", last["frame"])
    if img:
        n = banner_pixels(img)
        check(n >= BANNER_MIN, f"pump_paused: the banner is drawn ({n} px)")


def far_apart(healthy_img, paused_img, what):
    n = pixels_over(healthy_img, paused_img, 2)  # the visual tests' tol; their budget is 0
    need = healthy_img[0] * healthy_img[1] // 200  # 0.5 %: a frozen flock, 60 frames behind, and the banner
    check(n is not None and n >= need, f"{what}: pump_paused differs from healthy by {n} px over tol 2, "
                                       f"far beyond the budget 0 (need >= {need})")


def paused_vs_healthy(out):
    a, b = png(out, "healthy", 120), png(out, "pump_paused", 120)
    if a and b:
        far_apart(a, b, "paused_vs_healthy")
        ha, pb = banner_pixels(a), banner_pixels(b)
        check(ha == 0 and pb >= BANNER_MIN, f"paused_vs_healthy: banner pixels {ha} (healthy) vs {pb} (paused)")


def recovery(out):
    log = read_log(out, "recovery")
    if not log:
        return
    watchdog_oracle(log)
    pauses, resumes = log.action_frames("pause_pump", True), log.action_frames("pause_pump", False)
    if not check(pauses and len(pauses) == len(resumes), "recovery: every pause is resumed"):
        return
    starving = 0
    for k, (p, r) in enumerate(zip(pauses, resumes)):
        span = f"pause {p}-{r - 1}"
        first = log.frames[r]
        check(first["pump"] == "ran" and first["executed"] >= 1 and first["drained_depth"] == 0,
              f"recovery: {span}: the first pump() after it runs the queued write-back and empties the queue")
        until = pauses[k + 1] if k + 1 < len(pauses) else len(log.frames)
        check(all(not f["banner"] and f["age_ms"] == 0 and f["drained_depth"] == 0 and f["pump"] == "ran"
                  for f in log.frames[r:until]),
              f"recovery: {span}: from the resume on, no banner and the queue drains every frame")
        max_age, warn = log.frames[r - 1]["age_ms"], log.frames[r - 1]["warn_ms"]
        reports = sum(1 for w in log.watchdog if p <= w["frame"] < r)
        want = 1 if max_age >= warn else 0
        starving += want
        check(reports == want, f"recovery: {span} (age up to {max_age:.0f} ms): {reports} report(s), expected {want}")
    check(len(log.watchdog) == starving, "recovery: no report outside the starving episodes")
    last = log.frames[-1]
    check(not last["banner"] and last["drained_depth"] == 0,
          "recovery: the golden frame has no banner and the queue drained")
    check(last["watchdog_total"] == starving >= 1, f"recovery: the watchdog log still holds the {starving} warning(s)")
    during, after = png(out, "recovery", 60), png(out, "recovery", last["frame"])
    if during and after:
        d, a = banner_pixels(during), banner_pixels(after)
        check(d >= BANNER_MIN and a == 0,
              f"recovery: banner pixels {d} during the first episode, {a} after recovery")


def throttled(out):
    log = read_log(out, "throttled")
    if not log:
        return
    watchdog_oracle(log)
    at = [a["frame"] for a in log.actions if a["action"] == "set_knob" and a["knob"] == "max_behaviors"
          and a["value"] == 1]
    if not check(len(at) == 1 and log.action_frames("dispatch", "per_item") == at,
                 "throttled: per-item dispatch and max_behaviors 1 from one frame on"):
        return
    t, boids, f = at[0], log.header["boids"], log.frames
    # From frame t on, every step() queues one pinned upload per boid (each on a fresh pinned
    # cown, so all are runnable) and every pump() runs exactly one: the depth grows by boids - 1.
    before, first, last = f[t - 1]["depth"], f[t]["depth"], f[-1]
    check(before <= 1 and first >= before + boids - 1,
          f"throttled: frame {t} queues one pinned upload per boid (depth {before} -> {first})")
    check(all(r["pump"] == "ran" and r["executed"] == 1 for r in f[t:]),
          "throttled: each pump() runs exactly one pinned behavior")
    check(all(r["depth"] == f[r["frame"] - 1]["depth"] + boids - 1 for r in f[t + 1:]),
          f"throttled: the depth climbs by boids - 1 every frame ({last['depth']} at the golden frame)")
    check(all(r["depth"] > 0 and (r["frame"] == t or r["drained_depth"] > 0) for r in f[t:]),
          "throttled: the pinned queue is never empty again, not even right after pump()")
    check(all(r["age_ms"] > f[r["frame"] - 1]["age_ms"] for r in f[t + 1:]) and last["age_ms"] >= 1000,
          f"throttled: the queue's age climbs every frame ({last['age_ms']} ms at the golden frame)")
    check(all(r["pending"] for r in f[t + 1:]), "throttled: no new step while the per-item write-back is in flight")
    check(len(log.watchdog) == 1 and log.watchdog[0]["source"] == "pump" and last["banner"],
          "throttled: one watchdog report (at pump() entry) and the banner stays")
    img = png(out, "throttled", last["frame"])
    if img:
        check(banner_pixels(img) >= BANNER_MIN, "throttled: the banner is drawn")


def same(a, b, name):
    la, lb = read_log(a, name, name + " (A)"), read_log(b, name, name + " (B)")
    if not la or not lb:
        return
    workers = f"{la.header['workers']} | {lb.header['workers']} workers"
    if not check(la.body == lb.body, f"{name}: logs identical below the header ({workers})"):
        diff = next((x, y) for x, y in zip(la.body + [None], lb.body + [None]) if x != y)
        print(f"  first difference:\n  A: {json.dumps(diff[0])}\n  B: {json.dumps(diff[1])}")
    for s in (r for r in la.records if r["kind"] == "screenshot"):
        ia, ib = load_png(os.path.join(a, name, s["file"])), load_png(os.path.join(b, name, s["file"]))
        if ia and ib:
            check(pixels_over(ia, ib, 0) == 0, f"{name}: {s['file']} pixel-identical")


def goldens(golden_dir):
    img = {n: load_png(os.path.join(golden_dir, f"scenario_{n}.png"))
           for n in ("healthy", "pump_paused", "recovery", "throttled")}
    if not all(img.values()):
        return
    far_apart(img["healthy"], img["pump_paused"], "goldens")
    for name, want in (("healthy", False), ("pump_paused", True), ("recovery", False), ("throttled", True)):
        n = banner_pixels(img[name])
        check(n >= BANNER_MIN if want else n == 0,
              f"goldens: {name} {'shows' if want else 'does not show'} the banner ({n} banner px)")


# A bad script -> (the message, the line it names); line 2 is below the import.
BAD_SCRIPTS = {
    "setup(boids=0)": ("boids: expected an integer in [1, 1000000], got 0", 2),
    "setup(bodis=3)": ("setup() got an unexpected keyword argument 'bodis'", 2),
    "setup(size=640)": ("size: expected (width, height), each in [64, 8192], got 640", 2),
    "setup(dispatch='fine')": ("dispatch: expected 'coarse' or 'per_item', got 'fine'", 2),
    "setup()\npause_pump(True)": ("pause_pump() can only be called inside on_frame(frame)", 3),
    "setup()\ndef on_frame(f):\n    pause_pump(1)": ("pause_pump: expected True or False, got 1", 4),
    "setup()\ndef on_frame(f):\n    set_knob('speed', 1)": ("unknown knob 'speed' (known: deadline_ms,", 4),
    "setup()\ndef on_frame(f):\n    set_knob('max_behaviors', 0)": ("max_behaviors: expected an integer in [1, 2147483647], got 0", 4),
    "setup()\ndef on_frame(f):\n    set_knob('deadline_ms', 0)": ("deadline_ms: expected a positive number or None", 4),
    "setup()\ndef on_frame(f):\n    1 / f": ("ZeroDivisionError: division by zero", 4),
    "frames = 3": ("the scenario never calls boids_scenario.setup(...)", 0),
}


def errors(demo):
    with tempfile.TemporaryDirectory() as tmp:
        for body, (message, line) in BAD_SCRIPTS.items():
            path = os.path.join(tmp, "bad.py")
            open(path, "w").write("from boids_scenario import *\n" + body + "\n")
            r = subprocess.run([demo, "--scenario", path, "--frames", "2"], capture_output=True, text=True)
            where = f"{os.path.abspath(path)}:{line}: " if line else os.path.abspath(path) + ": "
            last = (r.stderr.strip().splitlines() or [""])[-1]
            if r.returncode != 77:  # 77: no display for the frames (setup errors come before the window)
                check(r.returncode == 2 and last.startswith("boids_demo: --scenario: " + where) and message in last,
                      f"errors: {body!r} exits 2 with {where}...{message} (exit {r.returncode}: {last})")


def main(argv):
    checks = {"healthy": healthy, "pump_paused": pump_paused, "recovery": recovery, "throttled": throttled,
              "paused_vs_healthy": paused_vs_healthy, "goldens": goldens, "errors": errors}
    if len(argv) >= 5 and argv[1] == "same":
        for name in argv[4:]:
            same(argv[2], argv[3], name)
    elif len(argv) == 3 and argv[1] in checks:
        checks[argv[1]](argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(f"{argv[1]}: {failures} failure(s)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
