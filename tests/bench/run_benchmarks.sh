#!/usr/bin/env bash
# Runs every benchmark of the project and prints their numbers (nothing here
# asserts a time). Usage: tests/bench/run_benchmarks.sh [build-dir]
# (default build/release; build it first, e.g. with tests/run.sh --quick).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build/release}
X=()
if [[ -z "${DISPLAY:-}" ]] && command -v xvfb-run > /dev/null; then
  X=(xvfb-run -a -s "-screen 0 1280x720x24")
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== core runtime (Google Benchmark, medians of 5)"
"$BUILD/tests/bench/core_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  2>&1 | grep -E "_median|^Benchmark"
echo "== bocpy runtime (tests/bench/python_bench.py)"
"$BUILD/runtime/tools/bocpy" "$ROOT/tests/bench/python_bench.py"
echo "== Matrix operations of a flock cell vs plain Python loops"
"$BUILD/tests/matrix/matrix_bench"
echo "== boids_demo --headless --bench"
"${X[@]}" "$BUILD/demo/boids_demo" --headless --bench
