#!/usr/bin/env bash
# tests/bench/demo_soak.sh [build-dir] — 10 minutes of demo time with the
# Starvation lab toggled every 30 s (tests/bench/demo_soak_scenario.py), then a
# table of the resident size after every phase and whether each recovery is
# back within 10 % of the first one. A benchmark, not a test: README
# "Benchmarks" records its figures. SOAK_PHASE_FRAMES / SOAK_ROUNDS shorten it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build/release}
DEMO=$BUILD/demo/boids_demo
[[ -x "$DEMO" ]] || { echo "demo_soak: build $DEMO first (cmake --build --preset release)" >&2; exit 1; }
LOG=$(mktemp --suffix=.jsonl)
run=("$DEMO" --headless --scenario "$ROOT/tests/bench/demo_soak_scenario.py" --scenario-log "$LOG")
[[ -n "${DISPLAY:-}" ]] || run=(xvfb-run -a -s "-screen 0 1280x720x24" "${run[@]}")
start=$(date +%s)
"${run[@]}" > /dev/null
echo "== demo soak: $(( $(date +%s) - start )) s wall, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
python3 - "$LOG" <<'PY'
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    rec = json.loads(line)
    m = re.match(r"soak round=(\d+) phase=(\w+) rss_mb=([\d.]+)", str(rec.get("text", rec.get("value", ""))))
    if rec.get("action") == "note" and m:
        rows.append((int(m[1]), m[2], float(m[3])))
base = next((r for _, p, r in rows if p == "recover"), None)
print("| round | phase | RSS MB | recovery vs first recovery |")
print("|---|---|---|---|")
flat = True
for rnd, phase, rss in rows:
    verdict = ""
    if phase == "recover" and base:
        ratio = rss / base
        flat &= ratio <= 1.10
        verdict = f"{ratio:.2f}x"
    print(f"| {rnd} | {phase} | {rss:.0f} | {verdict} |")
print("flat within 10 % after each recovery:", "yes" if flat else "NO")
PY
rm -f "$LOG"
