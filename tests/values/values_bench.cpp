// Micro-benchmark of parcel_encode / parcel_decode: ns per call for typical
// payloads, in the main interpreter. Not a test; run by hand:
//   build/.../tests/values/values_bench [min_ms_per_case [label_substring]]
#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "parcel.h"
#include "values_test_support.h"

namespace vt = boc::values_test;
using boc::py::Parcel;

namespace {

using Clock = std::chrono::steady_clock;

// Runs op in growing batches until min_ms elapsed; repeats 5 times and returns
// the best ns per op.
template <class Op>
double best_ns(Op&& op, double min_ms) {
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    std::size_t n = 64;
    while (true) {
      auto t0 = Clock::now();
      for (std::size_t i = 0; i < n; ++i) {
        if (!op()) {
          std::fprintf(stderr, "operation failed\n");
          PyErr_Print();
          std::exit(1);
        }
      }
      double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      if (ns >= min_ms * 1e6 / 5) {
        best = std::min(best, ns / static_cast<double>(n));
        break;
      }
      n *= 2;
    }
  }
  return best;
}

const char* g_filter = nullptr;

void bench(const char* label, const char* expr, double min_ms) {
  if (g_filter && !std::strstr(label, g_filter)) return;
  PyObject* v = vt::eval(expr);
  if (!v) {
    std::printf("%-28s  (skipped: %s)\n", label, vt::take_error().c_str());
    return;
  }
  Parcel p;
  double enc = best_ns([&] { return boc::py::parcel_encode(v, p); }, min_ms);
  double dec = best_ns(
      [&] {
        PyObject* o = boc::py::parcel_decode(p);
        Py_XDECREF(o);
        return o != nullptr;
      },
      min_ms);
  // pickle.dumps/loads of the same value, for comparison.
  PyObject* dumps = vt::eval("__import__('pickle').dumps");
  PyObject* loads = vt::eval("__import__('pickle').loads");
  PyObject* proto = PyLong_FromLong(5);
  double pdump = best_ns(
      [&] {
        PyObject* b = PyObject_CallFunctionObjArgs(dumps, v, proto, nullptr);
        Py_XDECREF(b);
        return b != nullptr;
      },
      min_ms);
  PyObject* blob = PyObject_CallFunctionObjArgs(dumps, v, proto, nullptr);
  double pload = best_ns(
      [&] {
        PyObject* o = PyObject_CallOneArg(loads, blob);
        Py_XDECREF(o);
        return o != nullptr;
      },
      min_ms);
  std::printf("%-28s %8.0f %8.0f %9zu %-7s | %8.0f %8.0f\n", label, enc, dec, p.byte_size(),
              p.pickled() ? "pickle" : "native", pdump, pload);
  Py_XDECREF(blob);
  Py_DECREF(proto);
  Py_DECREF(loads);
  Py_DECREF(dumps);
  Py_DECREF(v);
}

}  // namespace

int main(int argc, char** argv) {
  double min_ms = argc > 1 ? std::atof(argv[1]) : 200.0;
  g_filter = argc > 2 ? argv[2] : nullptr;
  vt::python_start();
  {
    vt::MainGil gil;
    if (vt::exec("import fractions, dataclasses\n"
                 "small_dict = {'key%d' % i: i for i in range(10)}\n"
                 "floats100 = [i * 0.37 for i in range(100)]\n") != "") {
      return 1;
    }
    std::printf("%-28s %8s %8s %9s %-7s | %8s %8s\n", "payload", "enc ns", "dec ns", "bytes", "path", "p5dumps",
                "p5loads");
    bench("int 42", "42", min_ms);
    bench("int 2**40", "2**40", min_ms);
    bench("int 2**100", "2**100", min_ms);
    bench("float", "3.14159", min_ms);
    bench("str 'hello'", "'hello'", min_ms);
    bench("3-tuple (int,float,str)", "(42, 3.14, 'hello')", min_ms);
    bench("3-tuple of floats", "(1.0, 2.0, 3.0)", min_ms);
    bench("list of 100 floats", "floats100", min_ms);
    bench("dict 10 str->int", "small_dict", min_ms);
    if (vt::kHaveMatrix) {
      if (vt::exec("from bocpy._math import Matrix\n"
                   "m16 = Matrix(16, 16, [float(i) for i in range(256)])\n") == "") {
        bench("Matrix 16x16", "m16", min_ms);
      } else {
        std::printf("Matrix unavailable: %s\n", vt::take_error().c_str());
      }
    }
    bench("pickled Fraction(1, 3)", "fractions.Fraction(1, 3)", min_ms);
    bench("pickled tm.Box([1, 2.5])", "tm.Box([1, 2.5])", min_ms);
  }
  return vt::python_stop() == 0 ? 0 : 1;
}
