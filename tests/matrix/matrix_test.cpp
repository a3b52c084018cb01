// Tests of the native Matrix type: the C++ kernels (no Python needed), the
// Python surface (tests/matrix/test_matrix.py, run in the main interpreter
// and in an own-GIL sub-interpreter) and the cross-interpreter transport
// (matrix_export / matrix_import between main and a sub-interpreter).
//
// CPython is initialised once for the whole binary by a GoogleTest global
// environment; the main thread holds the main GIL while tests run and only
// releases it while a sub-interpreter thread works.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "matrix_kernels.h"
#include "matrix_module.h"
#include "matrix_python.h"
#include "own_gil_interpreter.h"
#include "matrix_transport.h"

#ifndef BOC_PYTHON_EXECUTABLE
#error "BOC_PYTHON_EXECUTABLE must name the CPython the test embeds"
#endif
#ifndef BOC_MATRIX_TEST_PY
#error "BOC_MATRIX_TEST_PY must name tests/matrix/test_matrix.py"
#endif

namespace {

namespace mx = boc::matrix;

// ---- Embedding helpers ------------------------------------------------------

using boc::matrix_test::install_stub_package;
using boc::matrix_test::run_code;

/// Runs a unittest file as __main__ and returns its exit status (0 = all
/// tests passed), or -1 if it could not be run.
int run_python_test_file(const char* path) { return boc::matrix_test::run_script(path); }

/// Runs body inside a new own-GIL sub-interpreter that is created, used and
/// ended on a new OS thread, as the runtime's workers do. The calling
/// thread must hold the main GIL; it releases it while waiting. Returns an
/// empty string, or what went wrong while creating the interpreter.
std::string run_in_subinterpreter(const std::function<void()>& body) {
  std::string error;
  PyThreadState* main_state = PyEval_SaveThread();
  std::thread worker([&] {
    PyThreadState* sub = boc::py::new_own_gil_interpreter(error);
    if (sub == nullptr) return;
    body();
    Py_EndInterpreter(sub);
  });
  worker.join();
  PyEval_RestoreThread(main_state);
  return error;
}

class PythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string error = boc::matrix_test::start_python();
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_TRUE(install_stub_package());
  }

  void TearDown() override { EXPECT_EQ(Py_FinalizeEx(), 0); }
};

const ::testing::Environment* const g_python_env = ::testing::AddGlobalTestEnvironment(new PythonEnvironment);

// ---- Kernel tests (pure C++) ------------------------------------------------

std::vector<double> values_of(const mx::Dense& m) { return {m.data.begin(), m.data.end()}; }

TEST(MatrixKernels, DenseConstructionAndErrors) {
  const mx::Dense zeros(2, 3);
  EXPECT_EQ(zeros.shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(values_of(zeros), std::vector<double>(6, 0.0));
  EXPECT_EQ(values_of(mx::Dense(2, 2, 1.5)), std::vector<double>(4, 1.5));
  const mx::Dense m(2, 2, {1, 2, 3, 4});
  EXPECT_EQ(m(1, 0), 3.0);
  EXPECT_THROW(mx::Dense(2, 2, std::vector<double>{1, 2, 3}), mx::ShapeError);
  EXPECT_THROW(mx::Dense(0, 2), std::invalid_argument);
  EXPECT_THROW(mx::Dense(2, 0, 1.0), std::invalid_argument);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 4;
  EXPECT_THROW(mx::check_dimensions(huge, 8), std::length_error);
}

TEST(MatrixKernels, ShapeMessagesNameBothShapes) {
  EXPECT_EQ(mx::shape_string({3, 2}), "(3, 2)");
  EXPECT_EQ(mx::shape_mismatch_message({3, 2}, {4, 2}), "shape mismatch: (3, 2) vs (4, 2)");
  try {
    mx::broadcast_shape({3, 2}, {4, 2});
    FAIL() << "expected ShapeError";
  } catch (const mx::ShapeError& e) {
    EXPECT_STREQ(e.what(), "shape mismatch: (3, 2) vs (4, 2)");
  }
}

TEST(MatrixKernels, BroadcastShapes) {
  EXPECT_EQ(mx::broadcast_shape({3, 2}, {3, 2}), (mx::Shape{3, 2}));
  EXPECT_EQ(mx::broadcast_shape({3, 2}, {1, 2}), (mx::Shape{3, 2}));
  EXPECT_EQ(mx::broadcast_shape({1, 2}, {3, 2}), (mx::Shape{3, 2}));
  EXPECT_EQ(mx::broadcast_shape({3, 2}, {3, 1}), (mx::Shape{3, 2}));
  EXPECT_EQ(mx::broadcast_shape({3, 1}, {1, 4}), (mx::Shape{3, 4}));
  EXPECT_EQ(mx::broadcast_shape({1, 1}, {5, 7}), (mx::Shape{5, 7}));
  EXPECT_THROW(mx::broadcast_shape({3, 2}, {2, 2}), mx::ShapeError);
  EXPECT_THROW(mx::broadcast_shape({3, 2}, {1, 3}), mx::ShapeError);
  EXPECT_EQ(mx::broadcast_shape({3, 1}, {1, 2}, {1, 1}), (mx::Shape{3, 2}));
  try {
    mx::broadcast_shape({3, 2}, {1, 2}, {4, 2});
    FAIL() << "expected ShapeError";
  } catch (const mx::ShapeError& e) {
    EXPECT_STREQ(e.what(), "shape mismatch: (3, 2) vs (4, 2)");
  }
}

TEST(MatrixKernels, BinaryBroadcastValues) {
  const mx::Dense a(2, 3, {1, 2, 3, 4, 5, 6});
  const mx::Dense row(1, 3, {10, 20, 30});
  const mx::Dense col(2, 1, {100, 200});
  const double two = 2.0;
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kAdd, a, a)), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kAdd, a, row)), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kSubtract, row, a)), (std::vector<double>{9, 18, 27, 6, 15, 24}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kMultiply, a, col)),
            (std::vector<double>{100, 200, 300, 800, 1000, 1200}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kDivide, a, mx::ConstView::scalar(two))),
            (std::vector<double>{0.5, 1, 1.5, 2, 2.5, 3}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kDivide, mx::ConstView::scalar(two), a))[1], 1.0);
  const mx::Dense outer = mx::binary(mx::BinaryOp::kAdd, col, row);
  EXPECT_EQ(outer.shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(values_of(outer), (std::vector<double>{110, 120, 130, 210, 220, 230}));
  EXPECT_THROW(mx::binary(mx::BinaryOp::kAdd, a, mx::Dense(3, 2)), mx::ShapeError);
  const double zero = 0.0;
  const mx::Dense inf = mx::binary(mx::BinaryOp::kDivide, a, mx::ConstView::scalar(zero));
  EXPECT_TRUE(std::isinf(inf.data[0]));
}

TEST(MatrixKernels, BinaryInPlaceAndOutShape) {
  mx::Dense a(2, 2, {1, 2, 3, 4});
  mx::binary(mx::BinaryOp::kMultiply, a, a, a);
  EXPECT_EQ(values_of(a), (std::vector<double>{1, 4, 9, 16}));
  mx::Dense wrong(1, 2);
  EXPECT_THROW(mx::binary(mx::BinaryOp::kAdd, a, a, wrong), mx::ShapeError);
}

TEST(MatrixKernels, ComparisonsMinMaxProduceMasks) {
  const mx::Dense a(1, 4, {1, 2, 3, std::nan("")});
  const double two = 2.0;
  const auto s = mx::ConstView::scalar(two);
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kLess, a, s)), (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kLessEqual, a, s)), (std::vector<double>{1, 1, 0, 0}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kGreater, a, s)), (std::vector<double>{0, 0, 1, 0}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kGreaterEqual, a, s)), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kEqual, a, s)), (std::vector<double>{0, 1, 0, 0}));
  EXPECT_EQ(values_of(mx::binary(mx::BinaryOp::kNotEqual, a, s)), (std::vector<double>{1, 0, 1, 1}));
  const mx::Dense mn = mx::binary(mx::BinaryOp::kMinimum, a, s);
  EXPECT_EQ(mn.data[0], 1.0);
  EXPECT_EQ(mn.data[2], 2.0);
  EXPECT_TRUE(std::isnan(mn.data[3]));
  const mx::Dense mxm = mx::binary(mx::BinaryOp::kMaximum, a, s);
  EXPECT_EQ(mxm.data[0], 2.0);
  EXPECT_TRUE(std::isnan(mxm.data[3]));
}

TEST(MatrixKernels, WhereFmaClip) {
  const mx::Dense mask(2, 1, {1, 0});
  const mx::Dense a(2, 2, {1, 2, 3, 4});
  const double minus = -1.0;
  const mx::Dense w = mx::where(mask, a, mx::ConstView::scalar(minus));
  EXPECT_EQ(values_of(w), (std::vector<double>{1, 2, -1, -1}));
  EXPECT_THROW(mx::where(mx::Dense(3, 1), a, a), mx::ShapeError);

  // fma rounds once; the plain product-then-sum rounds twice (and must not be
  // contracted into an FMA by the compiler: -ffp-contract=off).
  const double x = 1.0 + std::ldexp(1.0, -30);
  const double y = 1.0 - std::ldexp(1.0, -30);
  const double z = -1.0;
  mx::Dense fused(1, 1);
  mx::fused_multiply_add(mx::ConstView::scalar(x), mx::ConstView::scalar(y), mx::ConstView::scalar(z), fused);
  EXPECT_EQ(fused.data[0], -std::ldexp(1.0, -60));
  const mx::Dense product = mx::binary(mx::BinaryOp::kMultiply, mx::ConstView::scalar(x), mx::ConstView::scalar(y));
  const mx::Dense twice = mx::binary(mx::BinaryOp::kAdd, product, mx::ConstView::scalar(z));
  EXPECT_EQ(twice.data[0], 0.0);

  const mx::Dense v(1, 4, {-5, 0.5, 7, std::nan("")});
  const double lo = 0.0;
  const double hi = 1.0;
  mx::Dense clipped(1, 4);
  mx::clip(v, mx::ConstView::scalar(lo), mx::ConstView::scalar(hi), clipped);
  EXPECT_EQ(clipped.data[0], 0.0);
  EXPECT_EQ(clipped.data[1], 0.5);
  EXPECT_EQ(clipped.data[2], 1.0);
  EXPECT_TRUE(std::isnan(clipped.data[3]));
}

TEST(MatrixKernels, UnaryOps) {
  const mx::Dense v(1, 5, {-2.5, -0.5, 0.5, 2.5, 4});
  // Halves to even (bocpy's nearbyint).
  EXPECT_EQ(values_of(mx::unary(mx::UnaryOp::kRound, v)), (std::vector<double>{-2, -0.0, 0, 2, 4}));
  EXPECT_EQ(values_of(mx::unary(mx::UnaryOp::kCeil, v)), (std::vector<double>{-2, -0.0, 1, 3, 4}));
  EXPECT_EQ(values_of(mx::unary(mx::UnaryOp::kFloor, v)), (std::vector<double>{-3, -1, 0, 2, 4}));
  EXPECT_EQ(values_of(mx::unary(mx::UnaryOp::kAbs, v)), (std::vector<double>{2.5, 0.5, 0.5, 2.5, 4}));
  EXPECT_EQ(values_of(mx::unary(mx::UnaryOp::kNegate, v)), (std::vector<double>{2.5, 0.5, -0.5, -2.5, -4}));
  const mx::Dense roots = mx::unary(mx::UnaryOp::kSqrt, v);
  EXPECT_TRUE(std::isnan(roots.data[0]));
  EXPECT_EQ(roots.data[4], 2.0);
  mx::Dense wrong(5, 1);
  EXPECT_THROW(mx::unary(mx::UnaryOp::kAbs, v, wrong), mx::ShapeError);
}

TEST(MatrixKernels, ReductionsOverEveryAxis) {
  const mx::Dense m(2, 3, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, m, mx::Axis::kAll).data[0], 21.0);
  EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kSum, m, mx::Axis::k0)), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, m, mx::Axis::k0).shape(), (mx::Shape{1, 3}));
  EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kSum, m, mx::Axis::k1)), (std::vector<double>{6, 15}));
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, m, mx::Axis::k1).shape(), (mx::Shape{2, 1}));
  EXPECT_EQ(mx::reduce(mx::Reduction::kMean, m, mx::Axis::kAll).data[0], 3.5);
  EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kMean, m, mx::Axis::k0)), (std::vector<double>{2.5, 3.5, 4.5}));
  EXPECT_EQ(mx::reduce(mx::Reduction::kSumSquares, m, mx::Axis::kAll).data[0], 91.0);
  const mx::Dense v(1, 2, {3, 4});
  EXPECT_EQ(mx::reduce(mx::Reduction::kMagnitude, v, mx::Axis::kAll).data[0], 5.0);
  EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kMin, m, mx::Axis::k1)), (std::vector<double>{1, 4}));
  EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kMax, m, mx::Axis::k0)), (std::vector<double>{4, 5, 6}));
  const mx::Dense ties(1, 4, {2, 1, 1, 3});
  EXPECT_EQ(mx::reduce(mx::Reduction::kArgMin, ties, mx::Axis::kAll).data[0], 1.0);
  EXPECT_EQ(mx::reduce(mx::Reduction::kArgMax, ties, mx::Axis::kAll).data[0], 3.0);
  const mx::Dense nan(1, 3, {1, std::nan(""), -1});
  EXPECT_TRUE(std::isnan(mx::reduce(mx::Reduction::kMin, nan, mx::Axis::kAll).data[0]));
  // argmax is strict (bocpy): the NaN in the middle is skipped...
  EXPECT_EQ(mx::reduce(mx::Reduction::kArgMax, nan, mx::Axis::kAll).data[0], 0.0);
  // ...and a leading NaN pins the result.
  const mx::Dense lead(1, 3, {std::nan(""), 1, 2});
  EXPECT_EQ(mx::reduce(mx::Reduction::kArgMax, lead, mx::Axis::kAll).data[0], 0.0);
}

TEST(MatrixKernels, ReductionOrderIsLeftToRight) {
  // Left to right: ((1e16 + 1) - 1e16) + 1 = 0 + 1 = 1 (1e16 + 1 rounds to
  // 1e16). Pairwise or reassociated summation would give 0 or 2.
  const mx::Dense row(1, 4, {1e16, 1, -1e16, 1});
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, row, mx::Axis::kAll).data[0], 1.0);
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, row, mx::Axis::k1).data[0], 1.0);
  const mx::Dense col(4, 1, {1e16, 1, -1e16, 1});
  EXPECT_EQ(mx::reduce(mx::Reduction::kSum, col, mx::Axis::k0).data[0], 1.0);
  // A long row: the naive sequential loop is the reference, bit for bit.
  mx::Random rng(7);
  mx::Dense big(7, 1001);  // a block of 4 rows plus a tail of 3
  mx::fill_normal(rng, 0.0, 1e6, big);
  const mx::Dense sums = mx::reduce(mx::Reduction::kSum, big, mx::Axis::k1);
  for (std::size_t r = 0; r < big.rows; ++r) {
    double acc = 0.0;
    for (std::size_t c = 0; c < big.cols; ++c) {
      acc += big(r, c);
    }
    EXPECT_EQ(sums.data[r], acc);
  }
}

TEST(MatrixKernels, ComputationsAreRepeatable) {
  mx::Random rng(42);
  mx::Dense a(37, 19);
  mx::Dense b(19, 23);
  mx::fill_uniform(rng, -1.0, 1.0, a);
  mx::fill_uniform(rng, -1.0, 1.0, b);
  const mx::Dense first = mx::matmul(a, b);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(values_of(mx::matmul(a, b)), values_of(first));
    EXPECT_EQ(values_of(mx::reduce(mx::Reduction::kMean, a, mx::Axis::k0)),
              values_of(mx::reduce(mx::Reduction::kMean, a, mx::Axis::k0)));
  }
}

TEST(MatrixKernels, MatmulMatchesTextbookLoopBitForBit) {
  mx::Random rng(3);
  mx::Dense a(13, 29);
  mx::Dense b(29, 17);
  mx::fill_normal(rng, 0.0, 10.0, a);
  mx::fill_normal(rng, 0.0, 10.0, b);
  const mx::Dense c = mx::matmul(a, b);
  ASSERT_EQ(c.shape(), (mx::Shape{13, 17}));
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t j = 0; j < b.cols; ++j) {
      double acc = 0.0;
      for (std::size_t k = 0; k < a.cols; ++k) {
        acc += a(i, k) * b(k, j);
      }
      EXPECT_EQ(c(i, j), acc);
    }
  }
  // Narrow right-hand sides (n x 1..4, e.g. positions) take another loop
  // order; 13 rows also exercise the partial last block.
  for (std::size_t width = 1; width <= 5; ++width) {
    mx::Dense narrow(29, width);
    mx::fill_normal(rng, 0.0, 10.0, narrow);
    const mx::Dense cn = mx::matmul(a, narrow);
    for (std::size_t i = 0; i < a.rows; ++i) {
      for (std::size_t j = 0; j < width; ++j) {
        double acc = 0.0;
        for (std::size_t k = 0; k < a.cols; ++k) {
          acc += a(i, k) * narrow(k, j);
        }
        EXPECT_EQ(cn(i, j), acc) << "width " << width;
      }
    }
  }
  // Wide right-hand sides: blocks of four rows by eight columns (AVX, where
  // the CPU has it), the two-row and one-row rests and the column tail.
  const std::size_t shapes[][3] = {{16, 16, 16}, {7, 9, 24}, {6, 3, 8}, {4, 256, 9}, {1, 5, 40}};
  for (const auto& [m, inner, n] : shapes) {
    mx::Dense l(m, inner);
    mx::Dense r(inner, n);
    mx::fill_normal(rng, 0.0, 10.0, l);
    mx::fill_normal(rng, 0.0, 10.0, r);
    const mx::Dense cw = mx::matmul(l, r);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (std::size_t k = 0; k < inner; ++k) {
          acc += l(i, k) * r(k, j);
        }
        EXPECT_EQ(cw(i, j), acc) << m << "x" << inner << " @ " << inner << "x" << n << " at " << i << "," << j;
      }
    }
  }
  try {
    mx::matmul(mx::Dense(2, 3), mx::Dense(2, 3));
    FAIL() << "expected ShapeError";
  } catch (const mx::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("shape mismatch: (2, 3) vs (2, 3)"), std::string::npos);
  }
}

TEST(MatrixKernels, NormalizeLeavesZeroGroups) {
  const mx::Dense m(2, 2, {3, 4, 0, 0});
  mx::Dense rows(2, 2);
  mx::normalize(m, mx::Axis::k1, rows);
  EXPECT_EQ(values_of(rows), (std::vector<double>{0.6, 0.8, 0, 0}));
  mx::Dense all(2, 2);
  mx::normalize(m, mx::Axis::kAll, all);
  EXPECT_EQ(values_of(all), (std::vector<double>{0.6, 0.8, 0, 0}));
  mx::Dense cols(2, 2);
  mx::normalize(m, mx::Axis::k0, cols);
  EXPECT_EQ(values_of(cols), (std::vector<double>{1, 1, 0, 0}));
  mx::Dense zero(1, 2);
  mx::normalize(zero, mx::Axis::kAll, zero);
  EXPECT_EQ(values_of(zero), (std::vector<double>{0, 0}));
}

TEST(MatrixKernels, TransposeReshapeVecdot) {
  const mx::Dense m(2, 3, {1, 2, 3, 4, 5, 6});
  const mx::Dense t = mx::transpose(m);
  EXPECT_EQ(t.shape(), (mx::Shape{3, 2}));
  EXPECT_EQ(values_of(t), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  const mx::Dense r = mx::reshape(m, {3, 2});
  EXPECT_EQ(values_of(r), values_of(m));
  EXPECT_THROW(mx::reshape(m, {4, 2}), mx::ShapeError);
  const mx::Dense d = mx::vecdot(m, m, mx::Axis::k1);
  EXPECT_EQ(values_of(d), (std::vector<double>{14, 77}));
}

TEST(MatrixKernels, PairwiseLayoutAndDistances) {
  const mx::Dense a(2, 2, {0, 0, 1, 2});
  const mx::Dense b(3, 2, {1, 1, -1, 0, 3, 4});
  const std::vector<mx::Dense> d = mx::pairwise_diff(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(values_of(d[0]), (std::vector<double>{-1, 1, -3, 0, 2, -2}));
  EXPECT_EQ(values_of(d[1]), (std::vector<double>{-1, 0, -4, 1, 2, -2}));
  const mx::Dense d2 = mx::pairwise_dist2(a, b);
  EXPECT_EQ(d2.shape(), (mx::Shape{2, 3}));
  for (std::size_t i = 0; i < d2.size(); ++i) {
    EXPECT_EQ(d2.data[i], d[0].data[i] * d[0].data[i] + d[1].data[i] * d[1].data[i]);
  }
  // General k uses the same left-to-right order.
  mx::Random rng(11);
  mx::Dense p(5, 3);
  mx::Dense q(4, 3);
  mx::fill_normal(rng, 0, 3, p);
  mx::fill_normal(rng, 0, 3, q);
  const std::vector<mx::Dense> dq = mx::pairwise_diff(p, q);
  const mx::Dense dq2 = mx::pairwise_dist2(p, q);
  for (std::size_t i = 0; i < dq2.size(); ++i) {
    double acc = 0.0;
    for (const mx::Dense& part : dq) {
      acc += part.data[i] * part.data[i];
    }
    EXPECT_EQ(dq2.data[i], acc);
  }
  EXPECT_THROW(mx::pairwise_diff(a, mx::Dense(2, 3)), mx::ShapeError);
  EXPECT_THROW(mx::pairwise_dist2(a, mx::Dense(2, 3)), mx::ShapeError);
}

TEST(MatrixKernels, VectorGeometry) {
  const mx::Dense rows(2, 2, {1, 0, 0, 1});
  const mx::Dense angles = mx::angle(rows, mx::Axis::k1);
  EXPECT_EQ(angles.shape(), (mx::Shape{2, 1}));
  EXPECT_EQ(angles.data[0], 0.0);
  EXPECT_EQ(angles.data[1], std::atan2(1.0, 0.0));
  const mx::Dense col_angles = mx::angle(rows, mx::Axis::k0);
  EXPECT_EQ(col_angles.shape(), (mx::Shape{1, 2}));
  EXPECT_THROW(mx::angle(mx::Dense(3, 3), mx::Axis::k1), mx::ShapeError);
  const mx::Dense perp = mx::perpendicular(mx::Dense(1, 2, {1, 2}), mx::Axis::k1);
  EXPECT_EQ(values_of(perp), (std::vector<double>{-2, 1}));
  const mx::Dense z = mx::cross(mx::Dense(1, 2, {1, 0}), mx::Dense(1, 2, {0, 1}), mx::Axis::k1);
  EXPECT_EQ(values_of(z), (std::vector<double>{1}));
  const mx::Dense k = mx::cross(mx::Dense(1, 3, {1, 0, 0}), mx::Dense(1, 3, {0, 1, 0}), mx::Axis::k1);
  EXPECT_EQ(values_of(k), (std::vector<double>{0, 0, 1}));
  const mx::Dense many = mx::cross(mx::Dense(2, 2, {1, 0, 2, 0}), mx::Dense(1, 2, {0, 1}), mx::Axis::k1);
  EXPECT_EQ(values_of(many), (std::vector<double>{1, 2}));
}

TEST(MatrixKernels, EqualityOrderingAllclose) {
  const mx::Dense a(1, 2, {1, 2});
  const mx::Dense b(2, 1, {1, 2});
  EXPECT_TRUE(mx::equal(a, mx::Dense(1, 2, {1, 2})));
  EXPECT_FALSE(mx::equal(a, b));
  const mx::Dense nan(1, 1, std::nan(""));
  EXPECT_FALSE(mx::equal(nan, nan));
  EXPECT_LT(mx::compare(a, mx::Dense(1, 2, {1, 3})), 0);
  EXPECT_GT(mx::compare(a, mx::Dense(1, 2, {0, 9})), 0);
  EXPECT_LT(mx::compare(a, mx::Dense(1, 3, {1, 2, 0})), 0);
  EXPECT_LT(mx::compare(a, b), 0);  // same elements and size: fewer rows first
  EXPECT_EQ(mx::compare(mx::Dense(1, 2, {std::nan(""), 1}), mx::Dense(1, 2, {5, 1})), 0);
  EXPECT_TRUE(mx::allclose(a, mx::Dense(1, 2, {1 + 1e-9, 2}), 1e-5, 1e-8, false));
  EXPECT_FALSE(mx::allclose(a, mx::Dense(1, 2, {1.1, 2}), 1e-5, 1e-8, false));
  EXPECT_FALSE(mx::allclose(a, b, 1e-5, 1e-8, false));
  // bocpy: a NaN difference never exceeds the tolerance.
  EXPECT_TRUE(mx::allclose(nan, nan, 1e-5, 1e-8, false));
  EXPECT_TRUE(mx::allclose(nan, nan, 1e-5, 1e-8, true));
}

TEST(MatrixKernels, GatherScatterMasks) {
  mx::Dense m(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const std::vector<std::size_t> rows{2, 0, 2};
  const mx::Dense g = mx::gather(m, mx::IndexSet::of(rows), mx::IndexSet::all(3));
  EXPECT_EQ(values_of(g), (std::vector<double>{7, 8, 9, 1, 2, 3, 7, 8, 9}));
  const mx::Dense stepped = mx::gather(m, {2, -2, 2, nullptr}, {0, 2, 2, nullptr});
  EXPECT_EQ(values_of(stepped), (std::vector<double>{7, 9, 1, 3}));
  const std::vector<std::size_t> bad{0, 3};
  EXPECT_THROW(mx::gather(m, mx::IndexSet::of(bad), mx::IndexSet::all(3)), mx::IndexError);
  EXPECT_THROW(mx::gather(m, {0, 1, 0, nullptr}, mx::IndexSet::all(3)), mx::IndexError);

  const std::vector<std::size_t> dup{1, 1};
  mx::scatter(m, mx::IndexSet::of(dup), mx::IndexSet::all(3), mx::Dense(2, 3, {10, 10, 10, 20, 20, 20}), false);
  EXPECT_EQ(m(1, 0), 20.0);  // last write wins
  const double one = 1.0;
  mx::scatter(m, mx::IndexSet::of(dup), mx::IndexSet::single(0), mx::ConstView::scalar(one), true);
  EXPECT_EQ(m(1, 0), 22.0);  // every contribution when accumulating
  const mx::Dense before = m;
  EXPECT_THROW(mx::scatter(m, mx::IndexSet::of(bad), mx::IndexSet::all(3), mx::ConstView::scalar(one), false),
               mx::IndexError);
  EXPECT_EQ(values_of(m), values_of(before));  // validated before writing
  EXPECT_THROW(mx::scatter(m, mx::IndexSet::all(3), mx::IndexSet::all(3), mx::Dense(1, 2), false), mx::ShapeError);

  const mx::Dense src(3, 2, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(values_of(mx::mask_select(src, mx::Dense(3, 1, {1, 0, 1}))), (std::vector<double>{1, 2, 5, 6}));
  EXPECT_EQ(values_of(mx::mask_select(src, mx::Dense(1, 2, {0, 1}))), (std::vector<double>{2, 4, 6}));
  const mx::Dense elements = mx::mask_select(src, mx::Dense(3, 2, {0, 1, 1, 0, 0, 1}));
  EXPECT_EQ(elements.shape(), (mx::Shape{1, 3}));
  EXPECT_EQ(values_of(elements), (std::vector<double>{2, 3, 6}));
  EXPECT_THROW(mx::mask_select(src, mx::Dense(3, 1)), mx::IndexError);
  EXPECT_THROW(mx::mask_select(src, mx::Dense(2, 2)), mx::ShapeError);

  mx::Dense target(2, 2, {1, 2, 3, 4});
  const double zero = 0.0;
  mx::mask_assign(target, mx::Dense(2, 1, {0, 1}), mx::ConstView::scalar(zero));
  EXPECT_EQ(values_of(target), (std::vector<double>{1, 2, 0, 0}));
  EXPECT_THROW(mx::mask_assign(target, mx::Dense(3, 1), mx::ConstView::scalar(zero)), mx::ShapeError);
}

TEST(MatrixKernels, Concat) {
  const mx::Dense a(1, 2, {1, 2});
  const mx::Dense b(2, 2, {3, 4, 5, 6});
  const mx::Dense v = mx::concat({a, b}, mx::Axis::k0);
  EXPECT_EQ(v.shape(), (mx::Shape{3, 2}));
  EXPECT_EQ(values_of(v), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  const mx::Dense h = mx::concat({b, mx::Dense(2, 1, {7, 8})}, mx::Axis::k1);
  EXPECT_EQ(values_of(h), (std::vector<double>{3, 4, 7, 5, 6, 8}));
  EXPECT_THROW(mx::concat({a, mx::Dense(1, 3)}, mx::Axis::k0), mx::ShapeError);
  EXPECT_THROW(mx::concat({}, mx::Axis::k0), std::invalid_argument);
}

TEST(MatrixKernels, RandomIsSeededAndPlatformIndependent) {
  mx::Random a(123);
  mx::Random b(123);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.next_u64(), b.next_u64());
  }
  // splitmix64 seeding + xoshiro256**: a fixed algorithm gives fixed output.
  mx::Random c(0);
  const std::uint64_t first = c.next_u64();
  mx::Random d(0);
  EXPECT_EQ(d.next_u64(), first);
  mx::Random e(1);
  EXPECT_NE(e.next_u64(), first);

  mx::Random rng(5);
  mx::Dense u(100, 100);
  mx::fill_uniform(rng, -2.0, 3.0, u);
  for (double x : u.data) {
    ASSERT_GE(x, -2.0);
    ASSERT_LT(x, 3.0);
  }
  mx::Dense n(200, 500);
  mx::fill_normal(rng, 1.0, 2.0, n);
  const double mean = mx::reduce(mx::Reduction::kMean, n, mx::Axis::kAll).data[0];
  EXPECT_NEAR(mean, 1.0, 0.05);
  double var = 0.0;
  for (double x : n.data) {
    var += (x - mean) * (x - mean);
  }
  EXPECT_NEAR(std::sqrt(var / static_cast<double>(n.size())), 2.0, 0.05);
}

// ---- Fast paths against plain loops ----------------------------------------

// Values with repeats, signed zeros and infinities; `nans` of them NaN.
mx::Dense awkward(std::size_t rows, std::size_t cols, std::uint64_t seed, std::size_t nans) {
  mx::Random rng(seed);
  mx::Dense m(rows, cols);
  for (double& x : m.data) {
    const std::uint64_t pick = rng.next_u64() % 16;
    x = pick == 0   ? 0.0
        : pick == 1 ? -0.0
        : pick == 2 ? std::numeric_limits<double>::infinity()
                    : std::floor(rng.next_double() * 40.0) - 20.0;
  }
  for (std::size_t k = 0; k < nans; ++k) {
    m.data[rng.next_u64() % m.size()] = std::nan("");
  }
  return m;
}

// min/max by the scalar rule: the first NaN, else the first strict extreme.
double plain_extreme(const double* p, std::size_t n, std::size_t stride, bool want_max) {
  double best = p[0];
  for (std::size_t i = 0; i < n; ++i) {
    const double v = p[i * stride];
    if (std::isnan(v)) {
      return v;
    }
    best = (want_max ? v > best : v < best) ? v : best;
  }
  return best;
}

bool same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST(MatrixKernels, RowAndColumnExtremesMatchPlainLoops) {
  for (std::size_t rows : {1, 3, 4, 5, 15, 16, 17, 33}) {
    for (std::size_t cols : {1, 2, 3, 7, 8, 9, 17, 100}) {
      for (std::size_t nans : {0, 1, 3}) {
        const mx::Dense m = awkward(rows, cols, rows * 1000 + cols * 10 + nans, nans);
        for (bool want_max : {false, true}) {
          const auto op = want_max ? mx::Reduction::kMax : mx::Reduction::kMin;
          const mx::Dense by_row = mx::reduce(op, m, mx::Axis::k1);
          for (std::size_t r = 0; r < rows; ++r) {
            const double want = plain_extreme(m.data.data() + r * cols, cols, 1, want_max);
            ASSERT_TRUE(same_value(by_row.data[r], want)) << rows << "x" << cols << " row " << r;
            if (want == 0.0 && cols < 16) {  // signed zeros: the first one kept
              ASSERT_EQ(std::signbit(by_row.data[r]), std::signbit(want)) << rows << "x" << cols << " row " << r;
            }
          }
          const mx::Dense by_col = mx::reduce(op, m, mx::Axis::k0);
          for (std::size_t c = 0; c < cols; ++c) {
            const double want = plain_extreme(m.data.data() + c, rows, cols, want_max);
            ASSERT_TRUE(same_value(by_col.data[c], want)) << rows << "x" << cols << " column " << c;
            // Down a column the first extreme is kept, signed zeros included,
            // and a NaN is the input's own.
            std::uint64_t got_bits = 0;
            std::uint64_t want_bits = 0;
            std::memcpy(&got_bits, &by_col.data[c], sizeof got_bits);
            std::memcpy(&want_bits, &want, sizeof want_bits);
            ASSERT_EQ(got_bits, want_bits) << rows << "x" << cols << " column " << c;
          }
        }
      }
    }
  }
}

TEST(MatrixKernels, NarrowReductionsAndColumnNormalizeMatchPlainLoops) {
  for (std::size_t cols : {1, 2, 3, 4, 5, 7}) {
    mx::Random rng(cols);
    mx::Dense m(37, cols);
    mx::fill_normal(rng, 0.0, 1e3, m);
    for (std::size_t r = 0; r < m.rows; ++r) {
      m(r, 0) = 0.0;  // column 0 has magnitude 0: normalize leaves it alone
    }
    for (auto op : {mx::Reduction::kSum, mx::Reduction::kMean, mx::Reduction::kSumSquares, mx::Reduction::kMagnitude}) {
      const bool sq = op == mx::Reduction::kSumSquares || op == mx::Reduction::kMagnitude;
      const mx::Dense down = mx::reduce(op, m, mx::Axis::k0);
      for (std::size_t c = 0; c < cols; ++c) {
        double acc = 0.0;
        for (std::size_t r = 0; r < m.rows; ++r) {
          acc += sq ? m(r, c) * m(r, c) : m(r, c);
        }
        acc = op == mx::Reduction::kMean ? acc / 37.0 : op == mx::Reduction::kMagnitude ? std::sqrt(acc) : acc;
        ASSERT_EQ(down.data[c], acc) << cols << " column " << c;
      }
      const mx::Dense across = mx::reduce(op, m, mx::Axis::k1);
      for (std::size_t r = 0; r < m.rows; ++r) {
        double acc = 0.0;
        for (std::size_t c = 0; c < cols; ++c) {
          acc += sq ? m(r, c) * m(r, c) : m(r, c);
        }
        acc = op == mx::Reduction::kMean        ? acc / static_cast<double>(cols)
              : op == mx::Reduction::kMagnitude ? std::sqrt(acc)
                                                : acc;
        ASSERT_EQ(across.data[r], acc) << cols << " row " << r;
      }
    }
    const mx::Dense mags = mx::reduce(mx::Reduction::kMagnitude, m, mx::Axis::k0);
    mx::Dense in_place = m;
    mx::normalize(in_place, mx::Axis::k0, in_place);
    for (std::size_t r = 0; r < m.rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        const double want = mags.data[c] != 0.0 ? m(r, c) / mags.data[c] : m(r, c);
        ASSERT_EQ(std::memcmp(&in_place(r, c), &want, sizeof want), 0) << cols << " at " << r << ", " << c;
      }
    }
  }
}

TEST(MatrixKernels, AngleIsAtan2InEveryOctant) {
  for (std::size_t count : {1, 9, 1023, 1024, 1025, 3000}) {
    mx::Dense rows = awkward(count, 2, count, count / 100);
    mx::Random rng(count);
    for (std::size_t i = 0; i < count / 2; ++i) {  // plus ordinary values
      rows.data[i] = rng.next_double() * 8.0 - 4.0;
    }
    const mx::Dense a = mx::angle(rows, mx::Axis::k1);
    const mx::Dense cols = mx::transpose(rows);
    const mx::Dense b = mx::angle(cols, mx::Axis::k0);
    for (std::size_t v = 0; v < count; ++v) {
      const double want = std::atan2(rows(v, 1), rows(v, 0));
      ASSERT_EQ(std::memcmp(&a.data[v], &want, sizeof want), 0) << count << " at " << v;
      ASSERT_EQ(std::memcmp(&b.data[v], &want, sizeof want), 0) << count << " at " << v;
    }
  }
}

TEST(MatrixKernels, ColumnCrossWithOneVectorMatchesPlainLoop) {
  mx::Random rng(5);
  mx::Dense a(3, 37);
  mx::fill_normal(rng, 0.0, 10.0, a);
  const mx::Dense b(3, 1, {0.5, -2.0, 3.25});
  const mx::Dense c = mx::cross(a, b, mx::Axis::k0);
  ASSERT_EQ(c.shape(), a.shape());
  for (std::size_t v = 0; v < a.cols; ++v) {
    EXPECT_EQ(c(0, v), a(1, v) * b.data[2] - a(2, v) * b.data[1]);
    EXPECT_EQ(c(1, v), a(2, v) * b.data[0] - a(0, v) * b.data[2]);
    EXPECT_EQ(c(2, v), a(0, v) * b.data[1] - a(1, v) * b.data[0]);
  }
}

TEST(MatrixKernels, AllcloseMatchesPlainLoop) {
  auto plain = [](const mx::Dense& a, const mx::Dense& b, double rtol, double atol) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::fabs(a.data[i] - b.data[i]) > atol + rtol * std::fabs(b.data[i])) {
        return false;
      }
    }
    return true;
  };
  for (std::size_t n : {1, 7, 8, 9, 64, 101}) {
    const mx::Dense a = awkward(1, n, n, n / 8);
    for (std::size_t at = 0; at < n; ++at) {
      for (double delta : {0.0, 1e-9, 1e-3, -1.0, std::nan("")}) {
        mx::Dense b = a;
        b.data[at] += delta;
        ASSERT_EQ(mx::allclose(a, b, 1e-5, 1e-8, false), plain(a, b, 1e-5, 1e-8)) << n << " at " << at;
        ASSERT_EQ(mx::allclose(b, a, 1e-5, 1e-8, true), plain(b, a, 1e-5, 1e-8)) << n << " at " << at;
      }
    }
  }
}

TEST(MatrixKernels, ConcatColumnsMatchesPlainLoop) {
  mx::Random rng(3);
  for (std::size_t rows : {1, 5}) {
    std::vector<mx::Dense> parts;
    for (std::size_t cols : {1, 2, 3, 10, 33, 4}) {
      parts.emplace_back(rows, cols);
      mx::fill_uniform(rng, -1.0, 1.0, parts.back());
    }
    const std::vector<mx::ConstView> views(parts.begin(), parts.end());
    const mx::Dense h = mx::concat(views, mx::Axis::k1);
    ASSERT_EQ(h.shape(), (mx::Shape{rows, 53}));
    for (std::size_t r = 0; r < rows; ++r) {
      std::size_t c0 = 0;
      for (const mx::Dense& p : parts) {
        for (std::size_t c = 0; c < p.cols; ++c) {
          ASSERT_EQ(h(r, c0 + c), p(r, c));
        }
        c0 += p.cols;
      }
    }
  }
}

TEST(MatrixKernels, FillNormalIsNextNormalBitForBit) {
  for (std::size_t n : {1, 2, 255, 256, 257, 1000}) {
    mx::Random a(11);
    mx::Random b(11);
    mx::Dense m(1, n);
    mx::fill_normal(a, 0.5, 3.0, m);
    for (std::size_t i = 0; i < n; ++i) {
      const double want = 0.5 + 3.0 * b.next_normal();
      ASSERT_EQ(std::memcmp(&m.data[i], &want, sizeof want), 0) << n << " at " << i;
    }
    ASSERT_EQ(a.next_u64(), b.next_u64());
  }
}

TEST(MatrixKernels, RotatePairsAndProgressionScatterMatchPlainLoops) {
  for (std::size_t count : {0, 1, 3, 4, 5, 9}) {
    mx::Dense m = awkward(count + 1, 2, count, 0);
    std::vector<double> want(m.data.begin(), m.data.end());
    for (std::size_t v = 0; v < count; ++v) {
      const double x = want[2 * v];
      want[2 * v] = -want[2 * v + 1];
      want[2 * v + 1] = x;
    }
    mx::rotate_pairs(m.data.data(), m.data.data(), count);
    ASSERT_EQ(std::memcmp(m.data.data(), want.data(), want.size() * sizeof(double)), 0) << count;
  }
  // Column lists in arithmetic progression (steps 1, 2, 3, 0, -2) and not.
  const std::vector<std::vector<std::size_t>> lists = {
      {0, 1, 2, 3, 4}, {1, 3, 5, 7, 9, 11, 13, 15, 17}, {0, 3, 6}, {4, 4, 4}, {9, 7, 5, 3, 1}, {0, 2, 3}, {5}};
  for (const auto& list : lists) {
    mx::Dense m = awkward(6, 20, list.size(), 0);
    mx::Dense value = awkward(3, list.size(), 99, 0);
    mx::Dense want = m;
    const std::vector<std::size_t> rows = {5, 0, 2};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::size_t j = 0; j < list.size(); ++j) {
        want(rows[i], list[j]) = value(i, j);
      }
    }
    mx::scatter(m, mx::IndexSet::of(rows), mx::IndexSet::of(list), value, false);
    ASSERT_EQ(std::memcmp(m.data.data(), want.data.data(), want.size() * sizeof(double)), 0) << list.size();
  }
  mx::Dense m(2, 4);
  EXPECT_THROW(mx::scatter(m, mx::IndexSet::all(2), mx::IndexSet::of({1, 4}), mx::Dense(2, 2, 1.0), false),
               mx::IndexError);
}

// ---- Python surface ---------------------------------------------------------

TEST(MatrixPython, ModuleImportsInMain) {
  PyObject* ns = run_code(R"(
import bocpy._math as m
ok = (m.__name__ == "bocpy._math" and m.Matrix.__module__ == "bocpy"
      and repr(m.Matrix) == "<class 'bocpy.Matrix'>")
)");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(PyDict_GetItemString(ns, "ok"), Py_True);
  Py_DECREF(ns);
}

TEST(MatrixPython, UnittestSuiteInMainInterpreter) {
  EXPECT_EQ(run_python_test_file(BOC_MATRIX_TEST_PY), 0) << "see the unittest output above";
}

TEST(MatrixPython, UnittestSuiteInOwnGilSubInterpreter) {
  int rc = -1;
  const std::string error = run_in_subinterpreter([&] {
    if (install_stub_package()) {
      rc = run_python_test_file(BOC_MATRIX_TEST_PY);
    }
  });
  ASSERT_EQ(error, "");
  EXPECT_EQ(rc, 0) << "see the unittest output above";
}

// ---- Transport --------------------------------------------------------------

TEST(MatrixTransport, CheckExportImportInMain) {
  PyObject* ns = run_code(R"(
from bocpy._math import Matrix
m = Matrix(2, 3, [1, 2, 3, 4, 5, 6])
not_matrix = [1.0, 2.0]
)");
  ASSERT_NE(ns, nullptr);
  PyObject* m = PyDict_GetItemString(ns, "m");
  PyObject* other = PyDict_GetItemString(ns, "not_matrix");
  EXPECT_TRUE(boc::py::matrix_check(m));
  EXPECT_FALSE(boc::py::matrix_check(other));
  EXPECT_FALSE(boc::py::matrix_check(Py_None));
  EXPECT_FALSE(PyErr_Occurred());

  // matrix_check keeps an error that is already set.
  PyErr_SetString(PyExc_KeyError, "pending");
  EXPECT_TRUE(boc::py::matrix_check(m));
  ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_KeyError));
  PyErr_Clear();

  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;
  ASSERT_TRUE(boc::py::matrix_export(m, rows, cols, data));
  EXPECT_EQ(rows, 2u);
  EXPECT_EQ(cols, 3u);
  EXPECT_EQ(data, (std::vector<double>{1, 2, 3, 4, 5, 6}));

  EXPECT_FALSE(boc::py::matrix_export(other, rows, cols, data));
  EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
  PyErr_Clear();

  PyObject* copy = boc::py::matrix_import(2, 3, std::move(data));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(Py_TYPE(copy), Py_TYPE(m));
  EXPECT_EQ(PyObject_RichCompareBool(copy, m, Py_EQ), 1);
  EXPECT_NE(copy, m);
  Py_DECREF(copy);

  EXPECT_EQ(boc::py::matrix_import(2, 2, std::vector<double>{1, 2, 3}), nullptr);
  EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_ValueError));
  PyErr_Clear();
  EXPECT_EQ(boc::py::matrix_import(0, 2, std::vector<double>{}), nullptr);
  EXPECT_TRUE(PyErr_ExceptionMatches(PyExc_ValueError));
  PyErr_Clear();
  Py_DECREF(ns);
}

TEST(MatrixTransport, MainToSubInterpreterAndBack) {
  // Main: build a matrix and export its buffer.
  PyObject* ns = run_code(R"(
from bocpy._math import Matrix
m = Matrix(3, 2, [1, 2, 3, 4, 5, 6])
main_type_id = id(Matrix)
)");
  ASSERT_NE(ns, nullptr);
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;
  ASSERT_TRUE(boc::py::matrix_export(PyDict_GetItemString(ns, "m"), rows, cols, data));
  const long long main_type_id = PyLong_AsLongLong(PyDict_GetItemString(ns, "main_type_id"));

  // Sub-interpreter: import it, compute with it, export the result.
  std::size_t out_rows = 0;
  std::size_t out_cols = 0;
  std::vector<double> out_data;
  std::string sub_error;
  long long sub_type_id = 0;
  const std::string error = run_in_subinterpreter([&] {
    if (!install_stub_package()) {
      sub_error = "stub package";
      return;
    }
    PyObject* incoming = boc::py::matrix_import(rows, cols, std::move(data));
    if (incoming == nullptr) {
      PyErr_Print();
      sub_error = "matrix_import failed in the sub-interpreter";
      return;
    }
    if (!boc::py::matrix_check(incoming)) {
      sub_error = "matrix_check is false for an imported matrix";
    }
    PyObject* sub_ns = run_code(R"(
import pickle
from bocpy._math import Matrix
assert isinstance(m, Matrix)
assert pickle.loads(pickle.dumps(m)) == m
result = (m * 2 + Matrix.vector([10, 100])).T
type_id = id(Matrix)
)",
                                {{"m", incoming}});
    Py_DECREF(incoming);
    if (sub_ns == nullptr) {
      sub_error = "python code failed in the sub-interpreter";
      return;
    }
    sub_type_id = PyLong_AsLongLong(PyDict_GetItemString(sub_ns, "type_id"));
    if (!boc::py::matrix_export(PyDict_GetItemString(sub_ns, "result"), out_rows, out_cols, out_data)) {
      PyErr_Print();
      sub_error = "matrix_export failed in the sub-interpreter";
    }
    Py_DECREF(sub_ns);
  });
  ASSERT_EQ(error, "");
  ASSERT_EQ(sub_error, "");
  EXPECT_NE(sub_type_id, main_type_id);  // one Matrix type per interpreter

  // Main again: import the result.
  PyObject* back = boc::py::matrix_import(out_rows, out_cols, std::move(out_data));
  ASSERT_NE(back, nullptr);
  PyObject* check_ns = run_code(
      R"(
expected = Matrix(2, 3, [12, 16, 20, 104, 108, 112])
ok = back == expected and type(back) is Matrix
)",
      {{"back", back}, {"Matrix", PyDict_GetItemString(ns, "Matrix")}});
  ASSERT_NE(check_ns, nullptr);
  EXPECT_EQ(PyDict_GetItemString(check_ns, "ok"), Py_True);
  Py_DECREF(check_ns);
  Py_DECREF(back);
  Py_DECREF(ns);
}

TEST(MatrixTransport, ConcurrentSubInterpretersEachHaveTheirOwnType) {
  // Two own-GIL interpreters compute at the same time; neither sees the
  // other's objects and both import the module independently.
  std::vector<double> results(2, 0.0);
  std::string error_a;
  std::string error_b;
  auto work = [](double seed_value, double& out) {
    return [seed_value, &out] {
      if (!install_stub_package()) {
        return;
      }
      PyObject* seed = PyFloat_FromDouble(seed_value);
      PyObject* ns = run_code(R"(
from bocpy._math import Matrix
m = Matrix(200, 200, SEED)
acc = 0.0
for _ in range(20):
    acc += (m @ m).sum()
)",
                              {{"SEED", seed}});
      Py_DECREF(seed);
      if (ns != nullptr) {
        out = PyFloat_AsDouble(PyDict_GetItemString(ns, "acc"));
        Py_DECREF(ns);
      }
    };
  };
  PyThreadState* main_state = PyEval_SaveThread();
  std::thread other([&] {
    // run_in_subinterpreter needs the main GIL held by its caller.
    PyGILState_STATE g = PyGILState_Ensure();
    error_b = run_in_subinterpreter(work(2.0, results[1]));
    PyGILState_Release(g);
  });
  PyEval_RestoreThread(main_state);
  error_a = run_in_subinterpreter(work(1.0, results[0]));
  main_state = PyEval_SaveThread();
  other.join();
  PyEval_RestoreThread(main_state);
  EXPECT_EQ(error_a, "");
  EXPECT_EQ(error_b, "");
  EXPECT_EQ(results[0], 20.0 * 200.0 * 200.0 * 200.0 * 1.0);
  EXPECT_EQ(results[1], 20.0 * 200.0 * 200.0 * 200.0 * 4.0);
}

}  // namespace
