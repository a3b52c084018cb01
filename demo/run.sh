#!/usr/bin/env bash
# demo/run.sh — build and run the boids demo (README "Quick start").
#
#   demo/run.sh [demo args...]
#
# Installs missing Debian packages (tests/install_deps.sh; needs root), builds the
# `release` preset's boids_demo target, then:
#   * with a usable $DISPLAY: runs the interactive window, passing your arguments;
#   * otherwise: renders headless under Xvfb
#       --headless --frames 300 --screenshot build/release/boids_demo.png [your args]
#     and prints where the PNG is.
# Set BOC_DEMO_HEADLESS=1 to force the headless path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

"$ROOT/tests/install_deps.sh"

JOBS=$(nproc 2>/dev/null || echo 2)
cmake --preset release
cmake --build --preset release --target boids_demo -j "$JOBS"

DEMO="$ROOT/build/release/demo/boids_demo"
if [[ ! -x "$DEMO" ]]; then
  echo "demo/run.sh: $DEMO was not built" >&2
  exit 1
fi

# Is $DISPLAY set and does an X server answer on it?
display_usable() {
  [[ -n "${DISPLAY:-}" ]] || return 1
  if command -v xdpyinfo >/dev/null 2>&1; then
    xdpyinfo >/dev/null 2>&1
    return
  fi
  if [[ "$DISPLAY" =~ ^(unix)?:([0-9]+)(\.[0-9]+)?$ ]]; then
    [[ -S "/tmp/.X11-unix/X${BASH_REMATCH[2]}" ]]
    return
  fi
  return 0   # remote display (e.g. ssh -X): let GLFW try
}

if [[ "${BOC_DEMO_HEADLESS:-0}" != 1 ]] && display_usable; then
  echo "demo/run.sh: DISPLAY=$DISPLAY: starting the interactive demo"
  exec "$DEMO" "$@"
fi

SHOT="$ROOT/build/release/boids_demo.png"
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "demo/run.sh: no usable display and no xvfb-run (Debian package xvfb)" >&2
  exit 1
fi
echo "demo/run.sh: no usable display (DISPLAY=${DISPLAY:-<unset>}); rendering headless under Xvfb"
rm -f "$SHOT"
status=0
xvfb-run -a -s "-screen 0 1280x720x24" "$DEMO" --headless --frames 300 --screenshot "$SHOT" "$@" || status=$?
if [[ $status -eq 0 && -f "$SHOT" ]]; then
  echo "demo/run.sh: screenshot written to $SHOT"
else
  echo "demo/run.sh: the headless demo failed (exit $status)" >&2
  exit $(( status == 0 ? 1 : status ))
fi
