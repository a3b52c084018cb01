"""What the starvation scenarios mean, from their logs and PNGs; run by `bocpy` (scenario_meaning.cmake):
healthy|pump_paused|recovery|throttled|default_layout|paused_vs_healthy <out>; same <out_a> <out_b> <name>...;
goldens <tests/golden>. <out>/<name>/ holds what `boids_demo --scenario <name>.py --screenshot-dir
<out>/<name>` wrote; default_layout also reads <out>/ui_log.jsonl and <out>/state.f64 (its --ui-log and
--dump-state). The watchdog oracle: an episode is reported exactly once, at the first observation
point (pump() entry: pump_*; the monitor sample: depth, age_ms, episode) where its age reached the
threshold, and no other episode is reported."""
import json
import os
import struct
import sys
import zlib

failures = 0
BANNER_MIN = 2000  # the banner is ~210 x 45 px at 640x360
VISIBLE_MIN = 0.60  # default_layout: the share of the flock outside every panel at 1280x720


def check(ok, what):
    global failures
    failures += not ok
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    return ok


class Log:
    def __init__(self, out, name, label=None):
        self.name = label or name
        self.header, *self.body = [json.loads(line) for line in open(os.path.join(out, name, name + ".log"))]
        self.frames, self.watchdog, self.actions = ([r for r in self.body if r["kind"] == k]
                                                    for k in ("frame", "watchdog", "action"))
        self.ok = check([f["frame"] for f in self.frames] == list(range(len(self.frames))) and self.frames,
                        f"{self.name}: one log record per frame, in order")
        if self.ok and label is None:
            self.oracle()

    def at(self, action, value, knob=None):
        return [a["frame"] for a in self.actions if (a["action"], a.get("value"), a.get("knob")) == (action, value, knob)]

    def oracle(self):
        expected = {}  # episode -> (frame, source) of the first observation at or past the threshold
        for f in (f for f in self.frames if f["warn_ms"] is not None):
            if f["pump"] == "ran" and f["pump_depth"] and f["pump_age_ms"] >= f["warn_ms"]:
                expected.setdefault(f["pump_episode"], (f["frame"], "pump"))
            if f["depth"] and f["age_ms"] >= f["warn_ms"]:
                expected.setdefault(f["episode"], (f["frame"], "monitor"))
        wrong = [w for w in self.watchdog if expected.get(w["episode"]) != (w["frame"], w["source"])]
        print("".join(f"  unexpected report: {json.dumps(w)}\n" for w in wrong), end="")
        check(not wrong, f"{self.name}: every watchdog report is the first time its episode reached the threshold")
        check(sorted(w["episode"] for w in self.watchdog) == sorted(expected),
              f"{self.name}: each starving episode ({len(expected)}) reported exactly once")
        check(self.frames[-1]["watchdog_total"] == len(self.watchdog),
              f"{self.name}: the panel's report count equals the reports in the log")


def load_png(path):
    """stb_image_write's RGB(A)8 PNGs -> (width, height, bytes per pixel, rows)."""
    data, pos, idat = open(path, "rb").read(), 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        w, h, _, colour = struct.unpack(">IIBB", data[pos + 8:pos + 18]) if kind == b"IHDR" else (w, h, _, colour)
        idat += data[pos + 8:pos + 8 + n] if kind == b"IDAT" else b""
        pos += 12 + n
    bpp = {6: 4, 2: 3}[colour]
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            line[i] = (line[i] + (0, a, b, (a + b) // 2, a if abs(p - a) <= min(abs(p - b), abs(p - c))
                                  else b if abs(p - b) <= abs(p - c) else c)[f]) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png(out, name, frame):
    return load_png(os.path.join(out, name, f"{name}_f{frame:04d}.png"))


def banner_pixels(img):
    """The banner's fill (panel_style kBannerRed -> 199, 20, 20): no boid and nothing else is that red."""
    return sum(abs(r[x] - 199) <= 2 and abs(r[x + 1] - 20) <= 2 and abs(r[x + 2] - 20) <= 2
               for r in img[3] for x in range(0, img[0] * img[2], img[2]))


def pixels_over(a, b, tol):
    """Pixels where a channel differs by more than tol (None: the sizes differ)."""
    return None if a[:3] != b[:3] else sum(any(abs(ra[x + k] - rb[x + k]) > tol for k in range(a[2]))
                                           for ra, rb in zip(a[3], b[3]) if ra != rb for x in range(0, len(ra), a[2]))


def healthy(out):
    log = Log(out, "healthy")
    f = log.frames
    check(all(r["pump"] == "ran" and r["executed"] == 1 for r in f), "healthy: pump() ran every frame: one write-back")
    check(all(r["drained_depth"] == 0 for r in f), "healthy: the pinned queue is empty after every pump()")
    check(all(r["depth"] <= 1 and r["age_ms"] == 0 and not r["banner"] for r in f),
          "healthy: at every snapshot at most the next write-back waits (age 0 ms), no banner")
    check(all(r["behaviors"] > 1 for r in f[1:]), "healthy: tile behaviors ran every frame (the flock is stepped)")
    check(not log.watchdog, "healthy: no watchdog report")
    check(banner_pixels(png(out, "healthy", 120)) == 0, "healthy: no banner in the golden frame")


def pump_paused(out):
    log = Log(out, "pump_paused")
    at, w, last = log.at("pause_pump", True), log.watchdog, log.frames[-1]
    if not check(len(at) == 1, "pump_paused: the pump is paused once"):
        return
    after = log.frames[at[0]:]
    check(all(r["pump"] == "skipped" for r in after), f"pump_paused: pump() is not called from frame {at[0]}")
    check(all(r["behaviors"] == 0 and r["pending"] for r in after),
          "pump_paused: no behavior runs and the step stays in flight (the flock is frozen)")
    check(all(r["depth"] == 1 and r["episode"] == after[0]["episode"] for r in after),
          "pump_paused: the one write-back stays queued: depth 1, one episode")
    check(all(b["age_ms"] > a["age_ms"] for a, b in zip(after, after[1:])), "pump_paused: the queue's age grows")
    check(len(w) == 1 and w[0]["depth"] == 1 and w[0]["age_ms"] >= after[0]["warn_ms"],
          "pump_paused: one watchdog report, depth 1, at the threshold")
    check(len(w) == 1 and [r["frame"] for r in after if r["banner"]] == list(range(w[0]["frame"], last["frame"] + 1)),
          "pump_paused: the banner appears in the frame of the report and stays")
    check(last["banner"] and last["age_ms"] >= 1000,
          f"pump_paused: the golden frame is starving for >= 1 s (age {last['age_ms']} ms)")
    n = banner_pixels(png(out, "pump_paused", last["frame"]))
    check(n >= BANNER_MIN, f"pump_paused: the banner is drawn ({n} px)")


def far_apart(healthy_img, paused_img, what):
    n, need = pixels_over(healthy_img, paused_img, 2), healthy_img[0] * healthy_img[1] // 200  # 0.5 %
    check(n is not None and n >= need, f"{what}: pump_paused differs from healthy by {n} px over tol 2 (the visual "
                                       f"tests' tol), far beyond their budget 0 (need >= {need})")
    hb, pb = banner_pixels(healthy_img), banner_pixels(paused_img)
    check(hb == 0 and pb >= BANNER_MIN, f"{what}: banner pixels {hb} (healthy) vs {pb} (paused)")


def paused_vs_healthy(out):
    far_apart(png(out, "healthy", 120), png(out, "pump_paused", 120), "paused_vs_healthy")


def recovery(out):
    log = Log(out, "recovery")
    pauses, resumes, f = log.at("pause_pump", True), log.at("pause_pump", False), log.frames
    if not check(pauses and len(pauses) == len(resumes), "recovery: every pause is resumed"):
        return
    starving = 0
    for p, r, until in zip(pauses, resumes, pauses[1:] + [len(f)]):
        span = f"pause {p}-{r - 1}"
        check(f[r]["pump"] == "ran" and f[r]["executed"] >= 1 and f[r]["drained_depth"] == 0,
              f"recovery: {span}: the first pump() after it runs the queued write-back and empties the queue")
        check(all(not x["banner"] and x["age_ms"] == 0 and x["drained_depth"] == 0 and x["pump"] == "ran"
                  for x in f[r:until]), f"recovery: {span}: from the resume on, no banner and the queue drains")
        want, reports = int(f[r - 1]["age_ms"] >= f[r - 1]["warn_ms"]), sum(p <= w["frame"] < r for w in log.watchdog)
        starving += want
        check(reports == want, f"recovery: {span} (age up to {f[r - 1]['age_ms']:.0f} ms): {reports} report(s), "
                               f"expected {want}")
    check(len(log.watchdog) == starving, "recovery: no report outside the starving episodes")
    check(not f[-1]["banner"] and f[-1]["drained_depth"] == 0, "recovery: the golden frame: no banner, queue drained")
    check(f[-1]["watchdog_total"] == starving >= 1, f"recovery: the watchdog log still holds the {starving} warnings")
    d, a = (banner_pixels(png(out, "recovery", n)) for n in (60, f[-1]["frame"]))
    check(d >= BANNER_MIN and a == 0, f"recovery: banner pixels {d} during the first episode, {a} after recovery")


def throttled(out):
    log = Log(out, "throttled")
    at, boids, f = log.at("set_knob", 1, "max_behaviors"), log.header["boids"], log.frames
    if not check(len(at) == 1 and log.at("dispatch", "per_item") == at,
                 "throttled: per-item dispatch and max_behaviors 1 from one frame on"):
        return
    # From frame t on, every step() queues one pinned upload per boid (each on a fresh pinned cown,
    # so all are runnable) and every pump() runs exactly one: the depth grows by boids - 1.
    t, last, later = at[0], f[-1], list(zip(f[at[0]:], f[at[0] + 1:]))
    check(f[t - 1]["depth"] <= 1 and f[t]["depth"] >= f[t - 1]["depth"] + boids - 1,
          f"throttled: frame {t} queues one pinned upload per boid (depth {f[t - 1]['depth']} -> {f[t]['depth']})")
    check(all(r["pump"] == "ran" and r["executed"] == 1 for r in f[t:]), "throttled: each pump() runs one behavior")
    check(all(b["depth"] == a["depth"] + boids - 1 for a, b in later),
          f"throttled: the depth climbs by boids - 1 every frame ({last['depth']} at the golden frame)")
    check(all(r["depth"] > 0 for r in f[t:]) and all(r["drained_depth"] > 0 for r in f[t + 1:]),
          "throttled: the pinned queue is never empty again, not even right after pump()")
    check(all(b["age_ms"] > a["age_ms"] for a, b in later) and last["age_ms"] >= 1000,
          f"throttled: the queue's age climbs every frame ({last['age_ms']} ms at the golden frame)")
    check(all(b["pending"] for a, b in later), "throttled: no new step while the per-item write-back is in flight")
    check(len(log.watchdog) == 1 and log.watchdog[0]["source"] == "pump" and last["banner"],
          "throttled: one watchdog report (at pump() entry) and the banner stays")
    check(banner_pixels(png(out, "throttled", last["frame"])) >= BANNER_MIN, "throttled: the banner is drawn")


def default_layout(out):
    """Most of the default flock is outside every panel of the default layout at 1280x720: the panels'
    rectangles from --ui-log, the boids from --dump-state, mapped world -> screen as boid.vert does."""
    log = Log(out, "default_layout")
    head, shots = log.header, [r["frame"] for r in log.body if r["kind"] == "screenshot"]
    n = head["boids"]
    check(n == 2000 and head["size"] == [1280, 720],
          f"default_layout: the --boids default, 2000 boids, at 1280x720 ({n} at {head['size']})")
    if not check(len(shots) == 1 and not log.frames[shots[0]]["banner"], "default_layout: one screenshot, no banner"):
        return
    ui = [u for u in map(json.loads, open(os.path.join(out, "ui_log.jsonl"))) if u["frame"] == shots[0]]
    if not check(len(ui) == 1, f"default_layout: the UI log has frame {shots[0]}"):
        return
    (w, h), panels = map(int, ui[0]["display"]), ui[0]["panels"]
    opened = sorted(name for name, p in panels.items() if not p["collapsed"])
    check(not ui[0]["panels_hidden"] and not ui[0]["banners"] and opened == ["Pump", "Starvation lab", "Tuning"]
          and sorted(panels) == ["Errors", "Pump", "Runtime", "Starvation lab", "Tuning"],
          f"default_layout: the default panels: {', '.join(opened)} open, Runtime and Errors collapsed")
    rects = [[int(v) for v in (*p["pos"], p["pos"][0] + p["size"][0], p["pos"][1] + p["size"][1])]
             for p in panels.values()]
    check(all(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h for x0, y0, x1, y1 in rects),
          "default_layout: every panel inside the window")
    covered = bytearray(w * h)  # 1: under a panel
    for x0, y0, x1, y1 in rects:
        for y in range(y0, y1):
            covered[y * w + x0:y * w + x1] = b"\1" * (x1 - x0)
    print(f"  panels cover {sum(covered) / len(covered):.1%} of the {w}x{h} window")

    raw = open(os.path.join(out, "state.f64"), "rb").read()  # x, y, vx, vy per boid, float64
    state = struct.unpack(f"<{len(raw) // 8}d", raw)
    if not check(len(state) == 4 * n, f"default_layout: --dump-state holds {n} boids"):
        return
    # The dump is one step past the screenshot (a frame's pump() uploads the previous frame's step; the
    # last step is drained at exit), and a step moves pos += vel * dt. The world is 720 units tall and
    # as wide as the window's aspect (controls_from_cli), y up; the window's y goes down.
    dt, world_w, world_h = head["frame_ms"] / 1000.0, 720.0 * w / h, 720.0
    img, visible, shown = png(out, "default_layout", shots[0]), 0, 0
    for i in range(0, len(state), 4):
        x = (state[i] - state[i + 2] * dt) * w / world_w
        y = h - (state[i + 1] - state[i + 3] * dt) * h / world_h
        if 0 <= x < w and 0 <= y < h and not covered[int(y) * w + int(x)]:
            visible += 1
            # boid.vert colours a boid hsv(heading, 0.75, 0.95): a channel >= 150; the background's <= 22.
            shown += max(img[3][int(y)][int(x) * img[2]:int(x) * img[2] + 3]) >= 150
    check(shown >= 0.99 * visible, f"default_layout: the PNG has a boid at {shown} of the {visible} positions outside "
                                   f"the panels (>= 99 %: the world -> screen mapping is the renderer's)")
    check(visible >= VISIBLE_MIN * n, f"default_layout: {visible} of {n} boids ({visible / n:.1%}) are outside every "
                                      f"panel (need >= {VISIBLE_MIN:.0%})")


def same(a, b, name):
    la, lb = Log(a, name, name + " (A)"), Log(b, name, name + " (B)")
    workers = f"{la.header['workers']} | {lb.header['workers']} workers"
    if not check(la.body == lb.body, f"{name}: logs identical below the header ({workers})"):
        print("  first difference:\n  A: %s\n  B: %s" % next(d for d in zip(la.body + [0], lb.body + [0]) if d[0] != d[1]))
    for s in (r for r in la.body if r["kind"] == "screenshot"):
        diff = pixels_over(load_png(os.path.join(a, name, s["file"])), load_png(os.path.join(b, name, s["file"])), 0)
        check(diff == 0, f"{name}: {s['file']} pixel-identical ({diff} px differ)")


def goldens(golden):
    img = {n: load_png(os.path.join(golden, f"scenario_{n}.png")) for n in ("healthy", "pump_paused", "recovery", "throttled")}
    far_apart(img["healthy"], img["pump_paused"], "goldens")
    for name, want in (("recovery", False), ("throttled", True)):
        n = banner_pixels(img[name])
        check(n >= BANNER_MIN if want else n == 0, f"goldens: {name} {'shows' if want else 'has no'} banner ({n} px)")


if __name__ == "__main__":
    checks = {f.__name__: f for f in (healthy, pump_paused, recovery, throttled, default_layout, paused_vs_healthy,
                                      goldens)}
    if len(sys.argv) >= 5 and sys.argv[1] == "same":
        for name in sys.argv[4:]:
            same(sys.argv[2], sys.argv[3], name)
    elif len(sys.argv) == 3 and sys.argv[1] in checks:
        checks[sys.argv[1]](sys.argv[2])
    else:
        sys.exit(__doc__)
    print(f"{sys.argv[1]}: {failures} failure(s)")
    sys.exit(1 if failures else 0)
