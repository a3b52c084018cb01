#!/usr/bin/env bash
# Install the Debian packages the build, the tests and the headless demo need.
#
# Usage: tests/install_deps.sh [--check]
#   Checks every package with dpkg-query. If some are missing and we are root,
#   runs apt-get update + apt-get install for exactly those; otherwise prints the
#   apt line and exits 1. With --check, only reports (exit 1 when missing).
# Shared by tests/run.sh and demo/run.sh; may also be sourced (then call
# boc_install_deps). README "Quick start" lists what they are for.
set -euo pipefail

BOC_DEB_PACKAGES=(
  build-essential cmake pkg-config
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libglfw3-dev libimgui-dev libstb-dev python3-glad libegl-dev libopengl-dev
  xvfb xauth libgl1-mesa-dri libglx-mesa0 libegl-mesa0 xdotool nlohmann-json3-dev libcli11-dev
  python3-pytest clang-format
)

# Prints the packages that are not installed, one per line.
boc_missing_packages() {
  local p status
  for p in "${BOC_DEB_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
      echo "$p"
    fi
  done
}

boc_install_deps() {
  local check_only=${1:-}
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install_deps: dpkg-query not found; this project targets Debian 12 (bookworm)." >&2
    echo "install_deps: install the equivalents of: ${BOC_DEB_PACKAGES[*]}" >&2
    return 1
  fi
  local missing
  mapfile -t missing < <(boc_missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_deps: all ${#BOC_DEB_PACKAGES[@]} Debian packages are installed"
    return 0
  fi
  local apt_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  echo "install_deps: missing Debian packages: ${missing[*]}"
  if [[ "$check_only" == "--check" ]]; then
    echo "install_deps: install them with:  $apt_line" >&2
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "install_deps: not root; install them with:" >&2
    echo "  sudo sh -c '$apt_line'" >&2
    return 1
  fi
  echo "install_deps: + $apt_line"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  mapfile -t missing < <(boc_missing_packages)
  if [[ ${#missing[@]} -ne 0 ]]; then
    echo "install_deps: still missing after apt-get install: ${missing[*]}" >&2
    return 1
  fi
  echo "install_deps: installed all missing packages"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  boc_install_deps "$@"
fi
