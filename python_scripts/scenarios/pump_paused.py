"""Scenario: the main loop stops calling pump() (the golden tests/golden/scenario_pump_paused.png).

Frames 0-59 run like `healthy`. From frame 60 the Starvation lab's "pause the pump" is on:
the write-back that frame 59 scheduled stays in the pinned queue, so the flock freezes (no
new step is scheduled while one is in flight), the queue's age grows by 16.7 virtual ms per
frame, and once it reaches watchdog_ms (200 ms, frame 71) the watchdog reports the episode
once and the red "PUMP STARVING" banner shows the age and depth. The screenshot is frame 120:
the queue has been non-empty for 1 s of virtual time.

Run by hand:  boids_demo --scenario python_scripts/scenarios/pump_paused.py --screenshot-dir /tmp/shots
"""

from boids_scenario import setup, note, pause_pump, screenshot

setup(
    description="pump paused from frame 60: boids frozen, banner with age and depth",
    boids=400, seed=7, size="640x360", frames=121, workers=2, watchdog_ms=200,
)


def on_frame(frame):
    if frame == 60:
        note("the main loop stops pumping")
        pause_pump(True)
    if frame == 120:
        screenshot()
