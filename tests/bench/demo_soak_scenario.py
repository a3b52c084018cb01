"""Soak of boids_demo (tests/bench/demo_soak.sh): the Starvation lab toggled
every 30 s of demo time -- pump paused, per-item write-back with
max_behaviors 1, a 50 ms stall per frame, recovered -- for 10 minutes (five
rounds), with the process's resident size noted at the end of every phase.
SOAK_PHASE_FRAMES shortens a phase (default 1800 frames = 30 s at 60 fps).
"""

import os

from boids_scenario import dispatch, note, pause_pump, set_knob, setup, stall_ms

PHASE = int(os.environ.get("SOAK_PHASE_FRAMES", "1800"))
ROUNDS = int(os.environ.get("SOAK_ROUNDS", "5"))
PHASES = ("pause", "per_item", "stall", "recover")

setup(description="soak: pause / per-item max 1 / stall 50 ms / recover, RSS per phase",
      boids=2000, seed=3, size="640x360", frames=PHASE * len(PHASES) * ROUNDS, workers=2, watchdog_ms=200)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def enter(phase):
    pause_pump(phase == "pause")
    dispatch("per_item" if phase == "per_item" else "coarse")
    set_knob("max_behaviors", 1 if phase == "per_item" else None)
    stall_ms(50 if phase == "stall" else 0)


def on_frame(frame):
    index, offset = divmod(frame, PHASE)
    phase = PHASES[index % len(PHASES)]
    if offset == 0:
        enter(phase)
    elif offset == PHASE - 1:
        note(f"soak round={index // len(PHASES)} phase={phase} rss_mb={rss_mb():.1f}")
