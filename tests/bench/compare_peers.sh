#!/usr/bin/env bash
# Runs the core runtime beside its peers in one run and prints one table of
# ours / peer throughput ratios (medians and ranges). Nothing here asserts a time.
#
# Usage: tests/bench/compare_peers.sh [--reps N] [--cores "1 2"] [--build DIR] [--py-build DIR]
#                                     [--only verona|python|all] [--quick]
#                                     [--max-steal PCT] [--retries N]
#   --reps N     pairs per row (default 5); each pair runs the peer and ours back
#                to back, interleaved, with the capacity tool run just before it
#   --cores L    worker counts (default "1 2")
#   --build DIR  our build directory (default build/bench; configured and built here)
#   --py-build DIR  our build with Python for the bocpy rows (default build/bench-py)
#   --only W     verona | python | all (default): which peer rows to run
#   --quick      1 rep and smaller workloads (a smoke run, not a measurement)
#   --max-steal PCT  a pair (or triple) during which the hypervisor stole more
#                than PCT % of the VM's CPU time (/proc/stat "steal") is run
#                again, up to --retries times (default 12 %, 0 = never); the
#                last attempt is kept either way and its steal is in the table
#   --retries N  re-runs per pair for --max-steal (default 3)
#
# Peers (skipped with a message when their folder is absent):
#   verona-rt    ../shared/peer/verona-rt, built once into build/verona-peer by
#                ../shared/tools/build-verona-peer; its test/perf banking and
#                schedule binaries against our ports (tests/bench/peer_*.cpp)
#                with the same arguments.
#   bocpy        ../shared/peer/bocpy-0.13.0: its example benchmarks under real
#                bocpy and under ours (python_rows below).
# Throughput is behaviors per second of the whole process (wall clock, same for
# both sides): banking runs 3 behaviors per transfer (transfer, log, next job
# step), schedule 20 rounds x cowns x loops.
# capacity (../shared/tools/capacity) says how many of the cores are really free
# (2.0 = both); read every scaling figure beside it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${BOC_SHARED:-$ROOT/../shared}
REPS=5
CORES="1 2"
BUILD=$ROOT/build/bench
PYBUILD=$ROOT/build/bench-py
QUICK=0
ONLY=all
MAX_STEAL=12
RETRIES=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --py-build) PYBUILD=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --quick) QUICK=1; REPS=1; shift ;;
    --max-steal) MAX_STEAL=$2; shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
    *) sed -n 2,20p "$0"; exit 2 ;;
  esac
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)
echo "== machine: $(nproc) cores, $cpu, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Our side: a Release build of the core and its benchmarks only.
if [[ $ONLY != python ]]; then
  echo "== building ours in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBOC_WITH_PYTHON=OFF -DBOC_WITH_DEMO=OFF \
    -DBOC_WITH_BENCH=ON > "$BUILD.configure.log" 2>&1 || { tail -20 "$BUILD.configure.log"; exit 1; }
  cmake --build "$BUILD" -j"$(nproc)" --target peer_banking peer_schedule > "$BUILD.build.log" 2>&1 ||
    { tail -20 "$BUILD.build.log"; exit 1; }
fi
OURS=$BUILD/tests/bench

CAPACITY=$SHARED/tools/capacity
if [[ ! -x "$CAPACITY" ]]; then
  echo "== capacity tool not found at $CAPACITY: capacity columns stay empty"
  CAPACITY=""
fi

SAMPLES=$(mktemp)
trap 'rm -f "$SAMPLES"' EXIT

# now_ns: monotonic-enough wall clock for whole-process timing.
now_ns() { date +%s%N; }

# time_run OUT_VAR CMD...: runs CMD with output discarded, stores seconds.
time_run() {
  local __out=$1; shift
  local t0 t1
  t0=$(now_ns)
  "$@" > /dev/null 2>&1 || { echo "!! failed: $*" >&2; return 1; }
  t1=$(now_ns)
  printf -v "$__out" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')"
}

# Steal: CPU time the hypervisor gave to other guests while this VM wanted it.
# On this image's VMs it comes in bursts that slow one side of a pair by tens
# of percent, so each pair records it and a pair with too much runs again.
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
steal_ticks() { awk '$1 == "cpu" { print $9; exit }' /proc/stat; }
# steal_begin / steal_end OUT_VAR: percent of the CPU time between the two
# calls that was stolen.
steal_begin() { STEAL_T0=$(now_ns); STEAL_S0=$(steal_ticks); }
steal_end() {
  local t1 s1
  t1=$(now_ns); s1=$(steal_ticks)
  printf -v "$1" '%s' "$(awk -v t0="$STEAL_T0" -v t1="$t1" -v s0="$STEAL_S0" -v s1="$s1" -v hz="$CLK_TCK" -v n="$NCPU" \
    'BEGIN { w = (t1 - t0) / 1e9 * hz * n; printf "%.1f", (w > 0 ? 100 * (s1 - s0) / w : 0) }')"
}
# with_steal_retries MEASURE REPORT: runs MEASURE (one pair or triple) with
# the capacity tool before it, sets $cap and $steal, runs REPORT (prints the
# attempt), and repeats while the steal was above --max-steal, at most
# --retries more times. The last attempt is kept. MEASURE and REPORT read and
# set the calling row function's locals (bash's dynamic scope).
with_steal_retries() {
  local attempt
  for ((attempt = 0; ; ++attempt)); do
    cap=$(capacity_now)
    steal_begin
    "$1"
    steal_end steal
    "$2"
    awk -v s="$steal" -v m="$MAX_STEAL" 'BEGIN { exit !(m > 0 && s > m) }' && ((attempt < RETRIES)) || break
    echo "     (steal above $MAX_STEAL%: again)"
  done
}

capacity_now() {
  [[ -n "$CAPACITY" ]] || { echo "nan"; return; }
  "$CAPACITY" | sed -n 's/^capacity=\([0-9.]*\).*/\1/p'
}

# ---------------------------------------------------------------- verona-rt
# One pair of verona_rows (its locals rep, c, args, peer_bin, ours_bin; sets
# tp and to). Alternates which side goes first so drift in the machine's load
# does not always favour the same side.
verona_pair() {
  # shellcheck disable=SC2086
  if ((rep % 2)); then
    time_run tp "$peer_bin" --cores "$c" $args
    time_run to "$ours_bin" --cores "$c" $args
  else
    time_run to "$ours_bin" --cores "$c" $args
    time_run tp "$peer_bin" --cores "$c" $args
  fi
}
verona_report() {
  printf '   rep %d %-13s cores=%s capacity=%s steal=%s%%  verona %.3fs  ours %.3fs\n' "$rep" "$name" "$c" "$cap" \
    "$steal" "$tp" "$to"
}

verona_rows() {
  local peer=$SHARED/peer/verona-rt
  if [[ ! -d "$peer" ]]; then
    echo "== verona-rt: skipped ($peer is absent)"
    return 0
  fi
  local vdir=$ROOT/build/verona-peer
  local vbank=$vdir/build/test/perf-con-banking vsched=$vdir/build/test/perf-con-schedule
  if [[ ! -x "$vbank" || ! -x "$vsched" ]]; then
    echo "== building verona-rt's perf binaries in $vdir (once)"
    "$SHARED/tools/build-verona-peer" "$vdir" perf-con-banking perf-con-schedule > /dev/null ||
      { echo "== verona-rt: skipped (build failed)"; return 0; }
  fi
  local trans0=2000000 trans10=200000 loops=2000
  if [[ $QUICK -eq 1 ]]; then trans0=200000; trans10=20000; loops=200; fi
  # name | behaviors | arguments (identical for both sides)
  local rows=(
    "banking_0us|$((3 * trans0))|--num_trans $trans0 --work_usec 0 --accounts 36"
    "banking_10us|$((3 * trans10))|--num_trans $trans10 --work_usec 10 --accounts 36"
    "schedule|$((20 * 256 * loops))|--cowns 8 --loops $loops"
  )
  echo "== verona-rt vs ours: $REPS interleaved pairs per row, cores: $CORES"
  local rep row name beh args c cap tp to ours_bin peer_bin steal
  for ((rep = 1; rep <= REPS; ++rep)); do
    for row in "${rows[@]}"; do
      IFS='|' read -r name beh args <<< "$row"
      case $name in
        banking*) peer_bin=$vbank; ours_bin=$OURS/peer_banking ;;
        schedule) peer_bin=$vsched; ours_bin=$OURS/peer_schedule ;;
      esac
      for c in $CORES; do
        with_steal_retries verona_pair verona_report
        echo "verona-rt $name $c $beh $tp $to $cap $steal" >> "$SAMPLES"
      done
    done
  done
}

# ------------------------------------------------------------- python rows
# bocpy's own benchmarks, each run under real bocpy 0.13.0 (built once into
# build/bocpy-peer by ../shared/tools/build-bocpy-peer) and under this
# project twice: stock python importing $PYBUILD/python ("NAME") and the
# runner $PYBUILD/runtime/tools/bocpy ("NAME@runner"). The three runs of a
# rep go back to back in a rotating order, with the capacity tool before
# them. Rows: chain_ring (examples/benchmark.py --null-payload), fanout
# (examples/fanout_benchmark.py, width 8), boids2000 (examples/boids.py
# Simulation stepped headless by tests/bench/boids_sim_driver.py, frames/s
# as "behaviors"/s) and pump (tests/bench/pump_bench.py: one pump() draining
# N pinned behaviors). The example scripts run unmodified
# (tests/bench/run_example.py only fills in a missing
# _core.physical_cpu_count). Throughputs come from the programs' own timers,
# written as seconds per BEHAVIORS so the table's ratio is ours/bocpy.

# py_seconds OUT_VAR ROW CORES -- ENV... : runs row ROW's program with the
# given environment/launcher and stores the seconds its timer reports for
# the row's behavior count ($PY_BEH).
py_seconds() {
  local __out=$1 row=$2 c=$3; shift 4
  local out val
  case $row in
    chain_ring) out=$("$@" "$HERE/run_example.py" "$EXAMPLES/benchmark.py" --json-stdout --workers "$c" \
                  --duration "$PY_DURATION" --warmup 0.5 --null-payload 2> /dev/null) || return 1
                val=$(grep -o '"throughput": [0-9.e+]*' <<< "$out" | head -1 | awk '{ printf "%.6f", 1e6 / $2 }') ;;
    fanout) out=$("$@" "$HERE/run_example.py" "$EXAMPLES/fanout_benchmark.py" --json-stdout --workers "$c" \
              --fanout-width 8 --producer-steps "$PY_STEPS" 2> /dev/null) || return 1
            val=$(grep -o '"throughput": [0-9.e+]*' <<< "$out" | head -1 | awk '{ printf "%.6f", 1e6 / $2 }') ;;
    boids2000) out=$("$@" "$HERE/boids_sim_driver.py" --boids 2000 --workers "$c" --frames "$PY_FRAMES" 2> /dev/null) ||
                 return 1
               val=$(grep -o '"seconds": [0-9.e+]*' <<< "$out" | head -1 | awk '{ print $2 }') ;;
    pump) out=$("$@" "$HERE/pump_bench.py" --n "$PY_PUMP_N" 2> /dev/null) || return 1
          val=$(grep -o '"drain_seconds": [0-9.e+]*' <<< "$out" | head -1 | awk '{ print $2 }') ;;
  esac
  [[ -n "$val" ]] || { echo "!! $row: no measurement in the output" >&2; return 1; }
  printf -v "$__out" '%s' "$val"
}

# One triple of python_rows (its locals rep, name, c, py, runner and the
# paths; sets tp, ts and tr, empty for a failed run). Rotates who goes first
# so load drift does not favour one side.
python_triple() {
  local k
  tp="" ts="" tr=""
  for k in 0 1 2; do
    case $(((k + rep) % 3)) in
      0) py_seconds tp "$name" "$c" -- env PYTHONPATH="$peer_path:$EXAMPLES" "$py" || tp="" ;;
      1) py_seconds ts "$name" "$c" -- env PYTHONPATH="$ours_path:$EXAMPLES" "$py" || ts="" ;;
      2) py_seconds tr "$name" "$c" -- env PYTHONPATH="$EXAMPLES" "$runner" || tr="" ;;
    esac
  done
}
python_report() {
  printf '   rep %d %-11s cores=%s capacity=%s steal=%s%%  bocpy %ss  ours %ss  runner %ss\n' "$rep" "$name" "$c" "$cap" \
    "$steal" "${tp:-fail}" "${ts:-fail}" "${tr:-fail}"
}

python_rows() {
  local peer_src=$SHARED/peer/bocpy-0.13.0
  if [[ ! -d "$peer_src" || ! -x "$SHARED/tools/build-bocpy-peer" ]]; then
    echo "== bocpy: skipped ($peer_src or the build-bocpy-peer tool is absent)"
    return 0
  fi
  HERE=$ROOT/tests/bench
  EXAMPLES=$peer_src/examples
  local pdir=$ROOT/build/bocpy-peer
  if [[ ! -f "$pdir/env.txt" ]]; then
    echo "== building real bocpy 0.13.0 in $pdir (once)"
    mkdir -p "$(dirname "$pdir")"
    "$SHARED/tools/build-bocpy-peer" "$pdir" | tail -1 > "$pdir.env.tmp" ||
      { echo "== bocpy: skipped (build failed)"; return 0; }
    mkdir -p "$pdir" && mv "$pdir.env.tmp" "$pdir/env.txt"
  fi
  # "PYTHONPATH=<src> <python>"
  local peer_path py
  peer_path=$(sed -n 's/^PYTHONPATH=\([^ ]*\) .*/\1/p' "$pdir/env.txt")
  py=$(sed -n 's/^PYTHONPATH=[^ ]* \(.*\)$/\1/p' "$pdir/env.txt")
  [[ -d "$peer_path" && -x "$py" ]] || { echo "== bocpy: skipped (bad $pdir/env.txt)"; return 0; }
  echo "== building ours (bocpy) in $PYBUILD"
  cmake -S "$ROOT" -B "$PYBUILD" -DCMAKE_BUILD_TYPE=Release -DBOC_WITH_PYTHON=ON -DBOC_WITH_DEMO=OFF \
    -DPython3_EXECUTABLE="$py" > "$PYBUILD.configure.log" 2>&1 || { tail -20 "$PYBUILD.configure.log"; return 1; }
  cmake --build "$PYBUILD" -j"$(nproc)" --target bocpy bocpy_package > "$PYBUILD.build.log" 2>&1 ||
    { tail -20 "$PYBUILD.build.log"; return 1; }
  local runner=$PYBUILD/runtime/tools/bocpy ours_path=$PYBUILD/python
  PY_DURATION=3 PY_STEPS=4000 PY_FRAMES=40 PY_PUMP_N=20000
  if [[ $QUICK -eq 1 ]]; then PY_DURATION=1 PY_STEPS=200 PY_FRAMES=5 PY_PUMP_N=2000; fi
  # name | behaviors the seconds are for | cores to run
  local rows=("chain_ring|1000000|$CORES" "fanout|1000000|$CORES" "boids2000|$PY_FRAMES|$CORES" "pump|$PY_PUMP_N|1")
  echo "== bocpy 0.13.0 vs ours (stock python / runner): $REPS interleaved triples per row, cores: $CORES"
  local rep row name beh cores c cap tp ts tr steal
  for ((rep = 1; rep <= REPS; ++rep)); do
    for row in "${rows[@]}"; do
      IFS='|' read -r name beh cores <<< "$row"
      for c in $cores; do
        with_steal_retries python_triple python_report
        [[ -n "$tp" && -n "$ts" ]] && echo "bocpy $name $c $beh $tp $ts $cap $steal" >> "$SAMPLES"
        [[ -n "$tp" && -n "$tr" ]] && echo "bocpy $name@runner $c $beh $tp $tr $cap $steal" >> "$SAMPLES"
      done
    done
  done
}

# ------------------------------------------------------------------ table
print_table() {
  [[ -s "$SAMPLES" ]] || { echo "== no rows measured"; return 0; }
  echo
  echo "== ours / peer (throughput = behaviors per second; median [min-max] over pairs)"
  awk '
    function median(arr, n,   i, j, t) {
      for (i = 2; i <= n; ++i) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; --j) arr[j + 1] = arr[j]; arr[j + 1] = t }
      return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
    }
    function stats(key, kind,   n, i, a, lo, hi) {
      n = cnt[key]; lo = 1e300; hi = -1e300
      for (i = 1; i <= n; ++i) { a[i] = val[key, kind, i]; if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
      S_med = median(a, n); S_lo = lo; S_hi = hi
    }
    {
      key = $1 SUBSEP $2 SUBSEP $3
      if (!(key in cnt)) { order[++nk] = key; peer[key] = $1; name[key] = $2; cores[key] = $3 }
      i = ++cnt[key]
      val[key, "peer", i] = $4 / $5 / 1e6
      val[key, "ours", i] = $4 / $6 / 1e6
      val[key, "ratio", i] = $5 / $6
      val[key, "cap", i] = ($7 == "nan") ? 0 : $7
      val[key, "steal", i] = $8
    }
    END {
      printf "%-10s %-17s %5s | %-22s | %-22s | %-19s | %-17s | %s\n", "peer", "workload", "cores", "peer M beh/s", "ours M beh/s", "ours/peer", "capacity", "steal %"
      for (k = 1; k <= nk; ++k) {
        key = order[k]
        stats(key, "peer"); pm = S_med; pl = S_lo; ph = S_hi
        stats(key, "ours"); om = S_med; ol = S_lo; oh = S_hi
        stats(key, "ratio"); rm = S_med; rl = S_lo; rh = S_hi
        stats(key, "cap"); cm = S_med; cl = S_lo; ch = S_hi
        stats(key, "steal"); sm = S_med; sh = S_hi
        printf "%-10s %-17s %5s | %6.4f [%6.4f-%6.4f] | %6.4f [%6.4f-%6.4f] | %4.2f [%4.2f-%4.2f] | %4.2f [%4.2f-%4.2f] | %4.1f max %4.1f n=%d\n",
          peer[key], name[key], cores[key], pm, pl, ph, om, ol, oh, rm, rl, rh, cm, cl, ch, sm, sh, cnt[key]
        med_p[peer[key], name[key], cores[key]] = pm; med_o[peer[key], name[key], cores[key]] = om
        have[peer[key], name[key]] = 1
      }
      print ""
      print "== 2-vs-1 worker scaling (median throughput at 2 / at 1)"
      for (pk in have) {
        split(pk, parts, SUBSEP)
        if (((parts[1], parts[2], 1) in med_p) && ((parts[1], parts[2], 2) in med_p))
          printf "%-10s %-17s  peer %.2f  ours %.2f\n", parts[1], parts[2],
            med_p[parts[1], parts[2], 2] / med_p[parts[1], parts[2], 1], med_o[parts[1], parts[2], 2] / med_o[parts[1], parts[2], 1]
      }
    }' "$SAMPLES"
}

[[ $ONLY == python ]] || verona_rows
[[ $ONLY == verona ]] || python_rows
print_table
