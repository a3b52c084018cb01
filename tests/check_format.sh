#!/usr/bin/env bash
# tests/check_format.sh [--fix] — every C++ file git tracks against the repo's
# .clang-format, with Debian's clang-format (the package tests/install_deps.sh
# installs). Prints the files that differ and exits 1; --fix rewrites them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v clang-format >/dev/null || { echo "check_format: clang-format not found (Debian package clang-format)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.hpp' '*.cc')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i --style=file "${files[@]}"
  echo "check_format: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --style=file --dry-run -Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -ne 0 ]]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files differ from .clang-format ($(clang-format --version)):"
  printf '  %s\n' "${bad[@]}"
  echo "check_format: run tests/check_format.sh --fix"
  exit 1
fi
echo "check_format: OK, ${#files[@]} files match .clang-format ($(clang-format --version))"
