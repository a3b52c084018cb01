// matrix_bench: embeds CPython with `bocpy._math` registered and runs
// tests/matrix/matrix_bench.py, which times the Matrix operations of a flock
// cell against the same computation written as plain Python loops and
// prints the ratios. Not a ctest. Extra arguments (e.g. --quick) are passed
// to the script.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdio>
#include <string>
#include <vector>

#include "matrix_python.h"

#ifndef BOC_MATRIX_BENCH_PY
#error "BOC_MATRIX_BENCH_PY must name tests/matrix/matrix_bench.py"
#endif

int main(int argc, char** argv) {
  const std::string error = boc::matrix_test::start_python();
  if (!error.empty()) {
    std::fprintf(stderr, "matrix_bench: %s\n", error.c_str());
    return 2;
  }
  const int rc = boc::matrix_test::run_script(BOC_MATRIX_BENCH_PY, std::vector<std::string>(argv + 1, argv + argc));
  if (Py_FinalizeEx() < 0) {
    return 3;
  }
  return rc < 0 ? 1 : rc;
}
