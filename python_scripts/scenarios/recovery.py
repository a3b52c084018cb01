"""Scenario: the pump stops, resumes, stops again (the golden tests/golden/scenario_recovery.png).

Three pauses of the pump, each ended by resuming it:

  frames 40-69   paused 30 frames (500 ms): the watchdog reports once, at frame 51 (200 ms)
  frames 95-109  paused 15 frames (250 ms): a second episode, a second report at frame 106
  frames 125-129 paused  5 frames  (83 ms): below the threshold, no report

Each resume runs the queued write-back in the next pump(): the queue drains (depth 0 right
after pump()), the flock moves again and the banner goes away. The screenshot at frame 60
shows the first episode; the golden is frame 150: no banner, both warnings still in the
watchdog log, and three humps in the age plot.

Run by hand:  boids_demo --scenario python_scripts/scenarios/recovery.py --screenshot-dir /tmp/shots
"""

from boids_scenario import setup, note, pause_pump, screenshot

setup(
    description="pump paused and resumed three times: two warnings, banner gone after each resume",
    boids=400, seed=7, size="640x360", frames=151, workers=2, watchdog_ms=200,
)

# frame -> (note, paused from that frame on)
PAUSES = {
    40: ("episode 1: 500 ms", True), 70: (None, False),
    95: ("episode 2: 250 ms", True), 110: (None, False),
    125: ("a hiccup below the threshold: 83 ms", True), 130: (None, False),
}


def on_frame(frame):
    if frame in PAUSES:
        text, paused = PAUSES[frame]
        if text:
            note(text)
        pause_pump(paused)
    if frame in (60, 150):
        screenshot()
