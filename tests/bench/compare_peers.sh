#!/usr/bin/env bash
# Runs the core runtime beside its peers in one run and prints one table of
# ours / peer throughput ratios (medians and ranges). Nothing here asserts a time.
#
# Usage: tests/bench/compare_peers.sh [--reps N] [--cores "1 2"] [--build DIR] [--quick]
#   --reps N     pairs per row (default 5); each pair runs the peer and ours back
#                to back, interleaved, with the capacity tool run just before it
#   --cores L    worker counts (default "1 2")
#   --build DIR  our build directory (default build/bench; configured and built here)
#   --quick      1 rep and smaller workloads (a smoke run, not a measurement)
#
# Peers (skipped with a message when their folder is absent):
#   verona-rt    ../shared/peer/verona-rt, built once into build/verona-peer by
#                ../shared/tools/build-verona-peer; its test/perf banking and
#                schedule binaries against our ports (tests/bench/peer_*.cpp)
#                with the same arguments.
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
QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --quick) QUICK=1; REPS=1; shift ;;
    *) sed -n 2,12p "$0"; exit 2 ;;
  esac
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)
echo "== machine: $(nproc) cores, $cpu, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Our side: a Release build of the core and its benchmarks only.
echo "== building ours in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBOC_WITH_PYTHON=OFF -DBOC_WITH_DEMO=OFF \
  -DBOC_WITH_BENCH=ON > "$BUILD.configure.log" 2>&1 || { tail -20 "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target peer_banking peer_schedule > "$BUILD.build.log" 2>&1 ||
  { tail -20 "$BUILD.build.log"; exit 1; }
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

capacity_now() {
  [[ -n "$CAPACITY" ]] || { echo "nan"; return; }
  "$CAPACITY" | sed -n 's/^capacity=\([0-9.]*\).*/\1/p'
}

# ---------------------------------------------------------------- verona-rt
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
  local rep row name beh args c cap tp to ours_bin peer_bin
  for ((rep = 1; rep <= REPS; ++rep)); do
    for row in "${rows[@]}"; do
      IFS='|' read -r name beh args <<< "$row"
      case $name in
        banking*) peer_bin=$vbank; ours_bin=$OURS/peer_banking ;;
        schedule) peer_bin=$vsched; ours_bin=$OURS/peer_schedule ;;
      esac
      for c in $CORES; do
        cap=$(capacity_now)
        # Alternate which side goes first so drift in the machine's load
        # does not always favour the same side.
        # shellcheck disable=SC2086
        if ((rep % 2)); then
          time_run tp "$peer_bin" --cores "$c" $args
          time_run to "$ours_bin" --cores "$c" $args
        else
          time_run to "$ours_bin" --cores "$c" $args
          time_run tp "$peer_bin" --cores "$c" $args
        fi
        echo "verona-rt $name $c $beh $tp $to $cap" >> "$SAMPLES"
        printf '   rep %d %-13s cores=%s capacity=%s  verona %.3fs  ours %.3fs\n' "$rep" "$name" "$c" "$cap" "$tp" "$to"
      done
    done
  done
}

# ------------------------------------------------------------- python rows
# Rows for the bocpy side (bocpy benchmarks beside real bocpy) are added here
# by the Python layer's owners; they append lines to "$SAMPLES" in the same
# format ("PEER NAME CORES BEHAVIORS PEER_SECONDS OURS_SECONDS CAPACITY") to
# join the table below.
python_rows() {
  echo "== python rows: see tests/bench/python_bench.py (not part of this table yet)"
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
    }
    END {
      printf "%-10s %-13s %5s | %-22s | %-22s | %-19s | %s\n", "peer", "workload", "cores", "peer M beh/s", "ours M beh/s", "ours/peer", "capacity"
      for (k = 1; k <= nk; ++k) {
        key = order[k]
        stats(key, "peer"); pm = S_med; pl = S_lo; ph = S_hi
        stats(key, "ours"); om = S_med; ol = S_lo; oh = S_hi
        stats(key, "ratio"); rm = S_med; rl = S_lo; rh = S_hi
        stats(key, "cap"); cm = S_med; cl = S_lo; ch = S_hi
        printf "%-10s %-13s %5s | %6.2f [%6.2f-%6.2f] | %6.2f [%6.2f-%6.2f] | %4.2f [%4.2f-%4.2f] | %4.2f [%4.2f-%4.2f] n=%d\n",
          peer[key], name[key], cores[key], pm, pl, ph, om, ol, oh, rm, rl, rh, cm, cl, ch, cnt[key]
        med_p[peer[key], name[key], cores[key]] = pm; med_o[peer[key], name[key], cores[key]] = om
        have[peer[key], name[key]] = 1
      }
      print ""
      print "== 2-vs-1 worker scaling (median throughput at 2 / at 1)"
      for (pk in have) {
        split(pk, parts, SUBSEP)
        if (((parts[1], parts[2], 1) in med_p) && ((parts[1], parts[2], 2) in med_p))
          printf "%-10s %-13s  peer %.2f  ours %.2f\n", parts[1], parts[2],
            med_p[parts[1], parts[2], 2] / med_p[parts[1], parts[2], 1], med_o[parts[1], parts[2], 2] / med_o[parts[1], parts[2], 1]
      }
    }' "$SAMPLES"
}

verona_rows
python_rows
print_table
