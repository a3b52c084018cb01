"""Scenario: the default panel layout at 1280x720 (the golden tests/golden/scenario_default_layout.png).

The demo as it starts with no options: 2000 boids (the --boids default), seed 1 (the --seed
default), a 1280x720 window, the default pump settings (deadline 4 ms, max behaviors
unbounded, watchdog 250 ms). Pump, Tuning and Starvation lab are open, Runtime and Errors are
collapsed title bars; the two columns at the edges leave the middle of the window to the flock.
The golden is frame 120 (2 s of flight): most of the flock is outside every panel
(scenario_check.py default_layout measures it with --ui-log and --dump-state).

Run by hand:  boids_demo --scenario python_scripts/scenarios/default_layout.py --screenshot-dir /tmp/shots
"""

from boids_scenario import setup, note, screenshot

setup(
    description="the default layout at 1280x720 with the default flock: most boids visible",
    boids=2000, seed=1, size="1280x720", frames=121, workers=2,
)


def on_frame(frame):
    if frame == 0:
        note("default panels, default flock")
    if frame == 120:
        screenshot()
