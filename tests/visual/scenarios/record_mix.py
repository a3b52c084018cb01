"""Test scenario for the recording round trip (tests/visual/record_roundtrip.cmake): one change of
nearly every control the recorder knows, so `--record-scenario` has to write each kind of action.
Not a golden: the test compares this run with the replay of its recording.
"""

from boids_scenario import clear_errors, dispatch, note, pause_pump, pause_sim, screenshot, set_knob, setup, \
    stall_ms, step

setup(
    description="every recordable control, changed once or twice",
    boids=400, seed=11, size="640x360", frames=110, workers=2, watchdog_ms=200,
)


def on_frame(frame):
    if frame == 0:
        note("recorder round trip")
    elif frame == 10:
        set_knob("cohesion", 2.5)
        set_knob("separation_radius", 20)
        stall_ms(30)
    elif frame == 20:
        set_knob("deadline_ms", 0.5)
        set_knob("max_behaviors", 3)
    elif frame == 30:
        dispatch("per_item")
    elif frame == 45:
        dispatch("coarse")
        set_knob("max_behaviors", None)
    elif frame == 50:
        pause_sim(True)
    elif frame == 55:
        step()
    elif frame == 60:
        pause_sim(False)
        set_knob("watchdog_ms", 100)
        set_knob("max_speed", 150)
    elif frame == 70:
        pause_pump(True)
    elif frame == 85:
        pause_pump(False)
        stall_ms(0)
        set_knob("wait_poll_ms", 5)
    elif frame == 90:
        set_knob("boids", 300)
    elif frame == 95:
        clear_errors()
        set_knob("deadline_ms", None)
    elif frame == 109:
        screenshot()
