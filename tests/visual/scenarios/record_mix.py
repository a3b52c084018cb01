"""Test scenario for the recording round trip (tests/visual/record_roundtrip.cmake): one change of
nearly every control the recorder knows, so `--record-scenario` has to write each kind of action.
Not a golden: the test compares this run with the replay of its recording.
"""

SCENARIO = {
    "description": "every recordable control, changed once or twice",
    "boids": 400,
    "seed": 11,
    "size": (640, 360),
    "frames": 110,
    "workers": 2,
    "watchdog_ms": 200,
    "actions": {
        0: [("note", "recorder round trip")],
        10: [("set", "cohesion", 2.5), ("set", "separation_radius", 20), ("stall_ms", 30)],
        20: [("set", "deadline_ms", 0.5), ("set", "max_behaviors", 3)],
        30: [("dispatch", "per_item")],
        45: [("dispatch", "coarse"), ("set", "max_behaviors", None)],
        50: [("pause_sim", True)],
        55: ["step"],
        60: [("pause_sim", False), ("set", "watchdog_ms", 100), ("set", "max_speed", 150)],
        70: [("pause_pump", True)],
        85: [("pause_pump", False), ("stall_ms", 0), ("set", "wait_poll_ms", 5)],
        90: [("set", "boids", 300)],
        95: ["clear_errors", ("set", "deadline_ms", None)],
    },
    "screenshots": [109],
}
