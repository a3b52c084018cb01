#!/usr/bin/env bash
# Interleaved boids2000 comparison: bocpy 0.13.0 vs ours (stock python + the
# runner), rounds x workers, capacity beside each run. Prints one line per run
# and the medians/ranges of fps per (mode, workers).
#   tests/bench/boids_interleave.sh <build dir> [rounds=3] [frames=40] [workers="1 2"]
# BASE=<another build dir> adds a "base" mode (that build under stock python).
set -eu
BUILD=${1:?build dir}
ROUNDS=${2:-3}
FRAMES=${3:-40}
WORKERS=${4:-"1 2"}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=${PY:-/root/.pyenv/versions/3.13.0/bin/python3.13}
PEER=${PEER:-/tmp/bocpy-peer/bocpy/src}
EX=${EX:-/work/shared/peer/bocpy-0.13.0/examples}
CAP=${CAP:-/work/shared/tools/capacity}
OUT=$(mktemp)
for r in $(seq "$ROUNDS"); do
  for w in $WORKERS; do
    for mode in peer ${BASE:+base} ours runner; do
      cap=$("$CAP" | sed 's/capacity=\([0-9.]*\).*/\1/')
      case $mode in
        peer) res=$(PYTHONPATH=$PEER:$EX "$PY" "$HERE/boids_sim_driver.py" --boids 2000 --workers "$w" --frames "$FRAMES") ;;
        base) res=$(PYTHONPATH=$BASE/python:$EX "$PY" "$HERE/boids_sim_driver.py" --boids 2000 --workers "$w" --frames "$FRAMES") ;;
        ours) res=$(PYTHONPATH=$BUILD/python:$EX "$PY" "$HERE/boids_sim_driver.py" --boids 2000 --workers "$w" --frames "$FRAMES") ;;
        runner) res=$(PYTHONPATH=$EX "$BUILD/runtime/tools/bocpy" "$HERE/boids_sim_driver.py" --boids 2000 --workers "$w" --frames "$FRAMES") ;;
      esac
      fps=$(echo "$res" | "$PY" -c 'import json,sys; print("%.3f" % json.loads(sys.stdin.read())["fps"])')
      echo "round=$r workers=$w mode=$mode fps=$fps capacity=$cap"
      echo "$w $mode $fps $cap" >> "$OUT"
    done
  done
done
"$PY" - "$OUT" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for w, mode, fps, cap in rows:
    by.setdefault((w, mode), []).append((float(fps), float(cap)))
for w in sorted({k[0] for k in by}):
    peer = statistics.median(f for f, _ in by[(w, "peer")])
    for mode in ("peer", "base", "ours", "runner"):
        if (w, mode) not in by:
            continue
        v = [f for f, _ in by[(w, mode)]]
        caps = [c for _, c in by[(w, mode)]]
        med = statistics.median(v)
        print(f"workers={w} {mode:6s} median={med:.3f} fps range={min(v):.3f}-{max(v):.3f} "
              f"ratio={med / peer:.2f} capacity={min(caps):.2f}-{max(caps):.2f}")
PYEOF
rm -f "$OUT"
