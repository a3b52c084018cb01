#!/usr/bin/env bash
# Matrix speed against bocpy 0.13.0: runs bocpy's own scripts/bench_matrix.py,
# unmodified, under this project's runner and under a real bocpy build (same
# machine, same CPython), interleaved, and prints one markdown table of
# per-call medians with the speed-up of each row (bocpy time / our time).
#
#   tests/bench/compare_matrix.sh [--runner PATH] [--peer DIR] [--runs N] [--out DIR]
#
#   --runner PATH  our runner (default build/release/runtime/tools/bocpy)
#   --peer DIR     where bocpy 0.13.0 is built (default /tmp/bocpy-peer; built
#                  with /work/shared/tools/build-bocpy-peer when missing)
#   --runs N       interleaved runs per side (default 3); each row's value is
#                  the median over the runs of that run's median
#   --out DIR      keep the JSON results there (default a temp dir)
#
# Exit status 0 when no row is slower than 0.9x bocpy and the geometric-mean
# speed-up is at least 1.3x.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runner="$here/build/release/runtime/tools/bocpy"
peer="/tmp/bocpy-peer"
runs=3
out=""
tools="${BOCPY_SHARED_TOOLS:-$here/../shared/tools}"
script="${BOCPY_PEER_SRC:-$here/../shared/peer/bocpy-0.13.0}/scripts/bench_matrix.py"
while [ $# -gt 0 ]; do
  case "$1" in
    --runner) runner="$2"; shift 2 ;;
    --peer) peer="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare_matrix.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$runner" ] || { echo "compare_matrix.sh: no runner at $runner (build the bocpy target)" >&2; exit 2; }
[ -f "$script" ] || { echo "compare_matrix.sh: no bench script at $script" >&2; exit 2; }
# build-bocpy-peer prints "PYTHONPATH=<dir> <python>" as its last line.
line="$("$tools/build-bocpy-peer" "$peer" | tail -1)"
peer_path="${line%% *}"; peer_path="${peer_path#PYTHONPATH=}"
peer_python="${line#* }"
[ -n "$out" ] || out="$(mktemp -d)"
mkdir -p "$out"; rm -f "$out/ours.json" "$out/bocpy.json"
for i in $(seq 1 "$runs"); do
  echo "run $i/$runs: ours" >&2
  "$runner" "$script" --json "$out/ours.json" > "$out/ours-$i.txt"
  echo "run $i/$runs: bocpy" >&2
  PYTHONPATH="$peer_path" "$peer_python" "$script" --json "$out/bocpy.json" > "$out/bocpy-$i.txt"
done
"$peer_python" - "$out/ours.json" "$out/bocpy.json" <<'PY'
import json, math, statistics, sys
ours, peer = (json.load(open(p))["runs"] for p in sys.argv[1:3])
env = ours[0]["environment"]
print(f"CPU: {env['cpu']}  |  Python: {env['python'].split()[0]}  |  "
      f"{len(ours)} + {len(peer)} interleaved runs, medians of per-run medians (ns per call)")
print()
print("| row | bocpy 0.13.0 ns | ours ns | speed-up |")
print("|---|---:|---:|---:|")
ratios, slow = [], []
for i, row in enumerate(ours[0]["results"]):
    label = row["label"]
    a = statistics.median(r["results"][i]["median"] for r in ours)
    b = statistics.median(r["results"][i]["median"] for r in peer)
    assert all(r["results"][i]["label"] == label for r in ours + peer), label
    ratio = b / a
    ratios.append(ratio)
    flag = " **slow**" if ratio < 0.9 else ""
    if ratio < 0.9:
        slow.append(label)
    print(f"| `{' '.join(label.split())}` | {b:.1f} | {a:.1f} | {ratio:.2f}x{flag} |")
geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
print()
print(f"rows: {len(ratios)}, geometric-mean speed-up {geo:.2f}x, min {min(ratios):.2f}x, "
      f"max {max(ratios):.2f}x, rows below 0.9x: {len(slow)}")
sys.exit(0 if not slow and geo >= 1.3 else 1)
PY
