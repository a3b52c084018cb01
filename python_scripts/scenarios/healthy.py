"""Scenario: a healthy frame loop (the golden tests/golden/scenario_healthy.png).

pump() runs first every frame and executes the one pinned write-back the previous frame
scheduled; the flock advances one step per frame. At every snapshot the pinned queue holds
exactly that next write-back (depth 1, age 0 ms); the watchdog never fires.

Run by hand:  boids_demo --scenario python_scripts/scenarios/healthy.py --screenshot-dir /tmp/shots
"""

from boids_scenario import setup, note, screenshot

setup(
    description="coarse write-back, pump every frame: the flock moves, no warning",
    boids=400, seed=7, size="640x360", frames=121, workers=2, watchdog_ms=200,
)


def on_frame(frame):
    if frame == 0:
        note("pump every frame, one pinned write-back per step")
    if frame == 120:
        screenshot()
