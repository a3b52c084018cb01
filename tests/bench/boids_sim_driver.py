"""Headless driver for bocpy's examples/boids.py `Simulation` (the example
itself is imported unmodified): `PYTHONPATH=<bocpy>:<examples dir> python
boids_sim_driver.py [--boids N] [--workers W] [--frames F]`. The examples
folder must be on PYTHONPATH, not only on this script's sys.path: the
worker interpreters import `boids` too (its classes cross). Each frame runs Simulation.step()
(spatial hashing on main, one behavior per grid cell on the workers, the
pinned write-back) and then pumps until the write-back ran, as the
example's window does, so frames never overlap. Prints one JSON line:
{"frames": F, "seconds": S, "fps": F / S, "behaviors": ...}."""

import argparse
import json
import time

from bocpy import pump, start, wait


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--boids", type=int, default=2000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--height", type=int, default=800)
    args = p.parse_args()

    import boids  # bocpy's examples/boids.py, from PYTHONPATH

    start(worker_count=args.workers)
    sim = boids.Simulation(args.boids, args.width, args.height)

    def frame():
        sim.step(args.width, args.height)
        pending = 1  # the frame's pinned write-back
        while pending > 0:
            pending -= pump().executed
        return sim.num_behaviors + 1

    for _ in range(args.warmup):
        frame()
    behaviors = 0
    t0 = time.perf_counter()
    for _ in range(args.frames):
        behaviors += frame()
    seconds = time.perf_counter() - t0
    wait()
    print(json.dumps({"frames": args.frames, "seconds": seconds, "fps": args.frames / seconds,
                      "behaviors": behaviors}))


if __name__ == "__main__":
    main()
