"""Where a boids2000 frame's wall time goes (bocpy's examples/boids.py
`Simulation`, imported unmodified; run like boids_sim_driver.py). Per frame:
  step   = Simulation.step() on main (spatial hashing, build_cell_data, the
           per-cell @when scheduling; workers start running meanwhile),
  wait   = pump loop until the write-back ran, minus
  wb     = the pump() call that ran the write-back (pinned, on main).
Prints medians over frames (milliseconds) and the median frame time, one JSON
line. Median frame time is less sensitive to a busy VM than total time."""

import argparse
import json
import statistics
import time

from bocpy import pump, start, wait


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--boids", type=int, default=2000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    args = p.parse_args()

    import boids

    start(worker_count=args.workers)
    sim = boids.Simulation(args.boids, 1200, 800)
    rows = []
    for f in range(args.warmup + args.frames):
        t0 = time.perf_counter()
        sim.step(1200, 800)
        t1 = time.perf_counter()
        wb = 0.0
        while True:
            a = time.perf_counter()
            n = pump().executed
            if n:
                wb = time.perf_counter() - a
                break
        t2 = time.perf_counter()
        if f >= args.warmup:
            rows.append((t1 - t0, t2 - t1 - wb, wb, t2 - t0))
    wait()
    med = [statistics.median(r[i] for r in rows) * 1e3 for i in range(4)]
    print(json.dumps({"step_ms": round(med[0], 2), "wait_ms": round(med[1], 2), "wb_ms": round(med[2], 2),
                      "frame_ms": round(med[3], 2), "min_frame_ms": round(min(r[3] for r in rows) * 1e3, 2)}))


if __name__ == "__main__":
    main()
