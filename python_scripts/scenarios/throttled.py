"""Scenario: the per-item anti-pattern under a throttled pump (the golden
tests/golden/scenario_throttled.png).

Frames 0-29 run like `healthy`. At frame 30 the Starvation lab switches the write-back to
per-item dispatch (one pinned behavior per boid, each on its own pinned cown, so all of them
are runnable at once) and the Tuning panel limits pump() to one pinned behavior per frame.
Frame 30's step is written back by frame 31's pump(), which queues 400 per-boid writes: the
pinned depth jumps from 1 to 400, and each later pump() removes only one, so the queue never
empties again. Its age climbs by 16.7 ms per frame; the watchdog reports the episode once
(at 200 ms, frame 43) and the banner stays up. No new step can be scheduled while one is in
flight, so the flock freezes, apart from the boids whose write already ran. The screenshot is
frame 120: depth 311, age 1483 ms.

Run by hand:  boids_demo --scenario python_scripts/scenarios/throttled.py --screenshot-dir /tmp/shots
"""

SCENARIO = {
    "description": "per-item write-back, max_behaviors=1 from frame 30: depth jumps to 400, age climbs",
    "boids": 400,
    "seed": 7,
    "size": (640, 360),
    "frames": 121,
    "workers": 2,
    "watchdog_ms": 200,
    "actions": {
        30: [
            ("note", "one pinned behavior per boid, one pinned behavior per pump()"),
            ("dispatch", "per_item"),
            ("set", "max_behaviors", 1),
        ],
    },
    "screenshots": [120],
}
