"""The per-cell work of bocpy's examples/boids.py without the runtime: the
body of `multi_cell` (concat, then per boid fly_toward_center / avoid_others
/ match_velocity / limit_speed / keep_within_bounds and the row write-backs),
run on the main interpreter over one frame's cells, plus the main thread's
spatial hashing. Calls the example's own functions (import boids from
PYTHONPATH, as boids_sim_driver.py). Prints one JSON line of medians (ms):
  cells  = the worker-side body for every cell of the frame,
  hash   = Simulation.spatial_hashing + build_cell_data's row reads and take.
Works under bocpy 0.13.0 and ours (no start() needed: nothing is scheduled)."""

import argparse
import json
import statistics
import time

from bocpy import Matrix


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--boids", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    import boids as b

    Matrix.seed(7)
    positions, velocities = b.init_boids(args.boids, 1200, 800)
    sim = b.Simulation.__new__(b.Simulation)  # no cowns: only the hashing state
    sim.spacing = 50
    sim.num_boids = args.boids
    sim.num_cells = 2 * args.boids
    sim.cell_start = [0] * (sim.num_cells + 1)
    sim.cell_entries = [0] * sim.num_cells
    sim.hash_values = [0] * args.boids
    sim.grid_cells = set()

    def cells_of():
        sim.spatial_hashing(positions)
        out = {}
        for cell in sim.grid_cells:
            left, top = cell.column * sim.spacing, cell.row * sim.spacing
            box = b.BoundingBox(left, top, left + sim.spacing, top + sim.spacing)
            h = b.hash_coords(cell.row, cell.column, sim.num_cells)
            idx = []
            for i in range(sim.cell_start[h], sim.cell_start[h + 1]):
                k = sim.cell_entries[i]
                pos = positions[k]
                if not box.is_outside(pos.x, pos.y):
                    idx.append(k)
            out[cell] = (positions.take(idx), velocities.take(idx))
        return out

    def run_cells(cells, width=1200, height=800):
        for (row, column), (pc, vc) in cells.items():
            plist, vlist = [pc], [vc]
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if dr or dc:
                        n = cells.get(b.Cell(row + dr, column + dc))
                        if n is not None:
                            plist.append(n[0])
                            vlist.append(n[1])
            batch_positions = Matrix.concat([m.copy() for m in plist])
            batch_velocities = Matrix.concat([m.copy() for m in vlist])
            pcell, vcell = pc.copy(), vc.copy()
            for i in range(pc.rows):
                pos = batch_positions[i]
                vel = batch_velocities[i]
                vel += b.fly_toward_center(batch_positions, pos)
                vel += b.avoid_others(batch_positions, pos)
                vel += b.match_velocity(batch_velocities, vel)
                b.limit_speed(vel)
                vel += b.keep_within_bounds(pos, width, height)
                vcell[i] = batch_velocities[i] = vel
                pcell[i] = batch_positions[i] = pos + vel
            batch_positions[:pc.rows], batch_velocities[:pc.rows]

    cells = cells_of()
    th, tc = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cells_of()
        t1 = time.perf_counter()
        run_cells(cells)
        t2 = time.perf_counter()
        th.append(t1 - t0)
        tc.append(t2 - t1)
    print(json.dumps({"cells_ms": round(statistics.median(tc) * 1e3, 2),
                      "hash_ms": round(statistics.median(th) * 1e3, 2),
                      "min_cells_ms": round(min(tc) * 1e3, 2), "num_cells": len(cells)}))


if __name__ == "__main__":
    main()
