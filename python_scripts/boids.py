"""The boids flock of boids_demo, as bocpy behaviors over Matrix operations.

The demo's C++ driver imports this file as a module (its name is the file's stem) and
creates one ``Simulation(n, seed, params, gl)`` per flock. Every frame it calls ``pump()``
first and then ``Simulation.step(dt, params, per_item)`` on the main interpreter.

One step (the coarse-grained dispatch pattern of the pinned-cown docs)::

    main       bin the boids into a uniform grid (cells >= the largest neighbour radius),
               cut the grid into tiles (bands of cell rows: tens per frame, not thousands)
               and, per tile, copy an immutable snapshot: the tile's boids plus the halo
               row above and below (every boid they can see)
    workers    one behavior per tile: cohesion, alignment, separation, soft bounds and the
               speed limits with Matrix operations only; returns (indices, pos, vel)
    main       ONE pinned behavior per frame, @when(*tile_results, state, gl): merges the
               results in tile order into the main-side positions / velocities and writes
               the whole batch into the GL instance buffer with one call; it runs inside
               the next frame's pump()

At most one step is in flight: ``step()`` does nothing (returns False) until the previous
write-back has run.

Inside a tile behavior the work is split into blocks (a few cells of one cell row): each
block compares its own boids with the candidates of the 3 x (w + 2) cells around it using
pairwise distances, masks and matrix products, so no Python code runs per boid or per pair.

Determinism: every step reads only the previous step's state; every neighbour sum is a
matrix product over the candidates in boid-index order (the snapshots keep that order), and
a candidate that is not a neighbour adds an exact 0.0, so a boid's result does not depend on
the tiling, the blocking, the worker count or timing. The write-back merges in tile order.
With a fixed seed and a fixed dt the state after N steps is bit-identical for any number of
workers.

Errors: a tile behavior that raises is reported by the write-back (its result cown has
``exception`` set and a ``traceback``); the boids of that tile keep their previous state for
the frame. An error in the write-back itself is recorded too. ``drain_errors()`` hands the
entries to the driver; the flock keeps running.

``per_item=True`` is the Starvation lab's anti-pattern: every frame, each boid's current row
reaches the GL buffer through its own pinned behavior (``gl.write_range``) instead of one
batch. Each of them names a fresh PinnedCown, so all are runnable at once: the pump queue
grows by one entry per boid per frame, and the frame's coarse write-back waits behind them.
With a bounded pump the depth and age climb frame after frame and the flock freezes -- the
reason the demo uses one pinned behavior per frame.
"""

import traceback

from bocpy import Matrix, PinnedCown, whencall
from bocpy._core import main_pump_queue_depth

# The per-item anti-pattern stops adding uploads while this many pinned behaviors wait: it
# is there to show starvation, not to exhaust memory when left on with a throttled pump.
MAX_PER_ITEM_BACKLOG = 200_000

# Snapshot columns.
_X, _Y, _VX, _VY, _CX, _CY, _ID = range(7)
_POS = [_X, _Y]
_VEL = [_VX, _VY]
_STATE = [_X, _Y, _VX, _VY]

# Cells are at least this much wider than the neighbour radius, so two boids closer than the
# radius are never two cells apart, whatever the rounding of x / cell.
_CELL_SLACK = 1.0 + 1e-9

# Rough costs (microseconds) of the tile kernel, used to pick the block width: a fixed cost
# per block (about 17 Matrix calls) against a cost per compared pair of boids.
_BLOCK_COST_US = 14.0
_PAIR_COST_US = 0.006

# A tile is at least this many cell rows (9 tiles for the default world), and there are at
# most _MAX_TILES tiles: tens of behaviors per frame, never thousands.
_TILE_ROWS = 2
_MAX_TILES = 32

# At most this many cells per axis (cells grow beyond the radius for tiny radii).
_MAX_GRID = 128

# The parameters (weights, radii, speeds, world box and the gains that turn a weight of 1.0 into
# a pleasant flock) come from the driver with every call: demo/sim/flock_params.h is their one place.


def _rows_where(m, mask):
    """The rows of m selected by the n x 1 0/1 mask, or None when none is."""
    try:
        return m[mask]
    except IndexError:
        return None


def flock_step(snap, job):
    """Worker behavior: one tile's step.

    snap: m x 7 Matrix (x, y, vx, vy, cell x, cell y, boid id) of the boids in cell rows
    row0 - 1 .. row1, in boid-id order. job: (row0, row1, grid_w, block_w, constants).
    Returns (ids, positions, velocities) of the boids in rows row0 .. row1 - 1 (None if
    there are none), ids being a list of ints.
    """
    row0, row1, grid_w, block_w, k = job
    r2, sep2, k_coh, k_ali, k_sep, world_w, world_h, margin, turn, lo, hi, dt = k

    cell_y = snap.take([_CY], 1)
    own_parts, sums, counts, close_sums, close_counts = [], [], [], [], []
    for row in range(row0, row1):
        # Candidates: the three cell rows around `row`; own boids: those in `row`.
        band = _rows_where(snap, (cell_y - row).abs().le(1.0))
        if band is None:
            continue
        band_cx = band.take([_CX], 1)
        mine = _rows_where(band, band.take([_CY], 1).eq(row))
        if mine is None:
            continue
        mine_cx = mine.take([_CX], 1)
        for b0 in range(0, grid_w, block_w):
            b1 = b0 + block_w
            own = _rows_where(mine, mine_cx.ge(b0) * mine_cx.lt(b1))
            if own is None:
                continue
            cand = band[band_cx.ge(b0 - 1) * band_cx.le(b1)]  # never empty: own is inside
            cand_state = cand.take(_STATE, 1)
            d2 = own.take(_POS, 1).pairwise_dist2(cand.take(_POS, 1))
            near = d2.lt(r2)  # includes the boid itself (d2 == 0)
            close = d2.lt(sep2)
            own_parts.append(own)
            sums.append(near @ cand_state)  # sum of x, y, vx, vy over the neighbours
            counts.append(near.sum(1))
            close_sums.append(close @ cand_state.take([0, 1], 1))
            close_counts.append(close.sum(1))
    if not own_parts:
        return None

    own = Matrix.concat(own_parts)
    total = Matrix.concat(sums)
    p = own.take(_POS, 1)
    v = own.take(_VEL, 1)

    # Neighbours, the boid itself excluded.
    count = Matrix.concat(counts) - 1.0
    has = count.gt(0.0)
    inv = Matrix.where(has, 1.0 / Matrix.where(has, count, 1.0), 0.0)
    cohesion = (((total.take([0, 1], 1) - p) * inv - p) * has) * k_coh
    alignment = (((total.take([2, 3], 1) - v) * inv - v) * has) * k_ali
    # Separation: sum over close boids of (p - q) = close_count * p - sum(q); the boid itself
    # is in both terms and cancels.
    separation = (p * Matrix.concat(close_counts) - Matrix.concat(close_sums)) * k_sep
    # Soft bounds: 0 at the margin, growing to `turn` at the edge and beyond.
    inside_lo = ((margin - p) / margin).clip(0.0, 1.0)
    inside_hi = ((p - [world_w - margin, world_h - margin]) / margin).clip(0.0, 1.0)
    accel = cohesion + alignment + separation + (inside_lo - inside_hi) * turn

    vel = v + accel * dt
    # Speed limits: scale into [lo, hi]; a (near) zero velocity becomes (lo, 0).
    speed = vel.magnitude(1)
    still = speed.le(1e-6)
    safe = Matrix.where(still, 1.0, speed)
    vel = Matrix.where(still, [lo, 0.0], vel * (safe.clip(lo, hi) / safe))
    pos = p + vel * dt
    ids = own.take([_ID], 1)  # a column of boid ids: put() takes it as indices
    return ids, pos, vel


def _summary(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def merge_and_write(*args):
    """Pinned behavior (main thread, inside pump()): the frame's write-back.

    args: the tile result cowns, the state PinnedCown, the GL PinnedCown, then the capture
    per_item. Merges in tile order, then writes the whole batch into the GL buffer with one
    call -- or, per_item, schedules one pinned behavior per boid (the anti-pattern).
    """
    *results, state_cown, gl_cown, per_item = args
    state = state_cown.value
    try:
        for r in results:
            if r.exception:
                state.record(f"{_summary(r.value)} (in a tile behavior)", r.traceback)
                r.exception = False  # handled here: reported through drain_errors()
                continue
            if r.value is None:
                continue
            ids, pos, vel = r.value
            state.positions.put(ids, pos)
            state.velocities.put(ids, vel)
        state.steps += 1
        if not per_item:  # per-item frames reach the GL buffer through write_one
            gl_cown.value.write(state.positions, state.velocities)
    except Exception as exc:
        state.record(f"{_summary(exc)} (in the write-back)", traceback.format_exc())
        raise
    finally:
        state.pending = False


def write_one(item_cown, i, row):
    """Pinned behavior of the per-item anti-pattern: boid i's row into the GL buffer.
    item_cown is a fresh PinnedCown holding the GL handle, so every one of these is
    runnable at once: the pump queue holds one entry per boid."""
    item_cown.value.write_range(i, Matrix.vector(row[0:2]), Matrix.vector(row[2:4]))


def write_all(state_cown, gl_cown):
    """Pinned behavior: the initial flock's batch (ends the pseudo-step of __init__)."""
    state = state_cown.value
    try:
        gl_cown.value.write(state.positions, state.velocities)
    finally:
        state.pending = False


class FlockState:
    """Main-side flock state, the value of a PinnedCown: the write-back is its only writer
    and runs on the main thread, so step() may read it between pump() calls."""

    def __init__(self, positions, velocities):
        self.positions = positions
        self.velocities = velocities
        self.pending = False
        self.steps = 0
        self.errors = []

    def record(self, message, tb):
        self.errors.append((message, tb or ""))


def _float_params(params):
    return {k: float(v) for k, v in params.items()}


def initial_flock(n, seed, params):
    """Positions uniform in the world box inset by the bounds margin, random headings,
    speeds uniform in [min_speed, max_speed]. Uses Matrix's seeded generator."""
    p = _float_params(params)
    w, h = p["world_w"], p["world_h"]
    inset_x = min(p["bounds_margin"], w * 0.25)
    inset_y = min(p["bounds_margin"], h * 0.25)
    lo, hi = min(p["min_speed"], p["max_speed"]), max(p["min_speed"], p["max_speed"])
    Matrix.seed(seed)
    positions = Matrix.uniform(0.0, 1.0, (n, 2)) * [w - 2 * inset_x, h - 2 * inset_y] + [inset_x, inset_y]
    heading = Matrix.normal(0.0, 1.0, (n, 2)).normalize(1)
    speed = Matrix.uniform(lo, hi, (n, 1)) if hi > lo else Matrix(n, 1, lo)
    return positions, heading * speed


class Simulation:
    """One flock. All methods run on the main interpreter, between pump() calls."""

    tile_behavior = staticmethod(flock_step)

    def __init__(self, n, seed, params, gl):
        n = int(n)
        if n < 1:
            raise ValueError(f"a flock needs at least one boid, got {n}")
        self.n = n
        self.params = _float_params(params)
        positions, velocities = initial_flock(n, seed, self.params)
        self.positions = positions  # aliases of the pinned state's matrices
        self.velocities = velocities
        self.ids = Matrix.vector(range(n), as_column=True)
        self.state = FlockState(positions, velocities)
        self.state_cown = PinnedCown(self.state)
        self.gl = gl
        self.gl_cown = PinnedCown(gl)
        self.frames = 0
        self.last_tiles = 0
        self.state.pending = True
        whencall(write_all, [self.state_cown, self.gl_cown], [])

    @property
    def pending(self):
        """True while a step is in flight (its write-back has not run yet)."""
        return self.state.pending

    @property
    def steps(self):
        """Steps written back so far."""
        return self.state.steps

    def drain_errors(self):
        """[(message, traceback)] recorded since the last call."""
        errors, self.state.errors = self.state.errors, []
        return errors

    def layout(self, p):
        """(cell_w, cell_h, grid_w, grid_h, block_w, tile_rows) for the parameters p and
        this flock. Depends only on them (never on the worker count or timing)."""
        radius = max(p["neighbour_radius"], p["separation_radius"], 1e-3) * _CELL_SLACK
        grid_w = min(_MAX_GRID, max(1, int(p["world_w"] // radius)))
        grid_h = min(_MAX_GRID, max(1, int(p["world_h"] // radius)))
        cell_w = max(p["world_w"] / grid_w, radius)
        cell_h = max(p["world_h"] / grid_h, radius)
        # Block width in cells: fewer, larger blocks when the flock is sparse.
        density = self.n / (grid_w * grid_h)  # boids per cell
        best, best_cost = 1, None
        for w in range(1, grid_w + 1):
            blocks = grid_h * -(-grid_w // w)
            pairs = self.n * density * 3 * (w + 2)
            cost = blocks * _BLOCK_COST_US + pairs * _PAIR_COST_US
            if best_cost is None or cost < best_cost:
                best, best_cost = w, cost
        tile_rows = max(_TILE_ROWS, -(-grid_h // _MAX_TILES))
        return cell_w, cell_h, grid_w, grid_h, best, tile_rows

    def dispatch_per_item(self):
        """The anti-pattern: one pinned behavior per boid uploading its current row, each
        on a fresh PinnedCown (scheduled in boid order, so the pump queue order is fixed)."""
        if main_pump_queue_depth() >= MAX_PER_ITEM_BACKLOG:
            return
        rows = Matrix.concat([self.positions, self.velocities], axis=1).tolist()
        for i, row in enumerate(rows):
            whencall(write_one, [PinnedCown(self.gl)], [i, row])

    def step(self, dt, params=None, per_item=False):
        """Schedules one step: tile behaviors on the workers, then one pinned write-back.
        Returns False (and schedules no step) while the previous step is still in flight.
        With per_item, every call also schedules one pinned upload per boid (see
        dispatch_per_item), in flight or not."""
        if per_item:
            self.dispatch_per_item()
        if self.state.pending:
            return False
        if params is not None:
            self.params = _float_params(params)
        p = self.params
        cell_w, cell_h, grid_w, grid_h, block_w, tile_rows = self.layout(p)
        lo, hi = min(p["min_speed"], p["max_speed"]), max(p["min_speed"], p["max_speed"])
        margin = max(p["bounds_margin"], 1e-6)
        constants = (
            p["neighbour_radius"] ** 2,
            p["separation_radius"] ** 2,
            p["cohesion"] * p["cohesion_gain"],
            p["alignment"] * p["alignment_gain"],
            p["separation"] * p["separation_gain"],
            p["world_w"],
            p["world_h"],
            margin,
            p["bounds_turn"],
            lo,
            hi,
            float(dt),
        )

        # Bin: clamped cell coordinates (boids past the edge go to the edge cells).
        positions, velocities = self.positions, self.velocities
        cell_x = (positions.take([0], 1) * (1.0 / cell_w)).floor().clip(0.0, grid_w - 1.0)
        cell_y = (positions.take([1], 1) * (1.0 / cell_h)).floor().clip(0.0, grid_h - 1.0)
        snapshot = Matrix.concat([positions, velocities, cell_x, cell_y, self.ids], axis=1)

        tile = self.tile_behavior
        results = []
        for row0 in range(0, grid_h, tile_rows):
            row1 = min(row0 + tile_rows, grid_h)
            # Own rows [row0, row1) plus one halo row on each side: everything they can see.
            halo = cell_y.ge(row0 - 1.0) * cell_y.le(float(row1))
            snap = _rows_where(snapshot, halo)
            if snap is None:
                continue
            job = (row0, row1, grid_w, block_w, constants)
            results.append(whencall(tile, [], [snap, job]))
        self.last_tiles = len(results)

        self.state.pending = True
        whencall(merge_and_write, [*results, self.state_cown, self.gl_cown], [bool(per_item)])
        self.frames += 1
        return True

    def state_rows(self):
        """The current state as a list of [x, y, vx, vy] rows (main side)."""
        return Matrix.concat([self.positions, self.velocities], axis=1).tolist()
