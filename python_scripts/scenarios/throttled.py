"""Scenario: the per-item anti-pattern under a throttled pump (the golden
tests/golden/scenario_throttled.png).

Frames 0-29 run like `healthy`. At frame 30 the Starvation lab switches to per-item
dispatch (every frame, one pinned upload per boid, each on a fresh pinned cown, so all of
them are runnable at once) and the Tuning panel limits pump() to one pinned behavior per
frame. Each frame now adds 400 pinned behaviors and pump() removes one: the depth plot
climbs by 399 per frame and the queue never empties again. Its age climbs by 16.7 ms per
frame; the watchdog reports the episode once (at 200 ms, frame 42) and the banner stays up.
The frame's coarse write-back is stuck behind the uploads, so no new step is scheduled and
the flock freezes. The screenshot is frame 120: depth 36311, age 1500 ms.

Run by hand:  boids_demo --scenario python_scripts/scenarios/throttled.py --screenshot-dir /tmp/shots
"""

from boids_scenario import setup, dispatch, note, screenshot, set_knob

setup(
    description="per-item uploads, max_behaviors=1 from frame 30: depth climbs by 399 per frame",
    boids=400, seed=7, size="640x360", frames=121, workers=2, watchdog_ms=200,
)


def on_frame(frame):
    if frame == 30:
        note("one pinned behavior per boid, one pinned behavior per pump()")
        dispatch("per_item")
        set_knob("max_behaviors", 1)
    if frame == 120:
        screenshot()
