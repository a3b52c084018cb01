#!/usr/bin/env bash
# tests/run.sh — the project's test command (README "Quick start").
#
#   tests/run.sh                  release (everything, under one Xvfb) + tsan + asan (core only)
#                                 + asan-python (ASan/UBSan over the core and the Python layer)
#                                 + odr (LTO link of the runner with -Werror=odr, build only)
#                                 + systematic (core tests under a seeded scheduler + TSan, 200 seeds)
#   tests/run.sh --quick          release only
#   tests/run.sh --preset NAME    only that preset (release, debug, asan, tsan, asan-python, odr, systematic)
#   tests/run.sh --no-deps        skip the Debian package check/installation
#   first: tests/check_format.sh (every C++ file against .clang-format)
#   after release: bocpy 0.13.0's own suite in both modes (tests/conformance/), when ../shared has it
#   BOC_TSAN_SETARCH=1|0          force / forbid `setarch -R` for tsan and systematic (default: probe)
#
# 1. Installs missing Debian packages (tests/install_deps.sh; needs root, otherwise it
#    prints the apt line and stops).
# 2. For each preset: cmake --preset, cmake --build --preset -j$(nproc), ctest --preset.
#    Presets with the demo are tested under ONE Xvfb (xvfb-run) so the visual tests run.
#    The tsan stage runs under `setarch -R` (ASLR off) when a TSan probe shows this
#    kernel's mmap layout is incompatible ("unexpected memory mapping").
# 3. Prints a summary of every stage; exits non-zero if any stage failed. A ctest stage
#    only counts as passed if ctest printed "100% tests passed, 0 tests failed out of N".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

KNOWN_PRESETS=(release debug asan tsan asan-python odr systematic)
presets=(release tsan asan asan-python odr systematic)
install_deps=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) presets=(release) ;;
    --preset)
      [[ $# -ge 2 ]] || { echo "run.sh: --preset needs a name (${KNOWN_PRESETS[*]})" >&2; exit 2; }
      presets=("$2"); shift ;;
    --preset=*) presets=("${1#--preset=}") ;;
    --no-deps) install_deps=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for p in "${presets[@]}"; do
  if [[ ! " ${KNOWN_PRESETS[*]} " == *" $p "* ]]; then
    echo "run.sh: unknown preset '$p' (known: ${KNOWN_PRESETS[*]})" >&2
    exit 2
  fi
done

if [[ $install_deps -eq 1 ]]; then
  "$ROOT/tests/install_deps.sh"
fi

JOBS=$(nproc 2>/dev/null || echo 2)
SUMMARY=()   # one line per stage
FAILED=0

note() { printf '\n==== %s ====\n' "$*"; }
record() {   # record <preset> <stage> <OK|FAIL|SKIP> [detail]
  SUMMARY+=("$(printf '%-8s %-10s %-5s %s' "$1" "$2" "$3" "${4:-}")")
  [[ "$3" == "OK" ]] || FAILED=1
}

cache_value() {   # cache_value <build dir> <VAR>
  sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" 2>/dev/null | head -n1
}

# Decide how TSan binaries must be started on this kernel. Prints the wrapper words
# (empty, or "setarch <arch> -R"). GCC 12's TSan aborts with "FATAL: ThreadSanitizer:
# unexpected memory mapping" when vm.mmap_rnd_bits is high (e.g. 32); ASLR off fixes it.
tsan_wrapper() {
  local build=$1 cxx probe_dir out
  case "${BOC_TSAN_SETARCH:-auto}" in
    1|on|ON) echo "run.sh: BOC_TSAN_SETARCH=1: running TSan with ASLR off" >&2; echo "setarch $(uname -m) -R"; return 0 ;;
    0|off|OFF) return 0 ;;
  esac
  cxx=$(cache_value "$build" CMAKE_CXX_COMPILER)
  [[ -n "$cxx" ]] || cxx=c++
  probe_dir=$(mktemp -d)
  printf '#include <thread>\nint g;\nint main(){std::thread t([]{g=1;});t.join();return g-1;}\n' >"$probe_dir/p.cpp"
  if ! "$cxx" -std=c++20 -fsanitize=thread -O1 -g "$probe_dir/p.cpp" -o "$probe_dir/p" >"$probe_dir/log" 2>&1; then
    echo "run.sh: cannot build a TSan probe with $cxx:" >&2; cat "$probe_dir/log" >&2
    rm -rf "$probe_dir"; return 0
  fi
  if out=$("$probe_dir/p" 2>&1); then
    echo "run.sh: TSan probe runs natively" >&2
  elif setarch "$(uname -m)" -R "$probe_dir/p" >/dev/null 2>&1; then
    echo "run.sh: TSan probe failed natively ($(head -n1 <<<"$out")); running TSan under 'setarch $(uname -m) -R' (ASLR off)" >&2
    echo "setarch $(uname -m) -R"
  else
    echo "run.sh: TSan probe fails even with ASLR off: $out" >&2
  fi
  rm -rf "$probe_dir"
}

run_preset() {
  local preset=$1 build="$ROOT/build/$1" log wrapper=() rc
  note "configure: $preset"
  if cmake --preset "$preset"; then
    record "$preset" configure OK
  else
    record "$preset" configure FAIL; record "$preset" build SKIP; record "$preset" test SKIP
    return 0
  fi

  if [[ "$(cache_value "$build" BOC_SANITIZER)" == thread ]]; then   # tsan, systematic
    read -r -a wrapper <<<"$(tsan_wrapper "$build")"
  fi

  note "build: $preset (-j$JOBS)"
  if "${wrapper[@]}" cmake --build --preset "$preset" -j "$JOBS"; then
    record "$preset" build OK
  else
    record "$preset" build FAIL; record "$preset" test SKIP
    return 0
  fi

  # odr is a build-only check: the LTO link of the runner fails on an ODR violation.
  if [[ "$preset" == odr ]]; then
    record "$preset" test OK "build-only: LTO link with -Werror=odr passed"
    return 0
  fi

  # The demo's tests (and the visual tests) need an X server: one Xvfb for the whole ctest run.
  if [[ "$(cache_value "$build" BOC_WITH_DEMO)" == ON ]]; then
    if command -v xvfb-run >/dev/null 2>&1; then
      # -noreset: Xvfb otherwise resets when its last client leaves, and a demo
      # connecting during that reset fails with "cannot open display" (seen
      # between two UI tests: demo_ui.ctrl_q).
      wrapper=(xvfb-run -a -s "-screen 0 1280x720x24 -noreset" "${wrapper[@]}")
    else
      echo "run.sh: xvfb-run not found; GUI tests will report SKIPPED unless \$DISPLAY works" >&2
    fi
  fi
  note "test: $preset${wrapper:+ (under ${wrapper[*]})}"
  log="$build/ctest-run.log"
  set +e
  local ctest_args=()
  # systematic: 20 entries of 10 seeds each, independent processes.
  if [[ "$preset" == systematic ]]; then ctest_args=(-j "$JOBS"); fi
  "${wrapper[@]}" ctest --preset "$preset" "${ctest_args[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  if [[ $rc -eq 0 && "$line" == "100% tests passed, 0 tests failed out of "* ]]; then
    record "$preset" test OK "$line"
  else
    record "$preset" test FAIL "${line:-no ctest summary line (exit $rc; see $log)}"
    # A failing systematic seed prints the line that replays it.
    local repro
    while read -r repro; do
      if [[ -n "$repro" ]]; then SUMMARY+=("         $repro"); fi
    done < <(grep -h -o 'BOC_SYSTEMATIC_SEED=[0-9]* reproduces.*' "$log" | sed 's/ ([0-9]* hook points.*//' | sort -u | head -n 5 || true)
  fi
}

# One code style (.clang-format), before anything builds: cheap and independent.
note "format: tests/check_format.sh"
if "$ROOT/tests/check_format.sh"; then
  record all format OK "$(git -C "$ROOT" ls-files '*.cpp' '*.h' '*.hpp' '*.cc' | wc -l) C++ files match .clang-format"
else
  record all format FAIL "run tests/check_format.sh --fix"
fi

for p in "${presets[@]}"; do
  run_preset "$p"
done

# bocpy 0.13.0's own suite, runner and stock python, after the release build.
if [[ " ${presets[*]} " == *" release "* && "$(cache_value "$ROOT/build/release" BOC_WITH_EXTENSION)" != OFF ]]; then
  note "conformance: bocpy 0.13.0's suite (tests/conformance/run_bocpy_suite.sh)"
  set +e
  "$ROOT/tests/conformance/run_bocpy_suite.sh" "$ROOT/build/release" 2>&1 | tee "$ROOT/build/release/conformance.log"
  rc=${PIPESTATUS[0]}
  "$ROOT/tests/conformance/run_bocpy_examples.sh" "$ROOT/build/release" 2>&1 | tee -a "$ROOT/build/release/conformance.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
  set -e
  if grep -q '^conformance: SKIPPED' "$ROOT/build/release/conformance.log"; then
    record release conformance OK "skipped: no peer suite"
  elif [[ $rc -eq 0 ]]; then
    record release conformance OK "$(grep -c ' OK: ' "$ROOT/build/release/conformance.log") suite runs at or above their floors, $(grep -c '^examples: OK' "$ROOT/build/release/conformance.log") example runs OK"
  else
    record release conformance FAIL "a suite run below its floor (tests/conformance/floors.txt) or an example failed"
  fi
fi

note "summary"
printf '%s\n' "${SUMMARY[@]}"
if [[ $FAILED -ne 0 ]]; then
  echo "run.sh: FAILED"
  exit 1
fi
echo "run.sh: all stages passed"
