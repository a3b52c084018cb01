// Numeric kernels behind the `bocpy.Matrix` type: plain C++ over row-major
// buffers, no Python.h.
//
// Determinism rules (every kernel follows them, the tests check them):
//  * every reduction runs in one fixed order: flat row-major for whole-matrix
//    reductions, column index ascending within a row for axis 1, row index
//    ascending for axis 0; no pairwise, parallel or vectorised reassociation;
//  * the targets are built with -ffp-contract=off and never with -ffast-math,
//    so a*b+c is two roundings; only `fma()` asks for a fused multiply-add,
//    explicitly, through std::fma;
//  * the random generator is a fixed algorithm (xoshiro256** seeded by
//    splitmix64), not the C library's rand().
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "boc/pooled.h"

namespace boc::matrix {
/// @brief Number of rows and columns of a matrix
struct Shape {
  std::size_t rows = 0;
  std::size_t cols = 0;

  /// @brief Number of elements (rows * cols)
  [[nodiscard]] std::size_t size() const { return rows * cols; }

  friend bool operator==(const Shape&, const Shape&) = default;
};

/// @brief Formats a shape as "(rows, cols)"
std::string shape_string(Shape shape);

/// @brief The message every shape error carries:
/// "shape mismatch: (3, 2) vs (4, 2)"
std::string shape_mismatch_message(Shape lhs, Shape rhs);

/// @brief Operands (or an operand and an output) whose shapes do not fit
/// together
/// @details The Python layer maps it to ValueError (AssertionError for
/// `concat`, as bocpy does).
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
  ShapeError(Shape lhs, Shape rhs);
};

/// @brief An index outside the matrix, or a selection with no element; the
/// Python layer maps it to IndexError
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// @brief std::allocator that default-initialises (leaves doubles
/// uninitialised) on resize: a result buffer that a kernel overwrites
/// entirely is not zero-filled first (a whole extra pass over memory).
/// @details Memory comes from the runtime's per-thread pools (boc/pooled.h):
/// a matrix made on one worker is often freed on another (bocpy's fanout
/// example), which glibc serves under the allocating arena's lock.
template <class T>
struct UninitAllocator : boc::detail::PoolAllocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>& /*other*/) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// @brief The element storage of a Dense
using Buffer = std::vector<double, UninitAllocator<double>>;

/// @brief An owning, dense, row-major matrix of doubles
/// @details A default-constructed Dense is 0x0 and only used as an empty
/// placeholder; every other constructor needs rows >= 1 and cols >= 1
/// (std::invalid_argument otherwise) and throws std::length_error when rows *
/// cols * sizeof(double) does not fit in a signed size.
struct Dense {
  std::size_t rows = 0;
  std::size_t cols = 0;
  Buffer data;

  Dense() = default;
  /// @brief Zero-filled rows x cols
  Dense(std::size_t rows, std::size_t cols);
  /// @brief rows x cols with unspecified elements, for a result that is
  /// written entirely before it is read
  static Dense uninit(std::size_t rows, std::size_t cols);
  /// @brief rows x cols, every element set to fill
  Dense(std::size_t rows, std::size_t cols, double fill);
  /// @brief Adopts values (row-major); throws ShapeError if values.size() !=
  /// rows * cols
  Dense(std::size_t rows, std::size_t cols, std::vector<double>&& values);
  Dense(std::size_t rows, std::size_t cols, Buffer&& values);
  Dense(std::size_t r, std::size_t c, std::initializer_list<double> values) : Dense(r, c, Buffer(values)) {}

  [[nodiscard]] Shape shape() const { return {rows, cols}; }

  [[nodiscard]] std::size_t size() const { return data.size(); }

  [[nodiscard]] double& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }

  [[nodiscard]] double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// @brief Validates rows/cols for a new matrix (see Dense) without allocating
void check_dimensions(std::size_t rows, std::size_t cols);

/// @brief A read-only, non-owning view of a row-major buffer
struct ConstView {
  const double* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  ConstView() = default;
  ConstView(const double* values, std::size_t r, std::size_t c) : data(values), rows(r), cols(c) {}
  // Implicit on purpose: a Dense is usable wherever a view is expected.
  // NOLINTNEXTLINE(google-explicit-constructor)
  ConstView(const Dense& m) : data(m.data.data()), rows(m.rows), cols(m.cols) {}

  /// @brief A 1x1 view of one double (which must outlive the view)
  static ConstView scalar(const double& value) { return {&value, 1, 1}; }

  [[nodiscard]] Shape shape() const { return {rows, cols}; }

  [[nodiscard]] std::size_t size() const { return rows * cols; }

  [[nodiscard]] double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// @brief A writable, non-owning view of a row-major buffer (an output)
struct MutView {
  double* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  MutView() = default;
  MutView(double* values, std::size_t r, std::size_t c) : data(values), rows(r), cols(c) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  MutView(Dense& m) : data(m.data.data()), rows(m.rows), cols(m.cols) {}

  [[nodiscard]] Shape shape() const { return {rows, cols}; }

  [[nodiscard]] std::size_t size() const { return rows * cols; }

  // NOLINTNEXTLINE(google-explicit-constructor)
  operator ConstView() const { return {data, rows, cols}; }
};

// ---- Broadcasting element-wise operations -----------------------------------

/// @brief The shape two operands broadcast to
/// @details Per axis the extents must be equal or one of them 1 (numpy's rule
/// in 2-D): n x k with 1 x k (row broadcast), n x k with n x 1 (column
/// broadcast), n x 1 with 1 x m (outer, n x m), 1 x 1 with anything.
/// @throws ShapeError naming both shapes otherwise
Shape broadcast_shape(Shape lhs, Shape rhs);

/// @brief broadcast_shape over three operands (where, fma, clip)
Shape broadcast_shape(Shape a, Shape b, Shape c);

/// @brief Element-wise binary operations; comparisons produce 1.0 (true) or 0.0
/// (false)
enum class BinaryOp : std::uint8_t {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual,
  kMinimum,  ///< NaN in either operand gives NaN
  kMaximum,  ///< NaN in either operand gives NaN
};

/// @brief out = lhs (op) rhs with broadcasting
/// @details out must have exactly broadcast_shape(lhs, rhs) (ShapeError
/// otherwise). out may be the same buffer as an operand of the full output
/// shape (in-place operation). IEEE semantics: x / 0 is inf or nan, no error.
void binary(BinaryOp op, ConstView lhs, ConstView rhs, MutView out);

/// @brief As above, allocating the result
Dense binary(BinaryOp op, ConstView lhs, ConstView rhs);

/// @brief out = mask != 0 ? a : b, all three broadcast together (a NaN mask
/// element counts as true)
void where(ConstView mask, ConstView a, ConstView b, MutView out);
Dense where(ConstView mask, ConstView a, ConstView b);

/// @brief out = std::fma(a, b, c) (one rounding), all three broadcast together
void fused_multiply_add(ConstView a, ConstView b, ConstView c, MutView out);

/// @brief out = y + s * x (two roundings: bocpy's scaled_add), all three
/// broadcast together
void scaled_add(ConstView y, ConstView s, ConstView x, MutView out);

/// @brief out = x < lo ? lo : (x > hi ? hi : x); bounds broadcast; NaN elements
/// of x stay NaN
void clip(ConstView x, ConstView lo, ConstView hi, MutView out);

/// @brief Element-wise unary operations
enum class UnaryOp : std::uint8_t {
  kNegate,
  kAbs,
  kSqrt,  ///< negative input gives NaN
  kCeil,
  kFloor,
  kRound,  ///< halves to even (nearbyint, as bocpy and Python's round())
};

/// @brief out = op(in); out must have in's shape and may be in's buffer
void unary(UnaryOp op, ConstView in, MutView out);
Dense unary(UnaryOp op, ConstView in);

// ---- Reductions -------------------------------------------------------------

/// @brief Which elements a reduction combines
enum class Axis : std::uint8_t {
  kAll,  ///< every element -> 1 x 1
  k0,    ///< down each column -> 1 x cols  (Python axis=0 / -2)
  k1,    ///< along each row   -> rows x 1  (Python axis=1 / -1)
};

/// @brief The result shape of a reduction over axis
Shape reduced_shape(Shape shape, Axis axis);

enum class Reduction : std::uint8_t {
  kSum,
  kMean,        ///< sum / count
  kSumSquares,  ///< sum of x*x (magnitude_squared)
  kMagnitude,   ///< sqrt(sum of x*x)
  kMin,         ///< NaN propagates
  kMax,         ///< NaN propagates
  kArgMin,      ///< index of the first strict minimum (bocpy: later NaNs are
                ///< skipped, a leading NaN pins 0); flat row-major for kAll
  kArgMax,      ///< index of the first strict maximum (same NaN rule)
};

/// @brief Reduces in (see the determinism rules at the top); the result has
/// reduced_shape(in.shape(), axis)
Dense reduce(Reduction op, ConstView in, Axis axis);

/// @brief As above, into out (which must have the reduced shape; ShapeError
/// otherwise) and must not alias in
void reduce(Reduction op, ConstView in, Axis axis, MutView out);

/// @brief reduce(op, in, Axis::kAll) as a plain double (argmin/argmax: the
/// index), without allocating a result
double reduce_all(Reduction op, ConstView in);

/// @brief Divides by the L2 magnitude of the whole matrix / each column (k0) /
/// each row (k1)
/// @details A zero magnitude leaves that group unchanged (all zeros), so no NaN
/// appears. out may be in's buffer.
void normalize(ConstView in, Axis axis, MutView out);

/// @brief Sum of lhs*rhs (broadcast) over axis: a dot product per row (k1), per
/// column (k0) or overall (kAll)
Dense vecdot(ConstView lhs, ConstView rhs, Axis axis);

// ---- Linear algebra and geometry --------------------------------------------

/// @brief Matrix product; ShapeError unless lhs.cols == rhs.rows
/// @details i-k-j loop order (streams rows of rhs and out), yet each output
/// element still accumulates lhs(i,k)*rhs(k,j) for k = 0, 1, ... in order, so
/// the result is bit-identical to the textbook i-j-k loop.
Dense matmul(ConstView lhs, ConstView rhs);

Dense transpose(ConstView in);

/// @brief Same elements, new shape; ShapeError unless the sizes agree
Dense reshape(ConstView in, Shape shape);

/// @brief Coordinate differences between every row of a (n x k) and every row
/// of b (m x k)
/// @details Returns k matrices, each n x m:
///   result[c](i, j) = a(i, c) - b(j, c).
/// ShapeError unless the column counts agree.
std::vector<Dense> pairwise_diff(ConstView a, ConstView b);

/// @brief Squared Euclidean distances between every row of a (n x k) and every
/// row of b (m x k): n x m
/// @details out(i, j) = sum over c = 0..k-1 (in order) of (a(i,c) - b(j,c))^2,
/// i.e. bit-identical to summing the squares of pairwise_diff's matrices in
/// column order.
Dense pairwise_dist2(ConstView a, ConstView b);

/// @brief atan2(y, x) of each 2-D vector: rows (axis k1, in must have 2 columns
/// -> rows x 1) or columns (axis k0, in must have 2 rows -> 1 x cols);
/// ShapeError otherwise
Dense angle(ConstView in, Axis axis);

/// @brief (x, y) -> (-y, x) for each 2-D vector laid out as for angle(); same
/// shape as in
Dense perpendicular(ConstView in, Axis axis);

/// @brief count contiguous (x, y) pairs -> (-y, x); dst may be src
void rotate_pairs(const double* src, double* dst, std::size_t count);

/// @brief Cross product of 2-D (scalar z, one value per vector) or 3-D (a
/// vector) vectors laid out along axis
/// @details lhs and rhs broadcast; the vector length (2 or 3) is taken from the
/// broadcast shape along the vector axis. 2-D gives
/// reduced_shape(broadcast, axis), 3-D gives the broadcast shape.
Dense cross(ConstView lhs, ConstView rhs, Axis axis);

// ---- Comparisons ------------------------------------------------------------

/// @brief True if both shapes are equal and every element pair compares equal
/// with IEEE == (NaN != NaN)
bool equal(ConstView lhs, ConstView rhs);

/// @brief Lexicographic three-way comparison (-1, 0, 1) over the row-major
/// elements, skipping pairs where either element is NaN; ties are broken by
/// size, then by shape (rows first)
int compare(ConstView lhs, ConstView rhs);

/// @brief No pair with |a - b| > atol + rtol * |b| (so NaN pairs pass, as in
/// bocpy); false if the shapes differ
bool allclose(ConstView lhs, ConstView rhs, double rtol, double atol, bool equal_nan);

// ---- Selection, gather, scatter ---------------------------------------------

/// @brief The positions selected along one axis: either an arithmetic
/// progression (a slice) or an index list
struct IndexSet {
  std::ptrdiff_t start = 0;
  std::ptrdiff_t step = 1;
  std::size_t count = 0;
  const std::size_t* list = nullptr;  ///< when set, the positions are list[0..count)

  [[nodiscard]] std::size_t operator[](std::size_t k) const {
    if (list != nullptr) {
      return list[k];
    }
    return static_cast<std::size_t>(start + static_cast<std::ptrdiff_t>(k) * step);
  }

  static IndexSet all(std::size_t extent) { return {0, 1, extent, nullptr}; }

  static IndexSet single(std::size_t index) { return {static_cast<std::ptrdiff_t>(index), 1, 1, nullptr}; }

  static IndexSet of(const std::vector<std::size_t>& indices) { return {0, 1, indices.size(), indices.data()}; }
};

/// @brief Copies the selected rows x columns; IndexError if a selection is
/// empty or leaves the matrix
Dense gather(ConstView src, const IndexSet& rows, const IndexSet& cols);

/// @brief As above, into out (rows.count x cols.count, ShapeError otherwise),
/// which must not alias src
void gather(ConstView src, const IndexSet& rows, const IndexSet& cols, MutView out);

/// @brief Writes value (broadcast to rows.count x cols.count) into the
/// selection, or adds it if accumulate
/// @details Everything is validated before the first write (IndexError,
/// ShapeError). Positions listed twice get the last write, or every
/// contribution in order when accumulating. value must not alias dst.
void scatter(MutView dst, const IndexSet& rows, const IndexSet& cols, ConstView value, bool accumulate);

/// @brief Selects by a 0/1 mask: a rows x 1 mask picks rows, a 1 x cols mask
/// picks columns, a mask of src's shape picks elements (row-major) into a 1 x k
/// row. Nonzero (and NaN) elements select.
/// @throws ShapeError for any other mask shape, IndexError if nothing is
/// selected
Dense mask_select(ConstView src, ConstView mask);

/// @brief dst = mask != 0 ? value : dst, where mask and value broadcast to
/// dst's shape (ShapeError otherwise)
void mask_assign(MutView dst, ConstView mask, ConstView value);

/// @brief Stacks the parts' rows (k0: column counts must agree) or columns (k1:
/// row counts must agree)
/// @throws ShapeError naming the first disagreeing pair of shapes;
/// std::invalid_argument for no parts or kAll
Dense concat(const std::vector<ConstView>& parts, Axis axis);

// ---- Random numbers ---------------------------------------------------------

/// @brief xoshiro256** seeded through splitmix64: the same seed gives the same
/// stream on every platform
class Random {
 public:
  static constexpr std::uint64_t kDefaultSeed = 1;

  explicit Random(std::uint64_t seed = kDefaultSeed);

  void seed(std::uint64_t value);

  std::uint64_t next_u64();

  /// @brief Uniform in [0, 1) with 53 random bits
  double next_double();

  /// @brief Standard normal sample (Box-Muller, one output per two uniforms; no
  /// cached spare)
  double next_normal();

 private:
  std::uint64_t state_[4] = {};
};

/// @brief out = lo + (hi - lo) * u with u uniform in [0, 1), filled in
/// row-major order
void fill_uniform(Random& rng, double lo, double hi, MutView out);

/// @brief out = mean + stddev * z with z standard normal, filled in row-major
/// order
void fill_normal(Random& rng, double mean, double stddev, MutView out);
}  // namespace boc::matrix
