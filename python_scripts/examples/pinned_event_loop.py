"""A host event loop with a pinned cown: the coarse-grained dispatch pattern.

The "canvas" stands in for a GUI / GL handle: it holds a threading.Lock, so it
can never be pickled or leave the main interpreter. It lives in a PinnedCown.
Each frame:

1. the loop calls pump(deadline_ms=..., max_behaviors=...) at the top of the
   tick, which runs the previous frame's write-back on the main thread;
2. if that write-back has been drawn, it schedules one worker behavior per
   particle (physics, in parallel on the workers), each returning its state
   in a result cown;
3. and ONE pinned behavior over all those result cowns plus the canvas, which
   writes the whole batch into the canvas (dispatch through the pump queue is
   one per frame, not one per particle).

The starvation watchdog is enabled with a callback that counts reports. At
the end the program checks that every write-back saw the very same canvas
object on the main thread, and that the drawn positions equal a serial
simulation. Runs unchanged on upstream bocpy.

    bocpy pinned_event_loop.py [--particles N] [--frames N] [--tick-ms N]
"""

import argparse
import sys
import threading
import time

from bocpy import (Cown, PinnedCown, pump, quiesce, set_pump_watchdog, start,
                   wait, when)

DT = 1.0 / 60.0
SUBSTEPS = 200
STIFFNESS = 4.0
DAMPING = 0.1
LOOP_TIMEOUT_S = 120.0


class Particle:
    """A damped spring; advance() is the per-item CPU work done on a worker."""

    def __init__(self, index):
        self.index = index
        self.x = float(index % 7) - 3.0
        self.v = 0.5 * (index % 3)

    def advance(self, dt):
        h = dt / SUBSTEPS
        x, v = self.x, self.v
        for _ in range(SUBSTEPS):
            a = -STIFFNESS * x - DAMPING * v
            v += a * h
            x += v * h
        self.x, self.v = x, v


class Canvas:
    """Main-thread-only state that cannot be pickled (it holds a lock)."""

    def __init__(self, size):
        self._lock = threading.Lock()
        self.positions = [0.0] * size
        self.frames_drawn = 0

    def draw(self, frame, states):
        with self._lock:
            if frame != self.frames_drawn:
                raise RuntimeError(f"frame {frame} drawn out of order")
            for index, x in states:
                self.positions[index] = x
            self.frames_drawn += 1


def step(particle, dt):
    """Schedules the physics for one particle; the result is (index, x)."""

    @when(particle)
    def _step(particle, dt=dt):
        particle.value.advance(dt)
        return particle.value.index, particle.value.x

    return _step


def writeback(results, canvas, frame):
    """Schedules the frame's single pinned write-back over all results."""

    @when(results, canvas)
    def _writeback(results, canvas, frame=frame):
        canvas.value.draw(frame, [r.value for r in results])
        return id(canvas.value), threading.get_ident()

    return _writeback


def serial_positions(count, frames):
    particles = [Particle(i) for i in range(count)]
    for _ in range(frames):
        for p in particles:
            p.advance(DT)
    return [p.x for p in particles]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=48)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--tick-ms", type=int, default=5)
    args = parser.parse_args(argv)

    start()
    starvation_reports = []
    set_pump_watchdog(warn_ms=1000,
                      on_starve=lambda severity, message: starvation_reports.append(message))

    canvas_object = Canvas(args.particles)
    canvas = PinnedCown(canvas_object)
    particles = [Cown(Particle(i)) for i in range(args.particles)]

    scheduled = drawn = pending = ticks = pumped_calls = 0
    writebacks = []
    loop_start = time.perf_counter()
    while drawn < args.frames:
        tick_start = time.perf_counter()
        if tick_start - loop_start > LOOP_TIMEOUT_S:
            raise RuntimeError(f"event loop stuck: {drawn}/{args.frames} frames drawn")
        # Top of the tick: drain the previous frame's write-back.
        result = pump(deadline_ms=8, max_behaviors=4)
        pumped_calls += 1
        if result.raised:
            raise RuntimeError("a write-back raised; see its result cown")
        drawn += result.executed
        pending -= result.executed
        # At most one frame in flight: schedule the next once the last was drawn.
        if pending == 0 and scheduled < args.frames:
            results = [step(p, DT) for p in particles]
            writebacks.append(writeback(results, canvas, scheduled))
            scheduled += 1
            pending += 1
        ticks += 1
        remaining = args.tick_ms / 1000.0 - (time.perf_counter() - tick_start)
        if remaining > 0:
            time.sleep(remaining)
    elapsed = time.perf_counter() - loop_start

    quiesce()
    seen = [w.unwrap() for w in writebacks]
    set_pump_watchdog(warn_ms=None)
    wait()

    main_ident = threading.get_ident()
    expected = serial_positions(args.particles, args.frames)
    print(f"pinned_event_loop: {args.frames} frames x {args.particles} particles "
          f"in {elapsed:.2f} s, {ticks} ticks, {pumped_calls} pump() calls")
    print(f"pinned_event_loop: {len(writebacks)} pinned write-backs (one per frame), "
          f"watchdog reports: {len(starvation_reports)}")
    assert canvas.value is canvas_object, "the pinned value was replaced"
    assert canvas_object.frames_drawn == args.frames, canvas_object.frames_drawn
    assert all(obj_id == id(canvas_object) for obj_id, _ in seen), "a write-back saw a copy"
    assert all(ident == main_ident for _, ident in seen), "a write-back ran off the main thread"
    assert canvas_object.positions == expected, "drawn positions differ from the serial run"
    print("pinned_event_loop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
