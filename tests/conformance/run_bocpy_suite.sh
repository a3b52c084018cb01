#!/usr/bin/env bash
# tests/conformance/run_bocpy_suite.sh [build-dir] — bocpy 0.13.0's own test
# suite against this project, in both modes: under the `bocpy` runner and
# under a stock CPython importing build/<preset>/python/bocpy. Prints the
# per-file tables and fails when fewer tests pass than the floors in
# tests/conformance/floors.txt (raise them as the project improves; README,
# "Conformance with bocpy 0.13.0", lists what still fails and why).
#
# The suite comes from the shared peer folder: $BOC_SHARED (default
# <repo>/../shared) holds peer/bocpy-0.13.0 and tools/bocpy-compat. Without
# it the stage says it skipped and exits 0.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/release}" 2>/dev/null && pwd) || { echo "conformance: no build dir ${1:-}" >&2; exit 1; }
SHARED=${BOC_SHARED:-$ROOT/../shared}
PEER=$SHARED/peer/bocpy-0.13.0
COMPAT=$SHARED/tools/bocpy-compat
FLOORS=$ROOT/tests/conformance/floors.txt

if [[ ! -d "$PEER/test" || ! -x "$COMPAT" ]]; then
  echo "conformance: SKIPPED (no bocpy peer suite at $PEER; set BOC_SHARED to the folder holding peer/ and tools/)"
  exit 0
fi
RUNNER=$BUILD/runtime/tools/bocpy
PKG=$BUILD/python
PYTHON=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null | head -n1)
[[ -x "$RUNNER" && -d "$PKG/bocpy" && -x "$PYTHON" ]] || { echo "conformance: build $BUILD first (runner, python/bocpy)" >&2; exit 1; }

floor() { awk -v k="$1" '$1 == k { print $2 }' "$FLOORS"; }
# The suite without test_matrix.py (the drop-in floor) and test_matrix.py alone.
SUITE=(test_boc.py test_pinned_pump.py test_noticeboard.py test_message_queue.py test_scheduling_stress.py
  test_scheduler_stats.py test_scheduler_steal.py test_scheduler_integration.py test_stop_retry_composition.py
  test_transpiler.py test_registry.py test_public_c_abi.py test_version.py)

status=0
run() {   # run <label> <floor key> <compat args...>
  local label=$1 key=$2 out passed want; shift 2
  echo "== conformance: $label"
  out=$(cd "$ROOT" && "$COMPAT" --timeout 600 "$@" 2>&1)
  echo "$out" | sed -n '/^file /,$p'
  passed=$(echo "$out" | sed -n 's/^compat: \([0-9]*\) passed.*/\1/p' | tail -n1)
  want=$(floor "$key")
  if [[ -z "$passed" || -z "$want" || "$passed" -lt "$want" ]]; then
    echo "conformance: $label FAILED: ${passed:-no} tests passed, floor $want ($FLOORS: $key)"
    status=1
  else
    echo "conformance: $label OK: $passed passed (floor $want)"
  fi
}
run "runner, suite" runner.suite --runner "$RUNNER" "${SUITE[@]}"
run "stock python, suite" python.suite --python "$PYTHON" --pythonpath "$PKG" "${SUITE[@]}"
run "runner, test_matrix.py" runner.matrix --runner "$RUNNER" test_matrix.py
run "stock python, test_matrix.py" python.matrix --python "$PYTHON" --pythonpath "$PKG" test_matrix.py
exit $status
