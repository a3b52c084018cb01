#!/usr/bin/env bash
# tests/conformance/run_bocpy_examples.sh [build-dir] — every program in bocpy
# 0.13.0's examples/ folder, unmodified, under the `bocpy` runner and under a
# stock CPython importing build/<preset>/python/bocpy: exit 0, no traceback,
# no "Exception ignored"; the deterministic ones print what real bocpy prints
# (when tools/build-bocpy-peer can build it here). The examples come from
# $BOC_SHARED (default <repo>/../shared); without them this says it skipped.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/release}" 2>/dev/null && pwd) || { echo "examples: no build dir ${1:-}" >&2; exit 1; }
SHARED=${BOC_SHARED:-$ROOT/../shared}
EX=$SHARED/peer/bocpy-0.13.0/examples
if [[ ! -d "$EX" ]]; then
  echo "examples: SKIPPED (no bocpy examples at $EX)"
  exit 0
fi
PYTHON=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" | head -n1)
RUNNER=$BUILD/runtime/tools/bocpy
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# A writable copy to run in (benchmark.py writes results/, sketches.py reads
# its menu from the working folder; the shared folder is read-only in CI).
cp -r "$EX" "$WORK/examples"
EX=$WORK/examples

PEER=""
if "$SHARED/tools/build-bocpy-peer" "$WORK/peer" "$PYTHON" > "$WORK/peer.log" 2>&1; then
  PEER=$WORK/peer/bocpy/src
else
  echo "examples: real bocpy could not be built here; outputs are not compared ($(tail -n1 "$WORK/peer.log"))"
fi

# name | arguments | compare sorted stdout with bocpy's | lines left out of
# that comparison (calculator.py's clients draw unseeded random operands, so
# only its operation count is deterministic)
PROGRAMS=(
  "bank.py||yes" "calculator.py||yes|^Final value:" "cooking_boc.py||no" "dining_philosophers.py||yes"
  "fibonacci.py||yes" "prime_factor.py||no" "primes.py||no" "sketches.py||no"
  "benchmark.py|--duration 0.5 --null-payload --sweep-values 1,2|no"
  "fanout_benchmark.py|--sweep-axis none --workers 1 --producer-steps 50|no"
)
status=0
run() {   # run <mode> <out prefix> <program> <args...>
  local mode=$1 out=$2; shift 2
  case $mode in
    runner) (cd "$EX" && "$RUNNER" "$@") ;;
    python) (cd "$EX" && PYTHONPATH="$BUILD/python" "$PYTHON" "$@") ;;
    bocpy) (cd "$EX" && PYTHONPATH="$PEER" "$PYTHON" "$@") ;;
  esac > "$out.out" 2> "$out.err"
}
check() {   # check <label> <out prefix> <rc>
  local label=$1 out=$2 rc=$3
  if [[ $rc -ne 0 ]] || grep -qE "Traceback|Exception ignored" "$out.err" "$out.out"; then
    echo "examples: FAIL $label (exit $rc)"; tail -n 5 "$out.err"; status=1; return 1
  fi
  return 0
}
comparable() {   # comparable <file>: its lines, sorted, without those matching $ignore
  if [[ -n "$ignore" ]]; then grep -vE "$ignore" "$1"; else cat "$1"; fi | sort
}
for entry in "${PROGRAMS[@]}"; do
  IFS='|' read -r prog args compare ignore <<<"$entry"
  for mode in runner python; do
    out="$WORK/$mode-${prog%.py}"
    run "$mode" "$out" "$prog" $args; rc=$?
    check "$prog ($mode)" "$out" $rc || continue
    if [[ "$prog" == sketches.py ]] && [[ $(grep -c '^INFO:' "$out.err") -lt 90 ]]; then
      echo "examples: FAIL $prog ($mode): $(grep -c '^INFO:' "$out.err") INFO log lines, bocpy prints 92"; status=1; continue
    fi
    if [[ "$compare" == yes && -n "$PEER" ]]; then
      [[ -f "$WORK/bocpy-${prog%.py}.out" ]] || run bocpy "$WORK/bocpy-${prog%.py}" "$prog" $args
      if ! diff <(comparable "$out.out") <(comparable "$WORK/bocpy-${prog%.py}.out") > "$out.diff"; then
        echo "examples: FAIL $prog ($mode): output differs from bocpy's"; head -n 5 "$out.diff"; status=1; continue
      fi
    fi
    echo "examples: OK $prog ($mode)"
  done
done
for mode in runner python; do
  out="$WORK/$mode-boids"
  case $mode in
    runner) "$RUNNER" "$ROOT/tests/conformance/boids_headless.py" "$EX" 5 ;;
    python) PYTHONPATH="$BUILD/python" "$PYTHON" "$ROOT/tests/conformance/boids_headless.py" "$EX" 5 ;;
  esac > "$out.out" 2> "$out.err"
  check "boids.py Simulation ($mode)" "$out" $? && echo "examples: OK boids.py Simulation ($mode): $(cat "$out.out")"
done
exit $status
