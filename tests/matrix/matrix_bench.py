"""Micro-benchmark: the Matrix operations of a flock cell vs the same code as
plain Python loops over lists.

Run by ``matrix_bench`` (tests/matrix/matrix_bench.cpp), which embeds CPython
with ``bocpy._math`` registered. Prints, per problem size and operation, the
median time per call of each version and the ratio python / matrix (how many
times faster the Matrix version is). ``--quick`` runs fewer, shorter samples.

A cell with n own boids and m neighbour boids (own cell + 8 neighbours) needs:
pairwise differences and squared distances (n x m), masks (d2 < r^2), where,
per-row norms, mean over an axis, row normalisation and clamping.
"""

import math
import statistics
import sys
import time

from bocpy._math import Matrix

QUICK = "--quick" in sys.argv
RUNS = 5 if QUICK else 9
MIN_RUN_S = 0.01 if QUICK else 0.03
SIZES = [(8, 72), (32, 288), (128, 1152)]
VISUAL2 = 40.0 ** 2
PROTECTED2 = 8.0 ** 2


def median_seconds(fn):
    """Median seconds per call of fn over RUNS runs of a calibrated loop."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_RUN_S or number >= 1 << 20:
            break
        number *= 2
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


# ---- plain Python versions (lists of [x, y] rows) --------------------------

def py_pairwise_diff(a, b):
    return ([[ax - bx for bx, _ in b] for ax, _ in a],
            [[ay - by for _, by in b] for _, ay in a])


def py_pairwise_dist2(a, b):
    out = []
    for ax, ay in a:
        row = []
        for bx, by in b:
            dx = ax - bx
            dy = ay - by
            row.append(dx * dx + dy * dy)
        out.append(row)
    return out


def py_mask_less(d2, limit):
    return [[1.0 if v < limit else 0.0 for v in row] for row in d2]


def py_where(mask, a, b):
    return [[x if m else b for m, x in zip(mr, ar)] for mr, ar in zip(mask, a)]


def py_row_norms(v):
    return [math.sqrt(x * x + y * y) for x, y in v]


def py_mean0(p):
    n = len(p)
    sx = sy = 0.0
    for x, y in p:
        sx += x
        sy += y
    return [sx / n, sy / n]


def py_normalize_rows(v):
    out = []
    for x, y in v:
        s = math.sqrt(x * x + y * y)
        out.append([x / s, y / s] if s else [x, y])
    return out


def py_clamp(v, lo, hi):
    return [[min(max(x, lo), hi) for x in row] for row in v]


def py_cell_step(pos, vel, npos, nvel):
    """Separation, alignment, cohesion and a speed clamp for every own boid."""
    out = []
    for i, (px, py) in enumerate(pos):
        vx, vy = vel[i]
        sx = sy = ax = ay = cx = cy = 0.0
        n = 0
        for j, (qx, qy) in enumerate(npos):
            dx = px - qx
            dy = py - qy
            d2 = dx * dx + dy * dy
            if 0.0 < d2 < PROTECTED2:
                sx += dx
                sy += dy
            if 0.0 < d2 < VISUAL2:
                ax += nvel[j][0]
                ay += nvel[j][1]
                cx += qx
                cy += qy
                n += 1
        if n:
            ax, ay = ax / n - vx, ay / n - vy
            cx, cy = cx / n - px, cy / n - py
        nx = vx + sx * 0.05 + ax * 0.05 + cx * 0.0005
        ny = vy + sy * 0.05 + ay * 0.05 + cy * 0.0005
        s = math.sqrt(nx * nx + ny * ny)
        if s:
            k = min(max(s, 0.5), 3.0) / s
            nx, ny = nx * k, ny * k
        out.append([nx, ny])
    return out


def mx_cell_step(pos, vel, npos, nvel):
    """The same step, vectorised with Matrix: no per-pair Python loop."""
    dx, dy = pos.pairwise_diff(npos)
    d2 = pos.pairwise_dist2(npos)
    apart = d2.greater(0.0)
    visible = d2.less(VISUAL2).multiply(apart, out=None)
    close = d2.less(PROTECTED2).multiply(apart)
    sep = Matrix.concat([(dx * close).sum(1), (dy * close).sum(1)], axis=1)
    count = visible.sum(1)
    has = count.greater(0.0)
    safe = Matrix.where(has, count, 1.0)
    align = Matrix.where(has, (visible @ nvel) / safe - vel, 0.0)
    cohere = Matrix.where(has, (visible @ npos) / safe - pos, 0.0)
    new_vel = vel + sep * 0.05 + align * 0.05 + cohere * 0.0005
    speed = new_vel.magnitude(1)
    return new_vel * (speed.clip(0.5, 3.0) / Matrix.where(speed.greater(0.0), speed, 1.0))


def main():
    print(f"Matrix vs plain Python, median of {RUNS} runs per entry "
          f"(ratio = python time / matrix time)")
    print(f"{'n x m':>11}  {'operation':<22}{'python us':>12}{'matrix us':>12}{'ratio':>9}")
    ratios = {}
    for n, m in SIZES:
        Matrix.seed(n * 1000 + m)
        # A cell of side 150 (3 x 50 px grid cells) keeps neighbours in range.
        pos = Matrix.uniform(0, 150, (n, 2))
        vel = Matrix.uniform(-2, 2, (n, 2))
        npos = Matrix.concat([pos, Matrix.uniform(0, 150, (m - n, 2))])
        nvel = Matrix.concat([vel, Matrix.uniform(-2, 2, (m - n, 2))])
        d2 = pos.pairwise_dist2(npos)
        mask = d2.less(VISUAL2)
        P, V, NP, NV = pos.tolist(), vel.tolist(), npos.tolist(), nvel.tolist()
        D2, MASK = d2.tolist(), mask.tolist()

        # The vectorised step computes what the loop computes.
        ref = py_cell_step(P, V, NP, NV)
        got = mx_cell_step(pos, vel, npos, nvel).tolist()
        worst = max(abs(a - b) for ra, rb in zip(ref, got) for a, b in zip(ra, rb))
        assert worst < 1e-9, worst

        cases = [
            ("pairwise_diff", lambda: py_pairwise_diff(P, NP), lambda: pos.pairwise_diff(npos)),
            ("pairwise_dist2", lambda: py_pairwise_dist2(P, NP), lambda: pos.pairwise_dist2(npos)),
            ("mask d2 < r^2", lambda: py_mask_less(D2, VISUAL2), lambda: d2.less(VISUAL2)),
            ("where(mask, d2, 0)", lambda: py_where(MASK, D2, 0.0), lambda: Matrix.where(mask, d2, 0.0)),
            ("row norms", lambda: py_row_norms(V), lambda: vel.magnitude(1)),
            ("mean(axis=0)", lambda: py_mean0(NP), lambda: npos.mean(0)),
            ("normalize(axis=1)", lambda: py_normalize_rows(V), lambda: vel.normalize(1)),
            ("clamp(-1, 1)", lambda: py_clamp(V, -1.0, 1.0), lambda: vel.clip(-1.0, 1.0)),
            ("full cell step", lambda: py_cell_step(P, V, NP, NV),
             lambda: mx_cell_step(pos, vel, npos, nvel)),
        ]
        for name, py_fn, mx_fn in cases:
            t_py = median_seconds(py_fn)
            t_mx = median_seconds(mx_fn)
            ratio = t_py / t_mx
            ratios.setdefault(name, []).append(ratio)
            print(f"{f'{n} x {m}':>11}  {name:<22}{t_py * 1e6:12.2f}{t_mx * 1e6:12.2f}{ratio:8.1f}x")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
