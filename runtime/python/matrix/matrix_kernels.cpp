#include "matrix_kernels.h"

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace boc::matrix {
namespace {

/// Strides that make a broadcast operand look like a matrix of the output
/// shape: element (r, c) of the output reads data[r * row + c * col].
struct Strided {
  const double* data;
  std::size_t row;
  std::size_t col;
};

Strided strided(ConstView v, Shape out) {
  return {v.data, (v.rows == 1 && out.rows != 1) ? 0 : v.cols,
          (v.cols == 1 && out.cols != 1) ? std::size_t{0} : std::size_t{1}};
}

void require_shape(Shape actual, Shape expected) {
  if (actual != expected) {
    throw ShapeError(actual, expected);
  }
}

/// out = f(a, b) with broadcasting. The common layouts get their own loops so
/// that the compiler can vectorise them (no reassociation happens: each
/// output element is one independent call of f).
template <class F>
void apply2(ConstView a, ConstView b, MutView out, F f) {
  const Shape shape = out.shape();
  const std::size_t n = shape.size();
  double* o = out.data;
  if (a.shape() == shape && b.shape() == shape) {
    const double* pa = a.data;
    const double* pb = b.data;
    for (std::size_t i = 0; i < n; ++i) {
      o[i] = f(pa[i], pb[i]);
    }
    return;
  }
  if (a.shape() == shape && b.size() == 1) {
    const double* pa = a.data;
    const double s = b.data[0];
    for (std::size_t i = 0; i < n; ++i) {
      o[i] = f(pa[i], s);
    }
    return;
  }
  if (b.shape() == shape && a.size() == 1) {
    const double* pb = b.data;
    const double s = a.data[0];
    for (std::size_t i = 0; i < n; ++i) {
      o[i] = f(s, pb[i]);
    }
    return;
  }
  const Strided sa = strided(a, shape);
  const Strided sb = strided(b, shape);
  for (std::size_t r = 0; r < shape.rows; ++r) {
    const double* ra = sa.data + r * sa.row;
    const double* rb = sb.data + r * sb.row;
    double* ro = o + r * shape.cols;
    if (sa.col == 1 && sb.col == 1) {
      for (std::size_t c = 0; c < shape.cols; ++c) {
        ro[c] = f(ra[c], rb[c]);
      }
    } else if (sa.col == 1) {
      const double vb = rb[0];
      for (std::size_t c = 0; c < shape.cols; ++c) {
        ro[c] = f(ra[c], vb);
      }
    } else if (sb.col == 1) {
      const double va = ra[0];
      for (std::size_t c = 0; c < shape.cols; ++c) {
        ro[c] = f(va, rb[c]);
      }
    } else {
      const double v = f(ra[0], rb[0]);
      for (std::size_t c = 0; c < shape.cols; ++c) {
        ro[c] = v;
      }
    }
  }
}

/// One output row of apply3: each operand is read contiguously (true) or as
/// one value broadcast along the row (false), so the loop vectorises.
template <bool kA, bool kB, bool kC, class F>
void rows3(Strided sa, Strided sb, Strided sc, std::size_t rows, std::size_t cols, double* o, F f) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* ra = sa.data + r * sa.row;
    const double* rb = sb.data + r * sb.row;
    const double* rc = sc.data + r * sc.row;
    double* ro = o + r * cols;
    for (std::size_t k = 0; k < cols; ++k) {
      ro[k] = f(kA ? ra[k] : ra[0], kB ? rb[k] : rb[0], kC ? rc[k] : rc[0]);
    }
  }
}

/// out = f(a, b, c) with broadcasting (where, fma, clip, mask_assign).
template <class F>
void apply3(ConstView a, ConstView b, ConstView c, MutView out, F f) {
  const Shape shape = out.shape();
  Strided sa = strided(a, shape);
  Strided sb = strided(b, shape);
  Strided sc = strided(c, shape);
  std::size_t rows = shape.rows;
  std::size_t cols = shape.cols;
  auto flat = [&](ConstView v) { return v.shape() == shape || v.size() == 1; };
  if (flat(a) && flat(b) && flat(c)) {
    // Every operand is full or a scalar: one long row.
    sa = {a.data, 0, a.size() == 1 && shape.size() != 1 ? 0u : 1u};
    sb = {b.data, 0, b.size() == 1 && shape.size() != 1 ? 0u : 1u};
    sc = {c.data, 0, c.size() == 1 && shape.size() != 1 ? 0u : 1u};
    cols = shape.size();
    rows = 1;
  }
  const int key = (sa.col == 1 ? 4 : 0) | (sb.col == 1 ? 2 : 0) | (sc.col == 1 ? 1 : 0);
  double* o = out.data;
  switch (key) {
    case 7: return rows3<true, true, true>(sa, sb, sc, rows, cols, o, f);
    case 6: return rows3<true, true, false>(sa, sb, sc, rows, cols, o, f);
    case 5: return rows3<true, false, true>(sa, sb, sc, rows, cols, o, f);
    case 4: return rows3<true, false, false>(sa, sb, sc, rows, cols, o, f);
    case 3: return rows3<false, true, true>(sa, sb, sc, rows, cols, o, f);
    case 2: return rows3<false, true, false>(sa, sb, sc, rows, cols, o, f);
    case 1: return rows3<false, false, true>(sa, sb, sc, rows, cols, o, f);
    default: return rows3<false, false, false>(sa, sb, sc, rows, cols, o, f);
  }
}

template <class F>
void apply1(ConstView in, MutView out, F f) {
  const std::size_t n = in.size();
  const double* src = in.data;
  double* dst = out.data;
  for (std::size_t i = 0; i < n; ++i) {
    dst[i] = f(src[i]);
  }
}

double nan_min(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return b < a ? b : a;
}

double nan_max(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return b > a ? b : a;
}

/// Running state of a min/max/argmin/argmax reduction. min/max: the first
/// NaN wins, otherwise the first strictly smaller (larger) element.
/// argmin/argmax (strict, as bocpy's _math.c argextreme_*): a NaN that is
/// not the first element is skipped; a leading NaN pins the result.
struct Extremum {
  double value = 0.0;
  std::size_t index = 0;
  bool started = false;
  bool strict = false;

  void push(double x, std::size_t i, bool want_max) {
    if (!started) {
      value = x;
      index = i;
      started = true;
      return;
    }
    if (strict) {
      if (want_max ? x > value : x < value) {
        value = x;
        index = i;
      }
      return;
    }
    if (std::isnan(value)) {
      return;
    }
    if (std::isnan(x) || (want_max ? x > value : x < value)) {
      value = x;
      index = i;
    }
  }
};

bool is_extremum(Reduction op) {
  return op == Reduction::kMin || op == Reduction::kMax || op == Reduction::kArgMin || op == Reduction::kArgMax;
}

bool wants_max(Reduction op) { return op == Reduction::kMax || op == Reduction::kArgMax; }

bool wants_index(Reduction op) { return op == Reduction::kArgMin || op == Reduction::kArgMax; }

/// Finishes a sum-like accumulator: mean divides, magnitude takes the root.
double finish(Reduction op, double acc, std::size_t count) {
  switch (op) {
    case Reduction::kMean: return acc / static_cast<double>(count);
    case Reduction::kMagnitude: return std::sqrt(acc);
    default: return acc;
  }
}

/// Sum (of squares) of every row into out[r]. Four rows at a time: four
/// independent accumulators, each still adding its own row left to right.
#if defined(__x86_64__) && defined(__GNUC__)
#define BOC_MATRIX_AVX_ROWS 1
/// row_sums for blocks of 16 rows with AVX (256-bit), when the CPU has it:
/// one accumulator holds four rows (lane k = row k). Two columns of four rows
/// are loaded as 128-bit pairs, combined into (row0 row2 | row1 row3) halves
/// and unpacked into "column c of rows 0-3" and "column c+1 of rows 0-3", so
/// each row is still added strictly left to right. Returns the rows done.
template <bool kSquares>
__attribute__((target("avx"))) std::size_t row_sums_avx(const double* src, std::size_t rows, std::size_t cols,
                                                        double* out) {
  constexpr std::size_t kGroups = 4;  // 4 x 4 rows
  std::size_t r = 0;
  for (; r + 4 * kGroups <= rows; r += 4 * kGroups) {
    const double* base = src + r * cols;
    __m256d acc[kGroups];
    for (__m256d& a : acc) {
      a = _mm256_setzero_pd();
    }
    std::size_t c = 0;
    for (; c + 2 <= cols; c += 2) {
      for (std::size_t g = 0; g < kGroups; ++g) {
        const double* p = base + 4 * g * cols + c;
        const __m256d r02 =
            _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p)), _mm_loadu_pd(p + 2 * cols), 1);
        const __m256d r13 =
            _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p + cols)), _mm_loadu_pd(p + 3 * cols), 1);
        __m256d lo = _mm256_unpacklo_pd(r02, r13);  // column c, rows 0-3
        __m256d hi = _mm256_unpackhi_pd(r02, r13);  // column c + 1
        if constexpr (kSquares) {
          lo = _mm256_mul_pd(lo, lo);
          hi = _mm256_mul_pd(hi, hi);
        }
        acc[g] = _mm256_add_pd(acc[g], lo);
        acc[g] = _mm256_add_pd(acc[g], hi);
      }
    }
    if (c < cols) {
      for (std::size_t g = 0; g < kGroups; ++g) {
        const double* p = base + 4 * g * cols + c;
        __m256d v = _mm256_set_pd(p[3 * cols], p[2 * cols], p[cols], p[0]);
        if constexpr (kSquares) {
          v = _mm256_mul_pd(v, v);
        }
        acc[g] = _mm256_add_pd(acc[g], v);
      }
    }
    for (std::size_t g = 0; g < kGroups; ++g) {
      _mm256_storeu_pd(out + r + 4 * g, acc[g]);
    }
  }
  return r;
}

bool cpu_has_avx() {
  static const bool has = __builtin_cpu_supports("avx") != 0;
  return has;
}

/// Row-wise min / max of kGroups x 4 rows with AVX, laid out as in
/// row_sums_avx: lane k of acc[g] is row 4g + k, and the columns arrive
/// strictly left to right, so `v < acc ? v : acc` (vminpd's rule) keeps each
/// row's first extreme value, exactly the scalar rule. An unordered compare
/// of each column pair flags the rows holding a NaN; those give NaN.
template <bool kMax, std::size_t kGroups>
__attribute__((target("avx"))) void row_extremes_block_avx(const double* base, std::size_t cols, double* out) {
  __m256d acc[kGroups];
  __m256d bad[kGroups];
  for (std::size_t g = 0; g < kGroups; ++g) {
    const double* p = base + 4 * g * cols;
    acc[g] = _mm256_set_pd(p[3 * cols], p[2 * cols], p[cols], p[0]);
    bad[g] = _mm256_setzero_pd();
  }
  std::size_t c = 0;
  for (; c + 2 <= cols; c += 2) {
    for (std::size_t g = 0; g < kGroups; ++g) {
      const double* p = base + 4 * g * cols + c;
      const __m256d r02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p)), _mm_loadu_pd(p + 2 * cols), 1);
      const __m256d r13 =
          _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p + cols)), _mm_loadu_pd(p + 3 * cols), 1);
      const __m256d lo = _mm256_unpacklo_pd(r02, r13);  // column c, rows 0-3
      const __m256d hi = _mm256_unpackhi_pd(r02, r13);  // column c + 1
      bad[g] = _mm256_or_pd(bad[g], _mm256_cmp_pd(lo, hi, _CMP_UNORD_Q));
      acc[g] = kMax ? _mm256_max_pd(lo, acc[g]) : _mm256_min_pd(lo, acc[g]);
      acc[g] = kMax ? _mm256_max_pd(hi, acc[g]) : _mm256_min_pd(hi, acc[g]);
    }
  }
  if (c < cols) {
    for (std::size_t g = 0; g < kGroups; ++g) {
      const double* p = base + 4 * g * cols + c;
      const __m256d v = _mm256_set_pd(p[3 * cols], p[2 * cols], p[cols], p[0]);
      bad[g] = _mm256_or_pd(bad[g], _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
      acc[g] = kMax ? _mm256_max_pd(v, acc[g]) : _mm256_min_pd(v, acc[g]);
    }
  }
  const __m256d nan = _mm256_set1_pd(std::numeric_limits<double>::quiet_NaN());
  for (std::size_t g = 0; g < kGroups; ++g) {
    _mm256_storeu_pd(out + 4 * g, _mm256_blendv_pd(acc[g], nan, bad[g]));
  }
}

/// row_extremes_block_avx over 16-row blocks, then 4-row blocks; returns the
/// rows done (a multiple of 4).
template <bool kMax>
__attribute__((target("avx"))) std::size_t row_extremes_avx(const double* src, std::size_t rows, std::size_t cols,
                                                            double* out) {
  std::size_t r = 0;
  for (; r + 16 <= rows; r += 16) {
    row_extremes_block_avx<kMax, 4>(src + r * cols, cols, out + r);
  }
  for (; r + 4 <= rows; r += 4) {
    row_extremes_block_avx<kMax, 1>(src + r * cols, cols, out + r);
  }
  return r;
}

/// Column-wise min / max with AVX: out starts as row 0 and takes
/// `v < out ? v : out` row by row, top to bottom (the scalar rule, so each
/// column keeps its first extreme). Returns false, leaving out unspecified,
/// if any element is a NaN: the caller then takes the exact scalar path.
template <bool kMax>
__attribute__((target("avx"))) bool col_extremes_avx(const double* src, std::size_t rows, std::size_t cols,
                                                     double* out) {
  std::memcpy(out, src, cols * sizeof(double));
  __m256d bad = _mm256_setzero_pd();
  std::size_t tail_bad = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = src + r * cols;
    std::size_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const __m256d v0 = _mm256_loadu_pd(row + c);
      const __m256d v1 = _mm256_loadu_pd(row + c + 4);
      bad = _mm256_or_pd(bad, _mm256_cmp_pd(v0, v1, _CMP_UNORD_Q));
      const __m256d a0 = _mm256_loadu_pd(out + c);
      const __m256d a1 = _mm256_loadu_pd(out + c + 4);
      _mm256_storeu_pd(out + c, kMax ? _mm256_max_pd(v0, a0) : _mm256_min_pd(v0, a0));
      _mm256_storeu_pd(out + c + 4, kMax ? _mm256_max_pd(v1, a1) : _mm256_min_pd(v1, a1));
    }
    for (; c < cols; ++c) {
      const double v = row[c];
      tail_bad |= static_cast<std::size_t>(v != v);
      out[c] = (kMax ? v > out[c] : v < out[c]) ? v : out[c];
    }
  }
  return _mm256_movemask_pd(bad) == 0 && tail_bad == 0;
}
#endif

template <bool kSquares>
void row_sums(const double* src, std::size_t rows, std::size_t cols, double* out) {
  auto term = [](double v) { return kSquares ? v * v : v; };
  std::size_t r = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
  if (cols >= 2 && cpu_has_avx()) {
    r = row_sums_avx<kSquares>(src, rows, cols, out);
  }
#endif
#if defined(__SSE2__)
  // Sixteen rows at a time, two per packed accumulator: lane 0 holds row
  // 2k, lane 1 row 2k+1. Each step adds column c of both rows, then column
  // c+1, so every row is still summed strictly left to right, but eight
  // independent chains keep both adders busy (the four-row loop below is
  // latency-bound).
  if (cols >= 2) {
    constexpr std::size_t kRows = 16;
    constexpr std::size_t kPairs = kRows / 2;
    for (; r + kRows <= rows; r += kRows) {
      const double* base = src + r * cols;
      __m128d acc[kPairs];
      for (__m128d& a : acc) {
        a = _mm_setzero_pd();
      }
      std::size_t c = 0;
      for (; c + 2 <= cols; c += 2) {
        for (std::size_t k = 0; k < kPairs; ++k) {
          const __m128d v0 = _mm_loadu_pd(base + (2 * k) * cols + c);
          const __m128d v1 = _mm_loadu_pd(base + (2 * k + 1) * cols + c);
          __m128d lo = _mm_unpacklo_pd(v0, v1);  // column c of both rows
          __m128d hi = _mm_unpackhi_pd(v0, v1);  // column c + 1
          if constexpr (kSquares) {
            lo = _mm_mul_pd(lo, lo);
            hi = _mm_mul_pd(hi, hi);
          }
          acc[k] = _mm_add_pd(acc[k], lo);
          acc[k] = _mm_add_pd(acc[k], hi);
        }
      }
      if (c < cols) {
        for (std::size_t k = 0; k < kPairs; ++k) {
          __m128d v = _mm_set_pd(base[(2 * k + 1) * cols + c], base[(2 * k) * cols + c]);
          if constexpr (kSquares) {
            v = _mm_mul_pd(v, v);
          }
          acc[k] = _mm_add_pd(acc[k], v);
        }
      }
      for (std::size_t k = 0; k < kPairs; ++k) {
        _mm_storeu_pd(out + r + 2 * k, acc[k]);
      }
    }
  }
#endif
  for (; r + 4 <= rows; r += 4) {
    const double* p0 = src + r * cols;
    const double* p1 = p0 + cols;
    const double* p2 = p1 + cols;
    const double* p3 = p2 + cols;
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      a0 += term(p0[c]);
      a1 += term(p1[c]);
      a2 += term(p2[c]);
      a3 += term(p3[c]);
    }
    out[r] = a0;
    out[r + 1] = a1;
    out[r + 2] = a2;
    out[r + 3] = a3;
  }
  for (; r < rows; ++r) {
    const double* p = src + r * cols;
    double acc = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      acc += term(p[c]);
    }
    out[r] = acc;
  }
}

bool squares(Reduction op) { return op == Reduction::kSumSquares || op == Reduction::kMagnitude; }

/// Copies n <= 8 doubles with packed moves (no library call).
inline void copy_short(const double* from, double* to, std::size_t n) {
  std::size_t k = 0;
#if defined(__SSE2__)
  for (; k + 2 <= n; k += 2) {
    _mm_storeu_pd(to + k, _mm_loadu_pd(from + k));
  }
#endif
  for (; k < n; ++k) {
    to[k] = from[k];
  }
}

/// Copies n doubles: packed moves up to 32, memcpy beyond.
inline void copy_run(const double* from, double* to, std::size_t n) {
  if (n > 32) {
    std::memcpy(to, from, n * sizeof(double));
    return;
  }
  std::size_t k = 0;
#if defined(__SSE2__)
  for (; k + 4 <= n; k += 4) {
    const __m128d a = _mm_loadu_pd(from + k);
    const __m128d b = _mm_loadu_pd(from + k + 2);
    _mm_storeu_pd(to + k, a);
    _mm_storeu_pd(to + k + 2, b);
  }
  if (k + 2 <= n) {
    _mm_storeu_pd(to + k, _mm_loadu_pd(from + k));
    k += 2;
  }
#endif
  for (; k < n; ++k) {
    to[k] = from[k];
  }
}

#if defined(BOC_MATRIX_AVX_ROWS)
/// fill_run's AVX loop (32-byte stores, two per iteration); returns the
/// elements done.
__attribute__((target("avx"))) std::size_t fill_run_avx(double* to, std::size_t n, double value) {
  const __m256d v = _mm256_set1_pd(value);
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    _mm256_storeu_pd(to + k, v);
    _mm256_storeu_pd(to + k + 4, v);
  }
  return k;
}
#endif

/// Sets n doubles to value.
inline void fill_run(double* to, std::size_t n, double value) {
  std::size_t k = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
  if (n >= 8 && cpu_has_avx()) {
    k = fill_run_avx(to, n, value);
  }
#endif
  for (; k < n; ++k) {
    to[k] = value;
  }
}

void check_indexset(const IndexSet& set, std::size_t extent) {
  if (set.count == 0) {
    throw IndexError("empty selection");
  }
  // The common case in one branch-free pass (the largest listed position, or
  // a slice's two ends); the loop below names the first bad index.
  if (set.list != nullptr) {
    std::size_t largest = 0;
    for (std::size_t k = 0; k < set.count; ++k) {
      largest = set.list[k] > largest ? set.list[k] : largest;
    }
    if (largest < extent) {
      return;
    }
  } else if (set[0] < extent && set[set.count - 1] < extent) {
    return;
  }
  for (std::size_t k = 0; k < set.count; ++k) {
    if (set[k] >= extent) {
      throw IndexError("index " + std::to_string(set[k]) + " out of range for extent " + std::to_string(extent));
    }
  }
}

/// Which elements of a vector layout are the vector components.
struct VectorLayout {
  std::size_t count;      // number of vectors
  std::size_t dim;        // components per vector
  std::size_t vec_step;   // distance between consecutive vectors
  std::size_t comp_step;  // distance between components of one vector
};

VectorLayout vector_layout(Shape shape, Axis axis) {
  if (axis == Axis::k1) {
    return {shape.rows, shape.cols, shape.cols, 1};
  }
  if (axis == Axis::k0) {
    return {shape.cols, shape.rows, 1, shape.cols};
  }
  throw std::invalid_argument("vector operations need axis 0 or 1");
}

}  // namespace

// ---- Shapes and storage -----------------------------------------------------

std::string shape_string(Shape shape) {
  // Appended piecewise: "literal" + std::string&& trips a GCC 12 -Wrestrict
  // false positive.
  std::string text = "(";
  text += std::to_string(shape.rows);
  text += ", ";
  text += std::to_string(shape.cols);
  text += ")";
  return text;
}

std::string shape_mismatch_message(Shape lhs, Shape rhs) {
  return "shape mismatch: " + shape_string(lhs) + " vs " + shape_string(rhs);
}

ShapeError::ShapeError(Shape lhs, Shape rhs) : std::invalid_argument(shape_mismatch_message(lhs, rhs)) {}

void check_dimensions(std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) {
    throw std::invalid_argument("Rows and columns must both be > 0");
  }
  constexpr std::size_t kMaxElements =
      static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(double);
  if (rows > kMaxElements / cols) {
    throw std::length_error("matrix too large: " + shape_string({rows, cols}));
  }
}

Dense::Dense(std::size_t r, std::size_t c) : rows(r), cols(c) {
  check_dimensions(r, c);
  data.assign(r * c, 0.0);
}

Dense Dense::uninit(std::size_t r, std::size_t c) {
  check_dimensions(r, c);
  Dense out;
  out.rows = r;
  out.cols = c;
  out.data.resize(r * c);  // UninitAllocator: no zero fill
  return out;
}

Dense::Dense(std::size_t r, std::size_t c, double fill) : rows(r), cols(c) {
  check_dimensions(r, c);
  data.assign(r * c, fill);
}

Dense::Dense(std::size_t r, std::size_t c, std::vector<double>&& values) : rows(r), cols(c) {
  check_dimensions(r, c);
  if (values.size() != r * c) {
    throw ShapeError("expected " + std::to_string(r * c) + " values for " + shape_string({r, c}) + ", got " +
                     std::to_string(values.size()));
  }
  data.assign(values.begin(), values.end());
}

Dense::Dense(std::size_t r, std::size_t c, Buffer&& values) : rows(r), cols(c) {
  check_dimensions(r, c);
  if (values.size() != r * c) {
    throw ShapeError("expected " + std::to_string(r * c) + " values for " + shape_string({r, c}) + ", got " +
                     std::to_string(values.size()));
  }
  data = std::move(values);
}

// ---- Broadcasting element-wise operations -----------------------------------

Shape broadcast_shape(Shape lhs, Shape rhs) {
  auto axis = [&](std::size_t a, std::size_t b) {
    if (a == b || b == 1) {
      return a;
    }
    if (a == 1) {
      return b;
    }
    throw ShapeError(lhs, rhs);
  };
  const std::size_t rows = axis(lhs.rows, rhs.rows);
  const std::size_t cols = axis(lhs.cols, rhs.cols);
  return {rows, cols};
}

Shape broadcast_shape(Shape a, Shape b, Shape c) {
  const Shape ab = broadcast_shape(a, b);
  try {
    return broadcast_shape(ab, c);
  } catch (const ShapeError&) {
    // Name two original operands rather than the intermediate shape: a vs c
    // if those disagree (this call throws), else b vs c.
    broadcast_shape(a, c);
    throw ShapeError(b, c);
  }
}

void binary(BinaryOp op, ConstView lhs, ConstView rhs, MutView out) {
  require_shape(out.shape(), broadcast_shape(lhs.shape(), rhs.shape()));
  switch (op) {
    case BinaryOp::kAdd: return apply2(lhs, rhs, out, [](double a, double b) { return a + b; });
    case BinaryOp::kSubtract: return apply2(lhs, rhs, out, [](double a, double b) { return a - b; });
    case BinaryOp::kMultiply: return apply2(lhs, rhs, out, [](double a, double b) { return a * b; });
    case BinaryOp::kDivide: return apply2(lhs, rhs, out, [](double a, double b) { return a / b; });
    case BinaryOp::kLess: return apply2(lhs, rhs, out, [](double a, double b) { return a < b ? 1.0 : 0.0; });
    case BinaryOp::kLessEqual: return apply2(lhs, rhs, out, [](double a, double b) { return a <= b ? 1.0 : 0.0; });
    case BinaryOp::kGreater: return apply2(lhs, rhs, out, [](double a, double b) { return a > b ? 1.0 : 0.0; });
    case BinaryOp::kGreaterEqual: return apply2(lhs, rhs, out, [](double a, double b) { return a >= b ? 1.0 : 0.0; });
    case BinaryOp::kEqual: return apply2(lhs, rhs, out, [](double a, double b) { return a == b ? 1.0 : 0.0; });
    case BinaryOp::kNotEqual: return apply2(lhs, rhs, out, [](double a, double b) { return a != b ? 1.0 : 0.0; });
    case BinaryOp::kMinimum: return apply2(lhs, rhs, out, nan_min);
    case BinaryOp::kMaximum: return apply2(lhs, rhs, out, nan_max);
  }
  throw std::invalid_argument("unknown binary operation");
}

Dense binary(BinaryOp op, ConstView lhs, ConstView rhs) {
  const Shape shape = broadcast_shape(lhs.shape(), rhs.shape());
  Dense out = Dense::uninit(shape.rows, shape.cols);
  binary(op, lhs, rhs, out);
  return out;
}

void where(ConstView mask, ConstView a, ConstView b, MutView out) {
  require_shape(out.shape(), broadcast_shape(mask.shape(), a.shape(), b.shape()));
  apply3(mask, a, b, out, [](double m, double x, double y) { return m != 0.0 ? x : y; });
}

Dense where(ConstView mask, ConstView a, ConstView b) {
  const Shape shape = broadcast_shape(mask.shape(), a.shape(), b.shape());
  Dense out = Dense::uninit(shape.rows, shape.cols);
  where(mask, a, b, out);
  return out;
}

namespace {

// std::fma is a libm call on the baseline x86-64 target; this clone runs the
// hardware instruction where the CPU has it (same single rounding, same bits).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("fma", "default")))
#endif
void fma_flat(const double* a, std::size_t sa, const double* b, std::size_t sb,
              const double* c, std::size_t sc, double* out, std::size_t n) {
  // Unit strides, and a full self with scalar b, c, get loops of their own
  // so that they vectorise (the strided loop does not). Written out here,
  // not as a template: only this function's body carries the clone target.
  if (sa == 1 && sb == 1 && sc == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = std::fma(a[i], b[i], c[i]);
    }
    return;
  }
  if (sa == 1 && sb == 0 && sc == 0) {
    const double vb = b[0];
    const double vc = c[0];
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = std::fma(a[i], vb, vc);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = std::fma(a[i * sa], b[i * sb], c[i * sc]);
  }
}

void fma_kernel(ConstView a, ConstView b, ConstView c, MutView out) {
  const Shape shape = out.shape();
  auto flat = [&](ConstView v) { return v.shape() == shape || v.size() == 1; };
  if (flat(a) && flat(b) && flat(c)) {
    auto step = [&](ConstView v) -> std::size_t { return v.size() == 1 && shape.size() != 1 ? 0 : 1; };
    fma_flat(a.data, step(a), b.data, step(b), c.data, step(c), out.data, shape.size());
    return;
  }
  apply3(a, b, c, out, [](double x, double y, double z) { return std::fma(x, y, z); });
}

}  // namespace

void fused_multiply_add(ConstView a, ConstView b, ConstView c, MutView out) {
  require_shape(out.shape(), broadcast_shape(a.shape(), b.shape(), c.shape()));
  fma_kernel(a, b, c, out);
}

void scaled_add(ConstView y, ConstView s, ConstView x, MutView out) {
  require_shape(out.shape(), broadcast_shape(y.shape(), s.shape(), x.shape()));
  // Two roundings: the product first, then the sum (-ffp-contract=off).
  apply3(y, s, x, out, [](double a, double k, double v) {
    const double product = k * v;
    return a + product;
  });
}

void clip(ConstView x, ConstView lo, ConstView hi, MutView out) {
  require_shape(out.shape(), broadcast_shape(x.shape(), lo.shape(), hi.shape()));
  apply3(x, lo, hi, out, [](double v, double l, double h) { return v < l ? l : (v > h ? h : v); });
}

namespace {

// ceil, floor and nearbyint are libm calls per element on the baseline
// x86-64 target; the SSE4.1 clone makes each one instruction (roundpd, the
// same result bit for bit). Plain functions: only a body carries a clone.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BOC_MATRIX_ROUNDING_CLONES __attribute__((target_clones("sse4.1", "default")))
#else
#define BOC_MATRIX_ROUNDING_CLONES
#endif
BOC_MATRIX_ROUNDING_CLONES void ceil_flat(const double* src, double* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = std::ceil(src[i]);
}
BOC_MATRIX_ROUNDING_CLONES void floor_flat(const double* src, double* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = std::floor(src[i]);
}
BOC_MATRIX_ROUNDING_CLONES void nearbyint_flat(const double* src, double* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = std::nearbyint(src[i]);
}
#undef BOC_MATRIX_ROUNDING_CLONES

}  // namespace

void unary(UnaryOp op, ConstView in, MutView out) {
  require_shape(out.shape(), in.shape());
  switch (op) {
    case UnaryOp::kNegate: return apply1(in, out, [](double v) { return -v; });
    case UnaryOp::kAbs: return apply1(in, out, [](double v) { return std::fabs(v); });
    case UnaryOp::kSqrt: return apply1(in, out, [](double v) { return std::sqrt(v); });
    case UnaryOp::kCeil: return ceil_flat(in.data, out.data, in.size());
    case UnaryOp::kFloor: return floor_flat(in.data, out.data, in.size());
    case UnaryOp::kRound:
      // Halves to even, as bocpy's nearbyint (the default rounding mode).
      return nearbyint_flat(in.data, out.data, in.size());
  }
  throw std::invalid_argument("unknown unary operation");
}

Dense unary(UnaryOp op, ConstView in) {
  Dense out = Dense::uninit(in.rows, in.cols);
  unary(op, in, out);
  return out;
}

// ---- Reductions -------------------------------------------------------------

Shape reduced_shape(Shape shape, Axis axis) {
  switch (axis) {
    case Axis::kAll: return {1, 1};
    case Axis::k0: return {1, shape.cols};
    case Axis::k1: return {shape.rows, 1};
  }
  return {1, 1};
}

namespace {

/// finish() over n accumulators of count terms each, as separate loops so
/// that the divisions and square roots are packed (the same IEEE results).
void finish_all(Reduction op, double* acc, std::size_t n, std::size_t count) {
  if (op == Reduction::kMean) {
    const auto d = static_cast<double>(count);
    for (std::size_t i = 0; i < n; ++i) {
      acc[i] = acc[i] / d;
    }
  } else if (op == Reduction::kMagnitude) {
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= n; i += 2) {
      _mm_storeu_pd(acc + i, _mm_sqrt_pd(_mm_loadu_pd(acc + i)));
    }
#endif
    for (; i < n; ++i) {
      acc[i] = std::sqrt(acc[i]);
    }
  }
}

/// Column sums (of squares) of an n x N matrix, N <= 4, top to bottom as
/// the general loop adds them, but in registers rather than through memory.
template <std::size_t N, bool kSquares>
void column_sums(const double* src, std::size_t rows, double* out) {
  double acc[N] = {};
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = src + r * N;
    for (std::size_t c = 0; c < N; ++c) {
      acc[c] += kSquares ? row[c] * row[c] : row[c];
    }
  }
  for (std::size_t c = 0; c < N; ++c) {
    out[c] = acc[c];
  }
}

}  // namespace

/// Sum of n terms in a fixed order that is not latency-bound: below
/// kLaneMin terms left to right; otherwise lane k (of 8) adds the terms
/// i = k (mod 8) in order and the lanes merge pairwise, ((0+1)+(2+3)) +
/// ((4+5)+(6+7)). The same input always gives the same bits.
constexpr std::size_t kLanes = 8;
constexpr std::size_t kLaneMin = 32;

template <bool kSquares>
double lane_sum(const double* src, std::size_t n) {
  auto term = [](double v) { return kSquares ? v * v : v; };
  if (n < kLaneMin) {
    double acc = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      acc += term(src[i]);
    }
    return acc;
  }
  double lane[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t k = 0; k < kLanes; ++k) {
      lane[k] += term(src[i + k]);
    }
  }
  for (std::size_t k = 0; i < n; ++i, ++k) {
    lane[k] += term(src[i]);
  }
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/// min / max of n values (NaN if any is NaN), with independent lanes so the
/// compares pipeline. Among equal values the first kept is unspecified only
/// for -0.0 versus 0.0.
template <bool kMax>
double lane_extreme(const double* src, std::size_t n) {
  std::size_t i = 0;
  double best = src[0];
  bool nan = false;
#if defined(__SSE2__)
  // Packed compare-and-select: _mm_min_pd(v, acc) is exactly
  // `v < acc ? v : acc` (acc when unordered), the scalar rule below; NaNs
  // are counted apart with an unordered compare.
  if (n >= 16) {
    // Four accumulators (eight lanes) hide the compare latency.
    __m128d acc[4];
    for (__m128d& a : acc) {
      a = _mm_set1_pd(src[0]);
    }
    __m128d bad = _mm_setzero_pd();
    for (; i + 8 <= n; i += 8) {
      for (int k = 0; k < 4; k += 2) {
        const __m128d v0 = _mm_loadu_pd(src + i + 2 * k);
        const __m128d v1 = _mm_loadu_pd(src + i + 2 * k + 2);
        bad = _mm_or_pd(bad, _mm_cmpunord_pd(v0, v1));
        acc[k] = kMax ? _mm_max_pd(v0, acc[k]) : _mm_min_pd(v0, acc[k]);
        acc[k + 1] = kMax ? _mm_max_pd(v1, acc[k + 1]) : _mm_min_pd(v1, acc[k + 1]);
      }
    }
    nan = _mm_movemask_pd(bad) != 0;
    double lanes[8];
    for (int k = 0; k < 4; ++k) {
      _mm_storeu_pd(lanes + 2 * k, acc[k]);
    }
    for (const double v : lanes) {
      best = (kMax ? v > best : v < best) ? v : best;
    }
  }
#endif
  for (; i < n; ++i) {
    const double v = src[i];
    nan |= v != v;
    best = (kMax ? v > best : v < best) ? v : best;
  }
  return nan || best != best ? std::numeric_limits<double>::quiet_NaN() : best;
}

double reduce_all(Reduction op, ConstView in) {
  const std::size_t n = in.size();
  switch (op) {
    case Reduction::kMin: return lane_extreme<false>(in.data, n);
    case Reduction::kMax: return lane_extreme<true>(in.data, n);
    case Reduction::kArgMin:
    case Reduction::kArgMax: {
      Extremum e;
      e.strict = true;
      const bool want_max = op == Reduction::kArgMax;
      for (std::size_t i = 0; i < n; ++i) {
        e.push(in.data[i], i, want_max);
      }
      return static_cast<double>(e.index);
    }
    default: break;
  }
  const double acc = squares(op) ? lane_sum<true>(in.data, n) : lane_sum<false>(in.data, n);
  return finish(op, acc, n);
}

Dense reduce(Reduction op, ConstView in, Axis axis) {
  const Shape out_shape = reduced_shape(in.shape(), axis);
  Dense out = Dense::uninit(out_shape.rows, out_shape.cols);
  reduce(op, in, axis, out);
  return out;
}

void reduce(Reduction op, ConstView in, Axis axis, MutView out_view) {
  require_shape(out_view.shape(), reduced_shape(in.shape(), axis));
  if (axis == Axis::kAll) {
    out_view.data[0] = reduce_all(op, in);
    return;
  }
  double* const o = out_view.data;  // every kernel below writes all of it
  const std::size_t rows = in.rows;
  const std::size_t cols = in.cols;
  const double* src = in.data;

  if ((op == Reduction::kMin || op == Reduction::kMax) && axis == Axis::k1) {
    const bool want_max = op == Reduction::kMax;
    std::size_t r = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
    // Blocks of rows side by side, each row still left to right.
    if (cpu_has_avx()) {
      r = want_max ? row_extremes_avx<true>(src, rows, cols, o) : row_extremes_avx<false>(src, rows, cols, o);
    }
#endif
    for (; r < rows; ++r) {
      o[r] = want_max ? lane_extreme<true>(src + r * cols, cols) : lane_extreme<false>(src + r * cols, cols);
    }
    return;
  }
#if defined(BOC_MATRIX_AVX_ROWS)
  if ((op == Reduction::kMin || op == Reduction::kMax) && axis == Axis::k0 && cpu_has_avx()) {
    // Packed down the columns; a NaN anywhere falls through to the scalar
    // loop below (which keeps the first NaN itself).
    const bool done = op == Reduction::kMax ? col_extremes_avx<true>(src, rows, cols, o)
                                            : col_extremes_avx<false>(src, rows, cols, o);
    if (done) {
      return;
    }
  }
#endif
  if (is_extremum(op)) {
    const bool want_max = wants_max(op);
    const bool want_index = wants_index(op);
    if (axis == Axis::kAll) {
      Extremum e;
      e.strict = want_index;
      const std::size_t n = in.size();
      for (std::size_t i = 0; i < n; ++i) {
        e.push(src[i], i, want_max);
      }
      o[0] = want_index ? static_cast<double>(e.index) : e.value;
    } else if (axis == Axis::k1) {
      for (std::size_t r = 0; r < rows; ++r) {
        Extremum e;
        e.strict = want_index;
        for (std::size_t c = 0; c < cols; ++c) {
          e.push(src[r * cols + c], c, want_max);
        }
        o[r] = want_index ? static_cast<double>(e.index) : e.value;
      }
    } else {
      std::vector<Extremum> acc(cols);
      for (Extremum& e : acc) {
        e.strict = want_index;
      }
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
          acc[c].push(src[r * cols + c], r, want_max);
        }
      }
      for (std::size_t c = 0; c < cols; ++c) {
        o[c] = want_index ? static_cast<double>(acc[c].index) : acc[c].value;
      }
    }
    return;
  }

  const bool sq = squares(op);
  if (axis == Axis::kAll) {
    const std::size_t n = in.size();
    const double acc = sq ? lane_sum<true>(src, n) : lane_sum<false>(src, n);
    o[0] = finish(op, acc, n);
  } else if (axis == Axis::k1) {
    if (sq) {
      row_sums<true>(src, rows, cols, o);
    } else {
      row_sums<false>(src, rows, cols, o);
    }
    finish_all(op, o, rows, cols);
  } else if (cols <= 4) {
    // Narrow (n x 1..4): the column sums stay in registers.
    switch (cols * 2 + (sq ? 1 : 0)) {
      case 2: column_sums<1, false>(src, rows, o); break;
      case 3: column_sums<1, true>(src, rows, o); break;
      case 4: column_sums<2, false>(src, rows, o); break;
      case 5: column_sums<2, true>(src, rows, o); break;
      case 6: column_sums<3, false>(src, rows, o); break;
      case 7: column_sums<3, true>(src, rows, o); break;
      case 8: column_sums<4, false>(src, rows, o); break;
      default: column_sums<4, true>(src, rows, o); break;
    }
    finish_all(op, o, cols, rows);
  } else {
    double* acc = o;
    std::fill(acc, acc + cols, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
      const double* row = src + r * cols;
      if (sq) {
        for (std::size_t c = 0; c < cols; ++c) {
          acc[c] += row[c] * row[c];
        }
      } else {
        for (std::size_t c = 0; c < cols; ++c) {
          acc[c] += row[c];
        }
      }
    }
    finish_all(op, acc, cols, rows);
  }
}

namespace {

/// dst(r, c) = src(r, c) / div[c], packed; dst may be src. Narrow rows (1-3
/// columns) run as one flat loop over a divisor pattern of 12 (a multiple of
/// every such width), so they pack too.
void divide_by_row(const double* src, double* dst, std::size_t rows, std::size_t cols, const double* div) {
  const std::size_t n = rows * cols;
  if (cols < 4) {
    constexpr std::size_t kPeriod = 12;
    double pattern[kPeriod];
    for (std::size_t k = 0; k < kPeriod; ++k) {
      pattern[k] = div[k % cols];
    }
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; i + kPeriod <= n; i += kPeriod) {
      for (std::size_t k = 0; k < kPeriod; k += 2) {
        _mm_storeu_pd(dst + i + k, _mm_div_pd(_mm_loadu_pd(src + i + k), _mm_loadu_pd(pattern + k)));
      }
    }
#endif
    for (; i < n; ++i) {
      dst[i] = src[i] / pattern[i % kPeriod];
    }
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const double* s_row = src + r * cols;
    double* d_row = dst + r * cols;
    std::size_t c = 0;
#if defined(__SSE2__)
    for (; c + 2 <= cols; c += 2) {
      _mm_storeu_pd(d_row + c, _mm_div_pd(_mm_loadu_pd(s_row + c), _mm_loadu_pd(div + c)));
    }
#endif
    for (; c < cols; ++c) {
      d_row[c] = s_row[c] / div[c];
    }
  }
}

}  // namespace

void normalize(ConstView in, Axis axis, MutView out) {
  require_shape(out.shape(), in.shape());
  const std::size_t rows = in.rows;
  const std::size_t cols = in.cols;
  const double* src = in.data;
  double* dst = out.data;
  // The magnitudes are the ones reduce(kMagnitude) computes (same order);
  // each group is then divided by its own, or left alone when it is 0. One
  // loop per axis, so the divisions vectorise.
  if (axis == Axis::kAll) {
    const double mag = reduce_all(Reduction::kMagnitude, in);
    const std::size_t n = in.size();
    if (mag == 0.0) {
      if (dst != src) {
        std::memcpy(dst, src, n * sizeof(double));
      }
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      dst[i] = src[i] / mag;
    }
    return;
  }
  if (axis == Axis::k1) {
    double small[64];
    std::vector<double> big;
    double* mags = small;
    if (rows > 64) {
      big.resize(rows);
      mags = big.data();
    }
    row_sums<true>(src, rows, cols, mags);
    for (std::size_t r = 0; r < rows; ++r) {
      const double mag = std::sqrt(mags[r]);
      const double* s_row = src + r * cols;
      double* d_row = dst + r * cols;
      if (mag != 0.0) {
        for (std::size_t c = 0; c < cols; ++c) {
          d_row[c] = s_row[c] / mag;
        }
      } else if (d_row != s_row) {
        std::memcpy(d_row, s_row, cols * sizeof(double));
      }
    }
    return;
  }
  Dense mags = reduce(Reduction::kMagnitude, in, Axis::k0);
  double* m = mags.data.data();
  // A zero magnitude divides by 1 instead: its column holds only finite
  // values (a NaN or inf would make the magnitude NaN or inf), and x / 1 is
  // x bit for bit, so the column is left unchanged as before.
  for (std::size_t c = 0; c < cols; ++c) {
    m[c] = m[c] != 0.0 ? m[c] : 1.0;
  }
  divide_by_row(src, dst, rows, cols, m);
}

namespace {

/// vecdot down the N columns: each sum adds its products top to bottom,
/// as the general loop does, but in registers rather than through memory.
template <std::size_t N>
void column_dots(const Strided& sa, const Strided& sb, std::size_t rows, Dense& out) {
  double acc[N] = {};
  for (std::size_t r = 0; r < rows; ++r) {
    const double* ra = sa.data + r * sa.row;
    const double* rb = sb.data + r * sb.row;
    for (std::size_t c = 0; c < N; ++c) {
      acc[c] += ra[c * sa.col] * rb[c * sb.col];
    }
  }
  for (std::size_t c = 0; c < N; ++c) {
    out.data[c] = acc[c];
  }
}

}  // namespace

Dense vecdot(ConstView lhs, ConstView rhs, Axis axis) {
  const Shape shape = broadcast_shape(lhs.shape(), rhs.shape());
  if (axis == Axis::kAll) {
    const Dense products = binary(BinaryOp::kMultiply, lhs, rhs);
    return reduce(Reduction::kSum, products, axis);
  }
  // Fused: the products are summed as they are formed, in the order
  // reduce(kSum) would add them (rows top to bottom for k0, columns left to
  // right for k1), without the temporary matrix of products.
  const Strided sa = strided(lhs, shape);
  const Strided sb = strided(rhs, shape);
  const Shape out_shape = reduced_shape(shape, axis);
  Dense out(out_shape.rows, out_shape.cols);
  double* o = out.data.data();
  const std::size_t rows = shape.rows;
  const std::size_t cols = shape.cols;
  if (axis == Axis::k0) {
    if (cols <= 4) {  // narrow (n x 1..4): the sums stay in registers
      if (cols == 1) {
        column_dots<1>(sa, sb, rows, out);
      } else if (cols == 2) {
        column_dots<2>(sa, sb, rows, out);
      } else if (cols == 3) {
        column_dots<3>(sa, sb, rows, out);
      } else {
        column_dots<4>(sa, sb, rows, out);
      }
      return out;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const double* ra = sa.data + r * sa.row;
      const double* rb = sb.data + r * sb.row;
      if (sa.col == 1 && sb.col == 1) {
        for (std::size_t c = 0; c < cols; ++c) {
          o[c] += ra[c] * rb[c];
        }
      } else if (sa.col == 1) {  // rhs is a column: one value per row
        const double vb = rb[0];
        for (std::size_t c = 0; c < cols; ++c) {
          o[c] += ra[c] * vb;
        }
      } else {
        for (std::size_t c = 0; c < cols; ++c) {
          o[c] += ra[c * sa.col] * rb[c * sb.col];
        }
      }
    }
    return out;
  }
  std::size_t r = 0;
  if (sa.col == 1 && sb.col == 1) {
    // Four rows at a time: four independent chains, each row left to right.
    for (; r + 4 <= rows; r += 4) {
      double acc[4] = {0.0, 0.0, 0.0, 0.0};
      for (std::size_t c = 0; c < cols; ++c) {
        for (std::size_t k = 0; k < 4; ++k) {
          acc[k] += sa.data[(r + k) * sa.row + c] * sb.data[(r + k) * sb.row + c];
        }
      }
      for (std::size_t k = 0; k < 4; ++k) {
        o[r + k] = acc[k];
      }
    }
  }
  for (; r < rows; ++r) {
    const double* ra = sa.data + r * sa.row;
    const double* rb = sb.data + r * sb.row;
    double acc = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      acc += ra[c * sa.col] * rb[c * sb.col];
    }
    o[r] = acc;
  }
  return out;
}

// ---- Linear algebra and geometry --------------------------------------------

namespace {

/// matmul for a right-hand side with N <= 4 columns (e.g. a mask times m x 2
/// positions): blocks of 4 rows keep 4 * N independent accumulators in
/// registers. Each still adds its products for k = 0, 1, ... in order, so the
/// bits match the streaming loop in matmul().
template <std::size_t N>
void matmul_narrow(ConstView lhs, ConstView rhs, Dense& out) {
  constexpr std::size_t kBlock = 4;
  const std::size_t m = lhs.rows;
  const std::size_t inner = lhs.cols;
  std::size_t i0 = 0;
  for (; i0 + kBlock <= m; i0 += kBlock) {
    double acc[kBlock][N] = {};
    const double* a0 = lhs.data + i0 * inner;
    for (std::size_t k = 0; k < inner; ++k) {
      const double* brow = rhs.data + k * N;
      for (std::size_t r = 0; r < kBlock; ++r) {
        const double a = a0[r * inner + k];
        for (std::size_t j = 0; j < N; ++j) {
          acc[r][j] += a * brow[j];
        }
      }
    }
    for (std::size_t r = 0; r < kBlock; ++r) {
      for (std::size_t j = 0; j < N; ++j) {
        out.data[(i0 + r) * N + j] = acc[r][j];
      }
    }
  }
  for (; i0 < m; ++i0) {
    double acc[N] = {};
    const double* arow = lhs.data + i0 * inner;
    for (std::size_t k = 0; k < inner; ++k) {
      for (std::size_t j = 0; j < N; ++j) {
        acc[j] += arow[k] * rhs.data[k * N + j];
      }
    }
    for (std::size_t j = 0; j < N; ++j) {
      out.data[i0 * N + j] = acc[j];
    }
  }
}

// Rows up to this many columns of lhs go through matmul_wide: the column
// strip of rhs it streams (inner x 8 doubles) stays in L1.
constexpr std::size_t kWideMaxInner = 256;

/// matmul() for n > 4: blocks of the output are built in registers over the
/// whole inner loop, instead of streaming each output row through memory
/// once per k (a 16x16 product took 2.2 us). Every output element still
/// starts at 0 and adds a*b in k order, so the bits match the streaming loop.
// Two doubles as one value (GCC/Clang vector extension): + and * act on
// each lane as on a scalar, with the same rounding, and compile to SSE2
// (baseline x86-64) or whatever the target has.
using Lanes2 = double __attribute__((vector_size(16)));

Lanes2 load2(const double* p) noexcept {
  Lanes2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store2(double* p, Lanes2 v) noexcept { std::memcpy(p, &v, sizeof v); }

// One output element: 0 plus a*b in k order, as every path here computes it.
double dot_column(const double* arow, const double* rhs, std::size_t inner, std::size_t n, std::size_t j) noexcept {
  double acc = 0.0;
  for (std::size_t k = 0; k < inner; ++k) acc += arow[k] * rhs[k * n + j];
  return acc;
}

#if defined(BOC_MATRIX_AVX_ROWS)
/// The first rows of matmul_wide with AVX, four rows by eight columns at a
/// time: eight four-lane sums, as the two-lane loop below keeps eight. Each
/// output element is still 0 plus a*b in k order, and `avx` alone has no
/// fused multiply-add to contract mul and add into, so the bits match the
/// other paths. Columns past the last full block of eight go through
/// dot_column. Returns the rows done (a multiple of four).
__attribute__((target("avx"))) std::size_t matmul_wide_avx(ConstView lhs, ConstView rhs, double* o) {
  const std::size_t m = lhs.rows;
  const std::size_t inner = lhs.cols;
  const std::size_t n = rhs.cols;
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const double* a[4];
    double* orow[4];
    for (std::size_t r = 0; r < 4; ++r) {
      a[r] = lhs.data + (i + r) * inner;
      orow[r] = o + (i + r) * n;
    }
    std::size_t j0 = 0;
    for (; j0 + 8 <= n; j0 += 8) {
      __m256d lo[4];
      __m256d hi[4];
      for (std::size_t r = 0; r < 4; ++r) {
        lo[r] = _mm256_setzero_pd();
        hi[r] = _mm256_setzero_pd();
      }
      const double* b = rhs.data + j0;
      for (std::size_t k = 0; k < inner; ++k, b += n) {
        const __m256d b0 = _mm256_loadu_pd(b);
        const __m256d b1 = _mm256_loadu_pd(b + 4);
        for (std::size_t r = 0; r < 4; ++r) {
          const __m256d x = _mm256_broadcast_sd(a[r] + k);
          lo[r] = _mm256_add_pd(lo[r], _mm256_mul_pd(x, b0));
          hi[r] = _mm256_add_pd(hi[r], _mm256_mul_pd(x, b1));
        }
      }
      for (std::size_t r = 0; r < 4; ++r) {
        _mm256_storeu_pd(orow[r] + j0, lo[r]);
        _mm256_storeu_pd(orow[r] + j0 + 4, hi[r]);
      }
    }
    for (std::size_t j = j0; j < n; ++j) {
      for (std::size_t r = 0; r < 4; ++r) orow[r][j] = dot_column(a[r], rhs.data, inner, n, j);
    }
  }
  return i;
}
#endif

void matmul_wide(ConstView lhs, ConstView rhs, Dense& out) {
  // Two rows by eight columns: eight independent two-lane sums, so an add
  // never waits for the previous add of the same sum (a one-row loop was
  // bound by that latency), and each rhs load serves both rows.
  const std::size_t m = lhs.rows;
  const std::size_t inner = lhs.cols;
  const std::size_t n = rhs.cols;
  double* const o = out.data.data();
  std::size_t i = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
  if (n >= 8 && cpu_has_avx()) {
    i = matmul_wide_avx(lhs, rhs, o);  // the rest (< 4 rows) below
  }
#endif
  for (; i + 2 <= m; i += 2) {
    const double* a0 = lhs.data + i * inner;
    const double* a1 = a0 + inner;
    double* o0 = o + i * n;
    double* o1 = o0 + n;
    std::size_t j0 = 0;
    for (; j0 + 8 <= n; j0 += 8) {
      Lanes2 c00{}, c01{}, c02{}, c03{}, c10{}, c11{}, c12{}, c13{};
      const double* b = rhs.data + j0;
      for (std::size_t k = 0; k < inner; ++k, b += n) {
        const Lanes2 b0 = load2(b), b1 = load2(b + 2), b2 = load2(b + 4), b3 = load2(b + 6);
        const Lanes2 x0 = {a0[k], a0[k]};
        const Lanes2 x1 = {a1[k], a1[k]};
        c00 += x0 * b0;
        c01 += x0 * b1;
        c02 += x0 * b2;
        c03 += x0 * b3;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c12 += x1 * b2;
        c13 += x1 * b3;
      }
      store2(o0 + j0, c00);
      store2(o0 + j0 + 2, c01);
      store2(o0 + j0 + 4, c02);
      store2(o0 + j0 + 6, c03);
      store2(o1 + j0, c10);
      store2(o1 + j0 + 2, c11);
      store2(o1 + j0 + 4, c12);
      store2(o1 + j0 + 6, c13);
    }
    for (std::size_t j = j0; j < n; ++j) {
      o0[j] = dot_column(a0, rhs.data, inner, n, j);
      o1[j] = dot_column(a1, rhs.data, inner, n, j);
    }
  }
  for (; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) o[i * n + j] = dot_column(lhs.data + i * inner, rhs.data, inner, n, j);
  }
}

}  // namespace

Dense matmul(ConstView lhs, ConstView rhs) {
  if (lhs.cols != rhs.rows) {
    throw ShapeError(shape_mismatch_message(lhs.shape(), rhs.shape()) + " (matmul needs lhs columns == rhs rows)");
  }
  const std::size_t m = lhs.rows;
  const std::size_t inner = lhs.cols;
  const std::size_t n = rhs.cols;
  if (n > 4 && inner <= kWideMaxInner) {
    Dense out = Dense::uninit(m, n);  // matmul_wide writes every element
    matmul_wide(lhs, rhs, out);
    return out;
  }
  Dense out(m, n);
  switch (n) {
    case 1: matmul_narrow<1>(lhs, rhs, out); return out;
    case 2: matmul_narrow<2>(lhs, rhs, out); return out;
    case 3: matmul_narrow<3>(lhs, rhs, out); return out;
    case 4: matmul_narrow<4>(lhs, rhs, out); return out;
    default: break;
  }
  for (std::size_t i = 0; i < m; ++i) {
    double* orow = out.data.data() + i * n;
    const double* arow = lhs.data + i * inner;
    for (std::size_t k = 0; k < inner; ++k) {
      const double a = arow[k];
      const double* brow = rhs.data + k * n;
      for (std::size_t j = 0; j < n; ++j) {
        orow[j] += a * brow[j];
      }
    }
  }
  return out;
}

Dense transpose(ConstView in) {
  Dense out = Dense::uninit(in.cols, in.rows);
  for (std::size_t r = 0; r < in.rows; ++r) {
    for (std::size_t c = 0; c < in.cols; ++c) {
      out.data[c * in.rows + r] = in.data[r * in.cols + c];
    }
  }
  return out;
}

Dense reshape(ConstView in, Shape shape) {
  check_dimensions(shape.rows, shape.cols);
  if (shape.size() != in.size()) {
    throw ShapeError(in.shape(), shape);
  }
  return Dense(shape.rows, shape.cols, std::vector<double>(in.data, in.data + in.size()));
}

namespace {

/// Column c of v as a contiguous array (so pairwise loops stream it).
std::vector<double> column(ConstView v, std::size_t c) {
  std::vector<double> out(v.rows);
  for (std::size_t r = 0; r < v.rows; ++r) {
    out[r] = v.data[r * v.cols + c];
  }
  return out;
}

}  // namespace

std::vector<Dense> pairwise_diff(ConstView a, ConstView b) {
  if (a.cols != b.cols) {
    throw ShapeError(a.shape(), b.shape());
  }
  const std::size_t k = a.cols;
  const std::size_t n = a.rows;
  const std::size_t m = b.rows;
  std::vector<Dense> out;
  out.reserve(k);
  for (std::size_t c = 0; c < k; ++c) {
    const std::vector<double> bc = column(b, c);
    Dense d(n, m);
    double* o = d.data.data();
    for (std::size_t i = 0; i < n; ++i) {
      const double ai = a.data[i * k + c];
      double* orow = o + i * m;
      for (std::size_t j = 0; j < m; ++j) {
        orow[j] = ai - bc[j];
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

Dense pairwise_dist2(ConstView a, ConstView b) {
  if (a.cols != b.cols) {
    throw ShapeError(a.shape(), b.shape());
  }
  const std::size_t k = a.cols;
  const std::size_t n = a.rows;
  const std::size_t m = b.rows;
  Dense out(n, m);
  double* o = out.data.data();
  if (k == 2) {
    const std::vector<double> bx = column(b, 0);
    const std::vector<double> by = column(b, 1);
    for (std::size_t i = 0; i < n; ++i) {
      const double ax = a.data[2 * i];
      const double ay = a.data[2 * i + 1];
      double* orow = o + i * m;
      for (std::size_t j = 0; j < m; ++j) {
        const double dx = ax - bx[j];
        const double dy = ay - by[j];
        orow[j] = dx * dx + dy * dy;
      }
    }
    return out;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double* ai = a.data + i * k;
    for (std::size_t j = 0; j < m; ++j) {
      const double* bj = b.data + j * k;
      double acc = 0.0;
      for (std::size_t c = 0; c < k; ++c) {
        const double d = ai[c] - bj[c];
        acc += d * d;
      }
      o[i * m + j] = acc;
    }
  }
  return out;
}

Dense angle(ConstView in, Axis axis) {
  const VectorLayout l = vector_layout(in.shape(), axis);
  if (l.dim != 2) {
    throw ShapeError("angle needs 2-D vectors along axis " + std::string(axis == Axis::k0 ? "0" : "1") +
                     ", got shape " + shape_string(in.shape()));
  }
  const Shape shape = reduced_shape(in.shape(), axis);
  Dense out = Dense::uninit(shape.rows, shape.cols);
  // Blocks of vectors, each taken octant by octant: libm's atan2 branches on
  // the signs and on |y| > |x|, which mispredict in random order. Every
  // atan2(y, x) is still the same call on the same operands.
  constexpr std::size_t kBlock = 1024;
  std::uint8_t octant[kBlock];
  std::uint16_t order[kBlock];
  for (std::size_t v0 = 0; v0 < l.count; v0 += kBlock) {
    const std::size_t m = l.count - v0 < kBlock ? l.count - v0 : kBlock;
    std::uint16_t start[9] = {};
    for (std::size_t k = 0; k < m; ++k) {
      const double x = in.data[(v0 + k) * l.vec_step];
      const double y = in.data[(v0 + k) * l.vec_step + l.comp_step];
      const unsigned key =
          (std::signbit(x) ? 4U : 0U) | (std::signbit(y) ? 2U : 0U) | (std::fabs(y) > std::fabs(x) ? 1U : 0U);
      octant[k] = static_cast<std::uint8_t>(key);
      ++start[key + 1];
    }
    for (std::size_t b = 0; b < 8; ++b) {
      start[b + 1] = static_cast<std::uint16_t>(start[b + 1] + start[b]);
    }
    for (std::size_t k = 0; k < m; ++k) {
      order[start[octant[k]]++] = static_cast<std::uint16_t>(k);
    }
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t v = v0 + order[k];
      out.data[v] = std::atan2(in.data[v * l.vec_step + l.comp_step], in.data[v * l.vec_step]);
    }
  }
  return out;
}

Dense perpendicular(ConstView in, Axis axis) {
  const VectorLayout l = vector_layout(in.shape(), axis);
  if (l.dim != 2) {
    throw ShapeError("perpendicular needs 2-D vectors along axis " + std::string(axis == Axis::k0 ? "0" : "1") +
                     ", got shape " + shape_string(in.shape()));
  }
  Dense out = Dense::uninit(in.rows, in.cols);
  if (axis == Axis::k1) {
    rotate_pairs(in.data, out.data.data(), l.count);
    return out;
  }
  for (std::size_t v = 0; v < l.count; ++v) {
    const std::size_t ix = v * l.vec_step;
    const std::size_t iy = ix + l.comp_step;
    out.data[ix] = -in.data[iy];
    out.data[iy] = in.data[ix];
  }
  return out;
}

namespace {

#if defined(BOC_MATRIX_AVX_ROWS)
/// rotate_pairs two pairs per vector: swap within each 128-bit half, then
/// flip the sign of the new x. Returns the pairs done.
__attribute__((target("avx"))) std::size_t rotate_pairs_avx(const double* src, double* dst, std::size_t count) {
  const __m256d sign = _mm256_set_pd(0.0, -0.0, 0.0, -0.0);
  std::size_t v = 0;
  for (; v + 4 <= count; v += 4) {
    const __m256d p0 = _mm256_loadu_pd(src + 2 * v);
    const __m256d p1 = _mm256_loadu_pd(src + 2 * v + 4);
    _mm256_storeu_pd(dst + 2 * v, _mm256_xor_pd(_mm256_permute_pd(p0, 0x5), sign));
    _mm256_storeu_pd(dst + 2 * v + 4, _mm256_xor_pd(_mm256_permute_pd(p1, 0x5), sign));
  }
  return v;
}
#endif

}  // namespace

void rotate_pairs(const double* src, double* dst, std::size_t count) {
  std::size_t v = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
  if (cpu_has_avx()) {
    v = rotate_pairs_avx(src, dst, count);
  }
#endif
#if defined(__SSE2__)
  // (x, y) -> (y, x), then flip the sign of lane 0: exactly -y, x.
  const __m128d sign = _mm_set_pd(0.0, -0.0);
  for (; v < count; ++v) {
    const __m128d p = _mm_loadu_pd(src + 2 * v);
    _mm_storeu_pd(dst + 2 * v, _mm_xor_pd(_mm_shuffle_pd(p, p, 1), sign));
  }
#endif
  for (; v < count; ++v) {
    const double x = src[2 * v];
    dst[2 * v] = -src[2 * v + 1];
    dst[2 * v + 1] = x;
  }
}

Dense cross(ConstView lhs, ConstView rhs, Axis axis) {
  const Shape shape = broadcast_shape(lhs.shape(), rhs.shape());
  const VectorLayout l = vector_layout(shape, axis);
  if (l.dim != 2 && l.dim != 3) {
    throw ShapeError("cross needs 2-D or 3-D vectors along axis " + std::string(axis == Axis::k0 ? "0" : "1") +
                     ", got shape " + shape_string(shape));
  }
  // Fast paths: rhs of lhs's shape, or one vector (the same arithmetic, in
  // the same order, as the general loop below).
  const bool same = lhs.shape() == shape && rhs.shape() == shape;
  const bool single = lhs.shape() == shape && rhs.size() == l.dim && (rhs.rows == 1 || rhs.cols == 1);
  if (same || single) {
    const std::size_t bv = same ? l.vec_step : 0;
    const std::size_t bc = same ? l.comp_step : 1;
    const double* a = lhs.data;
    const double* b = rhs.data;
    const std::size_t av = l.vec_step;
    const std::size_t ac = l.comp_step;
    if (l.dim == 2) {
      const Shape out_shape = reduced_shape(shape, axis);
      Dense out = Dense::uninit(out_shape.rows, out_shape.cols);
      double* o = out.data.data();
      for (std::size_t v = 0; v < l.count; ++v) {
        const double* pa = a + v * av;
        const double* pb = b + v * bv;
        o[v] = pa[0] * pb[bc] - pa[ac] * pb[0];
      }
      return out;
    }
    Dense out = Dense::uninit(shape.rows, shape.cols);
    double* o = out.data.data();
    if (av == 1 && !same) {
      // Column vectors against one vector: x, y and z are three contiguous
      // rows, so the same arithmetic runs as packed loops.
      const double* ax = a;
      const double* ay = a + ac;
      const double* az = a + 2 * ac;
      double* ox = o;
      double* oy = o + ac;
      double* oz = o + 2 * ac;
      const double bx = b[0], by = b[bc], bz = b[2 * bc];
      for (std::size_t v = 0; v < l.count; ++v) {
        ox[v] = ay[v] * bz - az[v] * by;
        oy[v] = az[v] * bx - ax[v] * bz;
        oz[v] = ax[v] * by - ay[v] * bx;
      }
      return out;
    }
    for (std::size_t v = 0; v < l.count; ++v) {
      const double* pa = a + v * av;
      const double* pb = b + v * bv;
      const double ax = pa[0], ay = pa[ac], az = pa[2 * ac];
      const double bx = pb[0], by = pb[bc], bz = pb[2 * bc];
      double* po = o + v * av;
      po[0] = ay * bz - az * by;
      po[ac] = az * bx - ax * bz;
      po[2 * ac] = ax * by - ay * bx;
    }
    return out;
  }
  const Strided sa = strided(lhs, shape);
  const Strided sb = strided(rhs, shape);
  // Component j of vector v sits at output position (r, c); read it through
  // the operands' broadcast strides.
  auto at = [&](const Strided& s, std::size_t v, std::size_t j) {
    const std::size_t flat = v * l.vec_step + j * l.comp_step;
    const std::size_t r = flat / shape.cols;
    const std::size_t c = flat % shape.cols;
    return s.data[r * s.row + c * s.col];
  };
  if (l.dim == 2) {
    const Shape out_shape = reduced_shape(shape, axis);
    Dense out(out_shape.rows, out_shape.cols);
    for (std::size_t v = 0; v < l.count; ++v) {
      out.data[v] = at(sa, v, 0) * at(sb, v, 1) - at(sa, v, 1) * at(sb, v, 0);
    }
    return out;
  }
  Dense out(shape.rows, shape.cols);
  for (std::size_t v = 0; v < l.count; ++v) {
    const double ax = at(sa, v, 0), ay = at(sa, v, 1), az = at(sa, v, 2);
    const double bx = at(sb, v, 0), by = at(sb, v, 1), bz = at(sb, v, 2);
    const std::size_t base = v * l.vec_step;
    out.data[base] = ay * bz - az * by;
    out.data[base + l.comp_step] = az * bx - ax * bz;
    out.data[base + 2 * l.comp_step] = ax * by - ay * bx;
  }
  return out;
}

// ---- Comparisons ------------------------------------------------------------

bool equal(ConstView lhs, ConstView rhs) {
  if (lhs.shape() != rhs.shape()) {
    return false;
  }
  const std::size_t n = lhs.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!(lhs.data[i] == rhs.data[i])) {
      return false;
    }
  }
  return true;
}

int compare(ConstView lhs, ConstView rhs) {
  const std::size_t n = lhs.size() < rhs.size() ? lhs.size() : rhs.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double a = lhs.data[i];
    const double b = rhs.data[i];
    if (a < b) {
      return -1;
    }
    if (a > b) {
      return 1;
    }
  }
  if (lhs.size() != rhs.size()) {
    return lhs.size() < rhs.size() ? -1 : 1;
  }
  if (lhs.rows != rhs.rows) {
    return lhs.rows < rhs.rows ? -1 : 1;
  }
  return 0;
}

namespace {

#if defined(BOC_MATRIX_AVX_ROWS)
/// allclose's test, four pairs per vector: |a - b| > atol + rtol * |b| with
/// the same operations and roundings as the scalar loop (fabs is a sign-bit
/// mask, > is an ordered compare, so a NaN pair passes). Returns false at
/// the first block with a failing pair; `done` is how many pairs it checked.
__attribute__((target("avx"))) bool allclose_avx(const double* a, const double* b, std::size_t n, double rtol,
                                                 double atol, std::size_t& done) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d vr = _mm256_set1_pd(rtol);
  const __m256d va = _mm256_set1_pd(atol);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256d a0 = _mm256_loadu_pd(a + i);
    const __m256d b0 = _mm256_loadu_pd(b + i);
    const __m256d a1 = _mm256_loadu_pd(a + i + 4);
    const __m256d b1 = _mm256_loadu_pd(b + i + 4);
    const __m256d d0 = _mm256_andnot_pd(sign, _mm256_sub_pd(a0, b0));
    const __m256d d1 = _mm256_andnot_pd(sign, _mm256_sub_pd(a1, b1));
    const __m256d t0 = _mm256_add_pd(va, _mm256_mul_pd(vr, _mm256_andnot_pd(sign, b0)));
    const __m256d t1 = _mm256_add_pd(va, _mm256_mul_pd(vr, _mm256_andnot_pd(sign, b1)));
    const __m256d bad = _mm256_or_pd(_mm256_cmp_pd(d0, t0, _CMP_GT_OQ), _mm256_cmp_pd(d1, t1, _CMP_GT_OQ));
    if (_mm256_movemask_pd(bad) != 0) {
      done = i;
      return false;
    }
  }
  done = i;
  return true;
}
#endif

}  // namespace

bool allclose(ConstView lhs, ConstView rhs, double rtol, double atol, bool equal_nan) {
  if (lhs.shape() != rhs.shape()) {
    return false;
  }
  const std::size_t n = lhs.size();
  std::size_t i = 0;
#if defined(BOC_MATRIX_AVX_ROWS)
  // equal_nan changes nothing here: a NaN pair never fails the test below.
  if (cpu_has_avx() && !allclose_avx(lhs.data, rhs.data, n, rtol, atol, i)) {
    return false;
  }
#endif
  for (; i < n; ++i) {
    const double a = lhs.data[i];
    const double b = rhs.data[i];
    if (equal_nan && std::isnan(a) && std::isnan(b)) {
      continue;
    }
    // bocpy's test (_math.c impl_allclose): a NaN difference never exceeds
    // the tolerance, so NaN pairs pass even without equal_nan.
    if (std::fabs(a - b) > atol + rtol * std::fabs(b)) {
      return false;
    }
  }
  return true;
}

// ---- Selection, gather, scatter ---------------------------------------------

Dense gather(ConstView src, const IndexSet& rows, const IndexSet& cols) {
  check_indexset(rows, src.rows);
  check_indexset(cols, src.cols);
  Dense out = Dense::uninit(rows.count, cols.count);
  gather(src, rows, cols, out);
  return out;
}

void gather(ConstView src, const IndexSet& rows, const IndexSet& cols, MutView out) {
  check_indexset(rows, src.rows);
  check_indexset(cols, src.cols);
  require_shape(out.shape(), Shape{rows.count, cols.count});
  double* o = out.data;
  const bool contiguous_cols = cols.list == nullptr && cols.step == 1;
  if (contiguous_cols && cols.count <= 8) {
    // Short rows (e.g. n x 3 positions): an inline copy, not a memcpy call
    // per row.
    const std::size_t n = cols.count;
    for (std::size_t i = 0; i < rows.count; ++i) {
      copy_short(src.data + rows[i] * src.cols + cols.start, o, n);
      o += n;
    }
    return;
  }
  for (std::size_t i = 0; i < rows.count; ++i) {
    const double* row = src.data + rows[i] * src.cols;
    if (contiguous_cols) {
      std::memcpy(o, row + cols.start, cols.count * sizeof(double));
      o += cols.count;
    } else {
      for (std::size_t j = 0; j < cols.count; ++j) {
        *o++ = row[cols[j]];
      }
    }
  }
}

void scatter(MutView dst, const IndexSet& rows, const IndexSet& cols, ConstView value, bool accumulate) {
  check_indexset(rows, dst.rows);
  check_indexset(cols, dst.cols);
  const Shape sel{rows.count, cols.count};
  if (broadcast_shape(sel, value.shape()) != sel) {
    throw ShapeError(sel, value.shape());
  }
  const Strided sv = strided(value, sel);
  const std::size_t n = cols.count;
  const bool whole_rows = cols.list == nullptr && cols.start == 0 && cols.step == 1 && n == dst.cols;
  if (whole_rows) {  // each selected row is one contiguous run
    for (std::size_t i = 0; i < rows.count; ++i) {
      double* row = dst.data + rows[i] * dst.cols;
      const double* vrow = sv.data + i * sv.row;
      if (sv.col == 1) {
        if (accumulate) {
          for (std::size_t j = 0; j < n; ++j) {
            row[j] += vrow[j];
          }
        } else {
          std::memcpy(row, vrow, n * sizeof(double));
        }
      } else {
        const double v = vrow[0];
        if (accumulate) {
          for (std::size_t j = 0; j < n; ++j) {
            row[j] += v;
          }
        } else {
          fill_run(row, n, v);
        }
      }
    }
    return;
  }
  // Columns in an arithmetic progression (a slice, or a list such as
  // range(0, n, 2)) need no position table. Each row is still written in
  // selection order, so a repeated position keeps the last value.
  std::ptrdiff_t first = cols.start;
  std::ptrdiff_t step = cols.step;
  bool progression = cols.list == nullptr;
  if (!progression) {
    first = static_cast<std::ptrdiff_t>(cols.list[0]);
    step = n >= 2 ? static_cast<std::ptrdiff_t>(cols.list[1]) - first : 1;
    progression = true;
    for (std::size_t j = 2; j < n && progression; ++j) {
      progression = static_cast<std::ptrdiff_t>(cols.list[j]) == first + static_cast<std::ptrdiff_t>(j) * step;
    }
  }
  if (progression && !accumulate && sv.col == 1) {
    for (std::size_t i = 0; i < rows.count; ++i) {
      double* out = dst.data + rows[i] * dst.cols + first;
      const double* vrow = sv.data + i * sv.row;
      std::size_t j = 0;
      if (step == 1) {
        copy_run(vrow, out, n);
        continue;
      }
#if defined(__SSE2__)
      if (step == 2) {
        // Two values per load, stored to every other element.
        for (; j + 4 <= n; j += 4) {
          const __m128d v01 = _mm_loadu_pd(vrow + j);
          const __m128d v23 = _mm_loadu_pd(vrow + j + 2);
          _mm_storel_pd(out + 2 * j, v01);
          _mm_storeh_pd(out + 2 * j + 2, v01);
          _mm_storel_pd(out + 2 * j + 4, v23);
          _mm_storeh_pd(out + 2 * j + 6, v23);
        }
      }
#endif
      for (; j < n; ++j) {
        out[static_cast<std::ptrdiff_t>(j) * step] = vrow[j];
      }
    }
    return;
  }
  // The column positions once, so the inner loop has no branch per element.
  std::vector<std::size_t> positions(n);
  for (std::size_t j = 0; j < n; ++j) {
    positions[j] = cols[j];
  }
  const std::size_t* pos = positions.data();
  for (std::size_t i = 0; i < rows.count; ++i) {
    double* row = dst.data + rows[i] * dst.cols;
    const double* vrow = sv.data + i * sv.row;
    if (accumulate) {
      for (std::size_t j = 0; j < n; ++j) {
        row[pos[j]] += vrow[j * sv.col];
      }
    } else {
      std::size_t j = 0;
      if (sv.col == 1) {
        // Loads of a block before its stores: the stores cannot delay the
        // next loads (value and dst are different buffers).
        for (; j + 4 <= n; j += 4) {
          const double v0 = vrow[j];
          const double v1 = vrow[j + 1];
          const double v2 = vrow[j + 2];
          const double v3 = vrow[j + 3];
          row[pos[j]] = v0;
          row[pos[j + 1]] = v1;
          row[pos[j + 2]] = v2;
          row[pos[j + 3]] = v3;
        }
      }
      for (; j < n; ++j) {
        row[pos[j]] = vrow[j * sv.col];
      }
    }
  }
}

Dense mask_select(ConstView src, ConstView mask) {
  std::vector<std::size_t> picked;
  if (mask.rows == src.rows && mask.cols == 1) {
    for (std::size_t r = 0; r < src.rows; ++r) {
      if (mask.data[r] != 0.0) {
        picked.push_back(r);
      }
    }
    if (picked.empty()) {
      throw IndexError("mask selects no row");
    }
    return gather(src, IndexSet::of(picked), IndexSet::all(src.cols));
  }
  if (mask.rows == 1 && mask.cols == src.cols) {
    for (std::size_t c = 0; c < src.cols; ++c) {
      if (mask.data[c] != 0.0) {
        picked.push_back(c);
      }
    }
    if (picked.empty()) {
      throw IndexError("mask selects no column");
    }
    return gather(src, IndexSet::all(src.rows), IndexSet::of(picked));
  }
  if (mask.shape() == src.shape()) {
    std::vector<double> values;
    for (std::size_t i = 0; i < src.size(); ++i) {
      if (mask.data[i] != 0.0) {
        values.push_back(src.data[i]);
      }
    }
    if (values.empty()) {
      throw IndexError("mask selects no element");
    }
    const std::size_t k = values.size();
    return Dense(1, k, std::move(values));
  }
  throw ShapeError(src.shape(), mask.shape());
}

void mask_assign(MutView dst, ConstView mask, ConstView value) {
  const Shape shape = dst.shape();
  if (broadcast_shape(shape, mask.shape()) != shape) {
    throw ShapeError(shape, mask.shape());
  }
  if (broadcast_shape(shape, value.shape()) != shape) {
    throw ShapeError(shape, value.shape());
  }
  apply3(mask, value, dst, dst, [](double m, double v, double old) { return m != 0.0 ? v : old; });
}

Dense concat(const std::vector<ConstView>& parts, Axis axis) {
  if (parts.empty()) {
    throw std::invalid_argument("concat needs at least one part");
  }
  if (axis == Axis::kAll) {
    throw std::invalid_argument("concat needs axis 0 or 1");
  }
  const ConstView& first = parts.front();
  std::size_t total = 0;
  for (const ConstView& p : parts) {
    const bool fits = axis == Axis::k0 ? p.cols == first.cols : p.rows == first.rows;
    if (!fits) {
      throw ShapeError(first.shape(), p.shape());
    }
    total += axis == Axis::k0 ? p.rows : p.cols;
  }
  // Every element of the result is written below, so it is not zero-filled.
  if (axis == Axis::k0) {
    Dense out = Dense::uninit(total, first.cols);
    double* o = out.data.data();
    for (const ConstView& p : parts) {
      std::memcpy(o, p.data, p.size() * sizeof(double));
      o += p.size();
    }
    return out;
  }
  // Row by row, so the result is written front to back; each part's row
  // segment is a short inline copy, or memcpy when long.
  Dense out = Dense::uninit(first.rows, total);
  double* o = out.data.data();
  for (std::size_t r = 0; r < first.rows; ++r) {
    for (const ConstView& p : parts) {
      copy_run(p.data + r * p.cols, o, p.cols);
      o += p.cols;
    }
  }
  return out;
}

// ---- Random numbers ---------------------------------------------------------

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

constexpr double kTwoPi = 6.283185307179586476925286766559;

}  // namespace

Random::Random(std::uint64_t value) { seed(value); }

void Random::seed(std::uint64_t value) {
  std::uint64_t x = value;
  for (std::uint64_t& s : state_) {
    s = splitmix64(x);
  }
}

std::uint64_t Random::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Random::next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Random::next_normal() {
  const double u1 = 1.0 - next_double();  // (0, 1]: log is finite
  const double u2 = next_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

void fill_uniform(Random& rng, double lo, double hi, MutView out) {
  const double span = hi - lo;
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; ++i) {
    out.data[i] = lo + span * rng.next_double();
  }
}

void fill_normal(Random& rng, double mean, double stddev, MutView out) {
  // next_normal() a block at a time, bit for bit: the uniforms are drawn in
  // the same order (u1, u2 per sample), then the logs, the square roots
  // (packed: sqrtpd rounds as sqrtsd does), the cosines and the products,
  // each as its own loop. The cosines are taken in order of their argument
  // (bucketed by u2): libm's cos branches on the argument's range, and in
  // random order those branches mispredict (about 12 ns per call instead of
  // 7 on the reference Xeon). Each cos(x) is still the same call on the
  // same x, so only the time changes.
  constexpr std::size_t kBlock = 1024;
  constexpr std::size_t kBuckets = 64;
  double radius[kBlock];
  double turn[kBlock];
  std::uint8_t bucket[kBlock];
  std::uint16_t order[kBlock];
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; i += kBlock) {
    const std::size_t m = n - i < kBlock ? n - i : kBlock;
    std::uint16_t start[kBuckets + 1] = {};
    for (std::size_t k = 0; k < m; ++k) {
      radius[k] = 1.0 - rng.next_double();  // (0, 1]: log is finite
      const double u2 = rng.next_double();  // [0, 1): u2 * 64 < 64
      turn[k] = kTwoPi * u2;
      bucket[k] = static_cast<std::uint8_t>(u2 * static_cast<double>(kBuckets));
      ++start[bucket[k] + 1];
    }
    for (std::size_t b = 0; b < kBuckets; ++b) {
      start[b + 1] = static_cast<std::uint16_t>(start[b + 1] + start[b]);
    }
    for (std::size_t k = 0; k < m; ++k) {
      order[start[bucket[k]]++] = static_cast<std::uint16_t>(k);
    }
    for (std::size_t k = 0; k < m; ++k) {
      radius[k] = -2.0 * std::log(radius[k]);
    }
    std::size_t k = 0;
#if defined(__SSE2__)
    for (; k + 2 <= m; k += 2) {
      _mm_storeu_pd(radius + k, _mm_sqrt_pd(_mm_loadu_pd(radius + k)));
    }
#endif
    for (; k < m; ++k) {
      radius[k] = std::sqrt(radius[k]);
    }
    for (k = 0; k < m; ++k) {
      const std::size_t j = order[k];
      turn[j] = std::cos(turn[j]);
    }
    double* o = out.data + i;
    for (k = 0; k < m; ++k) {
      const double z = radius[k] * turn[k];
      o[k] = mean + stddev * z;
    }
  }
}

}  // namespace boc::matrix
