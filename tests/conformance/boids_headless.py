"""Steps bocpy's examples/boids.py Simulation headless, as its pyglet window
does (pump() each frame, one step in flight), without pyglet.

  boids_headless.py EXAMPLES_DIR [FRAMES] [BOIDS]
"""

import importlib.util
import sys

from bocpy import pump, start, wait

examples, frames = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
boids = int(sys.argv[3]) if len(sys.argv) > 3 else 300
spec = importlib.util.spec_from_file_location("boids_example", f"{examples}/boids.py")
module = importlib.util.module_from_spec(spec)
sys.modules["boids_example"] = module
spec.loader.exec_module(module)

# As the example's main() starts the runtime before its window's first pump(),
# for the example's own module (loaded here under a name of its own).
start(module=("boids_example", module.__file__))
sim = module.Simulation(boids, 1200, 800)
before = [sim.positions[i, k] for i in range(3) for k in range(2)]
pending = stepped = 0
while stepped < frames or pending:
    pending -= pump().executed
    if pending == 0 and stepped < frames:
        sim.step(1200, 800)
        pending, stepped = 1, stepped + 1
after = [sim.positions[i, k] for i in range(3) for k in range(2)]
wait()
assert before != after, "the flock did not move"
print(f"stepped {stepped} frames of {boids} boids")
