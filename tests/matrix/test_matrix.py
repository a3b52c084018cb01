"""Python-level tests of the native ``bocpy.Matrix`` type (module ``bocpy._math``).

Run by ``matrix_test`` (tests/matrix/matrix_test.cpp) inside the embedded
interpreter -- once in the main interpreter and once in an own-GIL
sub-interpreter -- with a stub ``bocpy`` package so that ``bocpy._math``
imports. Exits non-zero if any test fails.

Every Python-visible function is exercised: values, shapes, and the exact
exception types (and, where the spec gives them, messages).
"""

import copy
import inspect
import math
import pickle
import sys
import unittest

import bocpy._math as _math
from bocpy._math import Matrix


def flat(m):
    """Row-major elements of a Matrix as a list of floats."""
    return [v for row in m.tolist() for v in row]


class TestModule(unittest.TestCase):
    def test_names(self):
        self.assertEqual(_math.__name__, "bocpy._math")
        self.assertIs(_math.Matrix, Matrix)
        self.assertEqual(Matrix.__module__, "bocpy")
        self.assertEqual(Matrix.__qualname__, "Matrix")
        self.assertEqual(repr(Matrix), "<class 'bocpy.Matrix'>")
        self.assertTrue(callable(_math._matrix_unpickle))

    def test_not_subclassable_and_unhashable(self):
        with self.assertRaises(TypeError):
            type("Sub", (Matrix,), {})
        with self.assertRaises(TypeError):
            hash(Matrix(1, 1))

    def test_text_signatures(self):
        self.assertEqual(str(inspect.signature(Matrix)), "(rows, columns, values=None)")
        self.assertEqual(str(inspect.signature(Matrix.take)), "(self, /, indices, axis=0)")
        self.assertEqual(str(inspect.signature(Matrix.uniform)),
                         "(minval=0.0, maxval=1.0, size=None)")
        self.assertEqual(str(inspect.signature(Matrix(1, 1).clip)),
                         "(min=None, max=None, *, in_place=False, out=None)")


class TestConstruction(unittest.TestCase):
    def test_zero_filled(self):
        m = Matrix(2, 3)
        self.assertEqual(m.shape, (2, 3))
        self.assertEqual(flat(m), [0.0] * 6)
        self.assertEqual(Matrix(1, 2).tolist(), [[0.0, 0.0]])

    def test_scalar_fill(self):
        self.assertEqual(flat(Matrix(2, 2, 7)), [7.0] * 4)
        self.assertEqual(flat(Matrix(1, 2, 2.5)), [2.5, 2.5])
        self.assertEqual(flat(Matrix(1, 1, True)), [1.0])

    def test_flat_sequences(self):
        self.assertEqual(Matrix(2, 2, [1, 2, 3, 4]).tolist(), [[1.0, 2.0], [3.0, 4.0]])
        self.assertEqual(flat(Matrix(1, 3, (1, 2.5, 3))), [1.0, 2.5, 3.0])
        self.assertEqual(flat(Matrix(2, 2, range(4))), [0.0, 1.0, 2.0, 3.0])
        self.assertEqual(flat(Matrix(4, 1, Matrix(2, 2, [1, 2, 3, 4]))), [1.0, 2.0, 3.0, 4.0])
        self.assertEqual(flat(Matrix(rows=1, columns=2, values=[5, 6])), [5.0, 6.0])

    def test_errors(self):
        with self.assertRaises(TypeError):
            Matrix(2, 2, [1, 2, 3])
        with self.assertRaises(TypeError):
            Matrix(2, 2, [1, 2, 3, 4, 5])
        with self.assertRaises(TypeError):
            Matrix(1, 2, [1, "x"])
        with self.assertRaises(TypeError):
            Matrix(1, 1, object())
        with self.assertRaises(TypeError):
            Matrix(1, 1, "1")
        with self.assertRaises(TypeError):
            Matrix(2.0, 2)
        with self.assertRaises(TypeError):
            Matrix(2)
        with self.assertRaises(TypeError):
            Matrix(1, 1, 0, 0)
        with self.assertRaisesRegex(AssertionError, r"^Rows and columns must both be > 0$"):
            Matrix(0, 2)
        with self.assertRaises(AssertionError):
            Matrix(2, -1)
        with self.assertRaises(MemoryError):
            Matrix(2 ** 40, 2 ** 40)

    def test_zeros_ones(self):
        self.assertEqual(flat(Matrix.zeros((2, 3))), [0.0] * 6)
        self.assertEqual(Matrix.ones((3, 1)).shape, (3, 1))
        self.assertEqual(flat(Matrix.ones([1, 2])), [1.0, 1.0])
        with self.assertRaises(TypeError):
            Matrix.zeros(3)
        with self.assertRaises(TypeError):
            Matrix.ones((1, 2, 3))
        with self.assertRaises(TypeError):
            Matrix.zeros((1.5, 2))
        with self.assertRaises(AssertionError):
            Matrix.ones((0, 2))

    def test_vector(self):
        v = Matrix.vector([0, 0])
        self.assertEqual(v.shape, (1, 2))
        self.assertEqual(flat(v), [0.0, 0.0])
        c = Matrix.vector((1, 2, 3), as_column=True)
        self.assertEqual(c.shape, (3, 1))
        self.assertEqual(Matrix.vector([4], True).shape, (1, 1))
        with self.assertRaises(ValueError):
            Matrix.vector([])
        with self.assertRaises(TypeError):
            Matrix.vector([1, "a"])
        with self.assertRaises(TypeError):
            Matrix.vector(5)

    def test_uniform(self):
        x = Matrix.uniform()
        self.assertIsInstance(x, float)
        self.assertTrue(0.0 <= x < 1.0)
        m = Matrix.uniform(size=(50, 2))
        self.assertEqual(m.shape, (50, 2))
        self.assertTrue(all(0.0 <= v < 1.0 for v in flat(m)))
        m = Matrix.uniform(-5, 5, (40, 3))
        self.assertTrue(all(-5.0 <= v < 5.0 for v in flat(m)))
        self.assertGreater(m.max(), 0.0)
        self.assertLess(m.min(), 0.0)
        with self.assertRaises(TypeError):
            Matrix.uniform("a")
        with self.assertRaises(TypeError):
            Matrix.uniform(size=5)
        with self.assertRaises(AssertionError):
            Matrix.uniform(size=(0, 5))
        with self.assertRaises(TypeError):
            Matrix.uniform(0, 1, (1, 1), 4)

    def test_normal(self):
        self.assertIsInstance(Matrix.normal(), float)
        m = Matrix.normal(3.0, 2.0, (200, 100))
        self.assertEqual(m.shape, (200, 100))
        self.assertAlmostEqual(m.mean(), 3.0, delta=0.05)
        with self.assertRaises(TypeError):
            Matrix.normal(stddev="x")

    def test_seed_makes_streams_repeatable(self):
        Matrix.seed(1234)
        a = Matrix.uniform(size=(3, 3))
        x = Matrix.normal()
        Matrix.seed(1234)
        self.assertEqual(Matrix.uniform(size=(3, 3)), a)
        self.assertEqual(Matrix.normal(), x)
        Matrix.seed(-1)
        Matrix.seed(2 ** 80)
        with self.assertRaises(TypeError):
            Matrix.seed(1.5)
        with self.assertRaises(TypeError):
            Matrix.seed(True)

    def test_concat(self):
        a = Matrix(1, 2, [1, 2])
        b = Matrix(2, 2, [3, 4, 5, 6])
        v = Matrix.concat([a, b])
        self.assertEqual(v.tolist(), [[1, 2], [3, 4], [5, 6]])
        self.assertEqual(Matrix.concat((a, b), axis=-2), v)
        h = Matrix.concat([b, Matrix(2, 1, [7, 8])], axis=1)
        self.assertEqual(h.tolist(), [[3, 4, 7], [5, 6, 8]])
        self.assertEqual(Matrix.concat([b, Matrix(2, 1, [7, 8])], -1), h)
        self.assertEqual(Matrix.concat([[1, 2], (3, 4)]).tolist(), [[1, 2], [3, 4]])
        self.assertEqual(Matrix.concat([[1, 2], [3, 4]], axis=1).tolist(), [[1, 3], [2, 4]])
        self.assertIsNone(Matrix.concat([]))
        c = Matrix.concat([a])
        a.x = 9
        self.assertEqual(c.x, 1.0)  # a copy
        with self.assertRaisesRegex(AssertionError, r"shape mismatch: \(1, 2\) vs \(1, 3\)"):
            Matrix.concat([a, Matrix(1, 3)])
        with self.assertRaises(AssertionError):
            Matrix.concat([a, b], axis=1)
        with self.assertRaises(KeyError):
            Matrix.concat([a], axis=2)
        with self.assertRaises(TypeError):
            Matrix.concat([a], axis="0")
        with self.assertRaises(TypeError):
            Matrix.concat(a)
        with self.assertRaises(TypeError):
            Matrix.concat([a, "xy"])
        with self.assertRaises(ValueError):
            Matrix.concat([a, []])


class TestProperties(unittest.TestCase):
    def test_shape_properties(self):
        m = Matrix(3, 2, range(6))
        self.assertEqual((m.rows, m.columns, m.cols, m.shape, m.size), (3, 2, 2, (3, 2), 6))
        self.assertEqual(len(m), 3)
        self.assertIs(m.acquired, True)
        self.assertEqual(m.T.tolist(), [[0, 2, 4], [1, 3, 5]])
        self.assertEqual(Matrix.vector([3, 4]).length, 5.0)
        with self.assertRaises(AttributeError):
            m.rows = 4

    def test_components(self):
        m = Matrix(2, 2, [1, 2, 3, 4])
        self.assertEqual((m.x, m.y, m.z, m.w), (1.0, 2.0, 3.0, 4.0))
        self.assertIsInstance(m.x, float)
        m.x = 10
        m.y += 1
        m.w = 0.5
        self.assertEqual(flat(m), [10.0, 3.0, 3.0, 0.5])
        one = Matrix(1, 1, 5)
        self.assertEqual(one.x, 5.0)
        with self.assertRaises(IndexError):
            one.y
        with self.assertRaises(IndexError):
            one.y = 1
        with self.assertRaises(IndexError):
            Matrix(1, 3).w
        with self.assertRaises(TypeError):
            m.x = "1"
        with self.assertRaises(TypeError):
            del m.x


class TestText(unittest.TestCase):
    def test_repr_round_trips(self):
        m = Matrix(2, 2, [1, 2.5, -3, 0.1])
        self.assertEqual(repr(m), "Matrix(2, 2, [1.0, 2.5, -3.0, 0.1])")
        self.assertEqual(eval(repr(m), {"Matrix": Matrix}), m)

    def test_str_grid(self):
        self.assertEqual(str(Matrix(2, 2, [1, 2, 3, 40])), "[[ 1  2]\n [ 3 40]]")
        self.assertEqual(str(Matrix(1, 3, [0.5, 1, 2])), "[[0.5   1   2]]")


class TestIndexing(unittest.TestCase):
    def setUp(self):
        self.m = Matrix(3, 2, [1, 2, 3, 4, 5, 6])

    def test_row_and_element(self):
        row = self.m[1]
        self.assertIsInstance(row, Matrix)
        self.assertEqual(row.tolist(), [[3, 4]])
        self.assertEqual(self.m[-1].tolist(), [[5, 6]])
        self.assertEqual(self.m[1, 0], 3.0)
        self.assertIsInstance(self.m[1, 0], float)
        self.assertEqual(self.m[-1, -1], 6.0)
        self.assertEqual(Matrix(3, 1, [7, 8, 9])[1], 8.0)

    def test_slices(self):
        self.assertEqual(self.m[:2].tolist(), [[1, 2], [3, 4]])
        self.assertEqual(self.m[::2].tolist(), [[1, 2], [5, 6]])
        self.assertEqual(self.m[::-1, 1].tolist(), [[6], [4], [2]])
        self.assertEqual(self.m[1:, :1].tolist(), [[3], [5]])
        self.assertEqual(Matrix(3, 1, [7, 8, 9])[:1], 7.0)
        self.assertEqual(self.m[0, :].tolist(), [[1, 2]])

    def test_copies_not_views(self):
        row = self.m[0]
        row.x = 100
        self.assertEqual(self.m[0, 0], 1.0)

    def test_fancy(self):
        self.assertEqual(self.m[[2, 0]].tolist(), [[5, 6], [1, 2]])
        self.assertEqual(self.m[[-1], :].tolist(), [[5, 6]])
        self.assertEqual(self.m[:, [1]].tolist(), [[2], [4], [6]])
        self.assertEqual(self.m[:, [1, 0, 1]].shape, (3, 3))
        self.assertIsInstance(self.m[[0], :][0, 0], float)
        self.assertIsInstance(Matrix(1, 1, 3)[[0]], Matrix)

    def test_masks(self):
        rows = self.m[Matrix(3, 1, [1, 0, 1])]
        self.assertEqual(rows.tolist(), [[1, 2], [5, 6]])
        cols = self.m[Matrix(1, 2, [0, 1])]
        self.assertEqual(cols.tolist(), [[2], [4], [6]])
        elements = self.m[self.m.greater(2.5)]
        self.assertEqual(elements.tolist(), [[3, 4, 5, 6]])
        with self.assertRaises(IndexError):
            self.m[Matrix(3, 1)]
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(3, 2\) vs \(2, 2\)"):
            self.m[Matrix(2, 2)]

    def test_errors(self):
        with self.assertRaises(IndexError):
            self.m[3]
        with self.assertRaises(IndexError):
            self.m[-4]
        with self.assertRaises(IndexError):
            self.m[0, 2]
        with self.assertRaises(IndexError):
            self.m[3:]
        with self.assertRaises(OverflowError):  # as bocpy
            self.m[2 ** 80]
        with self.assertRaises(KeyError):
            self.m[0, 0, 0]
        with self.assertRaises(KeyError):
            self.m[(0,)]
        with self.assertRaises(TypeError):
            self.m["a"]
        with self.assertRaises(TypeError):
            self.m[1.0]
        with self.assertRaises(IndexError):
            self.m[[]]
        with self.assertRaises(IndexError):
            self.m[[5]]
        with self.assertRaises(IndexError):
            self.m[[0], [1]]
        with self.assertRaises(IndexError):
            self.m[[0], 0]
        with self.assertRaises(IndexError):
            self.m[0:2, [0]]
        with self.assertRaises(TypeError):
            self.m[["a"]]


class TestAssignment(unittest.TestCase):
    def setUp(self):
        self.m = Matrix(3, 2, [1, 2, 3, 4, 5, 6])

    def test_scalar(self):
        self.m[1] = 0
        self.assertEqual(flat(self.m), [1, 2, 0, 0, 5, 6])
        self.m[0, 1] = 9.5
        self.m[2, :] = True
        self.assertEqual(flat(self.m), [1, 9.5, 0, 0, 1, 1])

    def test_row_broadcast(self):
        self.m[0:2] = Matrix.vector([7, 8])
        self.assertEqual(flat(self.m), [7, 8, 7, 8, 5, 6])
        self.m[2] = [9, 10]
        self.assertEqual(self.m[2].tolist(), [[9, 10]])
        self.m[:] = (0, 1)
        self.assertEqual(flat(self.m), [0, 1] * 3)

    def test_column_broadcast_and_exact(self):
        self.m[:, :] = Matrix(3, 1, [1, 2, 3])
        self.assertEqual(flat(self.m), [1, 1, 2, 2, 3, 3])
        self.m[1:, :] = Matrix(2, 2, [5, 6, 7, 8])
        self.assertEqual(flat(self.m), [1, 1, 5, 6, 7, 8])
        self.m[:, 0] = [10, 20, 30]  # a flat list fills a column selection
        self.assertEqual(flat(self.m), [10, 1, 20, 6, 30, 8])
        self.m[:] = self.m[::-1]
        self.assertEqual(flat(self.m), [30, 8, 20, 6, 10, 1])
        self.m[:] = self.m
        self.assertEqual(flat(self.m), [30, 8, 20, 6, 10, 1])

    def test_fancy_scatter(self):
        self.m[[0, 2]] = Matrix(2, 2, [0, 0, 1, 1])
        self.assertEqual(flat(self.m), [0, 0, 3, 4, 1, 1])
        self.m[[1, 1]] = Matrix(2, 2, [7, 7, 8, 8])
        self.assertEqual(self.m[1].tolist(), [[8, 8]])  # last write wins
        self.m[:, [1]] = -1
        self.assertEqual(flat(self.m), [0, -1, 8, -1, 1, -1])
        before = self.m.copy()
        with self.assertRaises(IndexError):
            self.m[[0, 9]] = 5
        self.assertEqual(self.m, before)

    def test_mask_assignment(self):
        self.m[self.m.greater(3)] = 0
        self.assertEqual(flat(self.m), [1, 2, 3, 0, 0, 0])
        self.m[Matrix(3, 1, [1, 0, 0])] = Matrix.vector([-1, -2])
        self.assertEqual(flat(self.m), [-1, -2, 3, 0, 0, 0])
        with self.assertRaises(ValueError):
            self.m[Matrix(2, 1, [1, 1])] = 0

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, r"cannot assign 1x3 matrix to a selection of shape 2x2"):
            self.m[0:2] = [1, 2, 3]
        with self.assertRaises(ValueError):
            self.m[0] = Matrix(2, 2)
        with self.assertRaisesRegex(TypeError, r"^Invalid value$"):
            self.m[0] = "ab"
        with self.assertRaisesRegex(TypeError, r"^Invalid value$"):
            self.m[0] = None
        with self.assertRaises(TypeError):
            self.m[0] = [1, "a"]
        with self.assertRaises(TypeError):
            del self.m[0]
        with self.assertRaises(IndexError):
            self.m[5] = 1
        with self.assertRaises(KeyError):
            self.m[0, 0, 0] = 1


class TestTakePut(unittest.TestCase):
    def setUp(self):
        self.m = Matrix(3, 3, range(9))

    def test_take(self):
        self.assertEqual(self.m.take([2, 0]).tolist(), [[6, 7, 8], [0, 1, 2]])
        self.assertEqual(self.m.take((-1, -1)).tolist(), [[6, 7, 8], [6, 7, 8]])
        self.assertEqual(self.m.take([1], axis=1).tolist(), [[1], [4], [7]])
        self.assertEqual(self.m.take([True, False]).tolist(), [[3, 4, 5], [0, 1, 2]])
        self.assertEqual(self.m.take([0], -1).shape, (3, 1))
        taken = self.m.take([0])
        taken.x = 50
        self.assertEqual(self.m.x, 0.0)

    def test_take_and_put_with_index_matrices(self):
        # A row or column Matrix of whole numbers indexes like the list of its values.
        column = Matrix.vector([2, 0], as_column=True)
        row = Matrix.vector([-1, 1])
        self.assertEqual(self.m.take(column).tolist(), [[6, 7, 8], [0, 1, 2]])
        self.assertEqual(self.m.take(row, axis=1).tolist(), [[2, 1], [5, 4], [8, 7]])
        target = Matrix(3, 3)
        target.put(column, Matrix(2, 3, 1.0))
        self.assertEqual(target.tolist(), [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
        with self.assertRaises(TypeError):
            self.m.take(Matrix.vector([0.5]))
        with self.assertRaises(TypeError):
            self.m.take(Matrix(2, 2))
        with self.assertRaises(IndexError):
            self.m.take(Matrix.vector([3]))

    def test_take_errors(self):
        with self.assertRaises(IndexError):
            self.m.take([])
        with self.assertRaises(IndexError):
            self.m.take([3])
        with self.assertRaises(IndexError):
            self.m.take([-4])
        with self.assertRaises(TypeError):
            self.m.take([0.0])
        with self.assertRaises(TypeError):
            self.m.take(0)
        with self.assertRaises(KeyError):
            self.m.take([0], axis=2)
        with self.assertRaises(TypeError):
            self.m.take([0], axis=None)
        with self.assertRaises(OverflowError):
            self.m.take([2 ** 70])

    def test_put(self):
        self.assertIs(self.m.put([0, 2], 0), self.m)  # bocpy returns self
        self.assertEqual(flat(self.m), [0, 0, 0, 3, 4, 5, 0, 0, 0])
        self.m.put([1], [9, 9, 9])
        self.assertEqual(self.m[1].tolist(), [[9, 9, 9]])
        self.m.put([0, 0], 1, axis=1, accumulate=True)
        self.assertEqual(self.m.take([0], axis=1).tolist(), [[2], [11], [2]])
        self.m.put(2, Matrix(3, 1, [5, 6, 7]), axis=1)
        self.assertEqual(self.m.take([2], axis=1).tolist(), [[5], [6], [7]])
        self.m.put([1, 1], Matrix(2, 3, [1, 1, 1, 2, 2, 2]))
        self.assertEqual(self.m[1].tolist(), [[2, 2, 2]])

    def test_put_errors(self):
        before = self.m.copy()
        with self.assertRaises(IndexError):
            self.m.put([0, 3], 1)
        self.assertEqual(self.m, before)  # validated before writing
        with self.assertRaises(ValueError):
            self.m.put([0], [1, 2])
        with self.assertRaises(TypeError):
            self.m.put([0], "x")
        with self.assertRaises(KeyError):
            self.m.put([0], 1, axis=5)
        with self.assertRaises(TypeError):
            self.m.put([0])


class TestIteration(unittest.TestCase):
    def test_rows(self):
        rows = list(Matrix(3, 2, range(6)))
        self.assertEqual(len(rows), 3)
        self.assertTrue(all(isinstance(r, Matrix) and r.shape == (1, 2) for r in rows))
        self.assertEqual(rows[2].tolist(), [[4, 5]])

    def test_column_and_row_vectors(self):
        self.assertEqual(list(Matrix(3, 1, [1, 2, 3])), [1.0, 2.0, 3.0])
        single = list(Matrix(1, 3, [1, 2, 3]))
        self.assertEqual(len(single), 1)
        self.assertEqual(single[0].shape, (1, 3))
        for i, pos in enumerate(Matrix(2, 2, [1, 2, 3, 4])):
            self.assertEqual(pos.x, 1.0 + 2 * i)


class TestArithmetic(unittest.TestCase):
    def setUp(self):
        self.a = Matrix(2, 2, [1, 2, 3, 4])

    def test_scalars_both_sides(self):
        self.assertEqual(flat(self.a + 1), [2, 3, 4, 5])
        self.assertEqual(flat(1 + self.a), [2, 3, 4, 5])
        self.assertEqual(flat(self.a - 1), [0, 1, 2, 3])
        self.assertEqual(flat(10 - self.a), [9, 8, 7, 6])
        self.assertEqual(flat(self.a * 2.5), [2.5, 5, 7.5, 10])
        self.assertEqual(flat(2 * self.a), [2, 4, 6, 8])
        self.assertEqual(flat(self.a / 2), [0.5, 1, 1.5, 2])
        self.assertEqual(flat(12 / self.a), [12, 6, 4, 3])
        self.assertEqual(flat(self.a * True), [1, 2, 3, 4])

    def test_lists_and_one_by_one(self):
        self.assertEqual(flat(self.a + [10, 20]), [11, 22, 13, 24])
        self.assertEqual(flat([10, 20] - self.a), [9, 18, 7, 16])
        self.assertEqual(flat(self.a * (2, 3)), [2, 6, 6, 12])
        self.assertEqual(flat(self.a + Matrix(1, 1, 5)), [6, 7, 8, 9])
        self.assertEqual(flat(Matrix(1, 1, 5) - self.a), [4, 3, 2, 1])

    def test_broadcasting(self):
        self.assertEqual(flat(self.a + self.a), [2, 4, 6, 8])
        self.assertEqual(flat(self.a - Matrix.vector([1, 2])), [0, 0, 2, 2])
        self.assertEqual(flat(self.a * Matrix.vector([1, 10], as_column=True)), [1, 2, 30, 40])
        outer = Matrix.vector([1, 2, 3], as_column=True) * Matrix.vector([1, 10])
        self.assertEqual(outer.tolist(), [[1, 10], [2, 20], [3, 30]])
        scaled = Matrix.uniform(size=(5, 2)) * [1200, 800]
        self.assertEqual(scaled.shape, (5, 2))

    def test_mismatch_names_both_shapes(self):
        with self.assertRaisesRegex(
                ValueError, r"^Dimension mismatch between operands: shape mismatch: \(3, 2\) vs \(4, 2\)$"):
            Matrix(3, 2) + Matrix(4, 2)
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(2, 2\) vs \(1, 3\)"):
            self.a * [1, 2, 3]

    def test_ieee_division(self):
        r = Matrix.vector([1, -1, 0]) / 0
        self.assertEqual(r.x, math.inf)
        self.assertEqual(r.y, -math.inf)
        self.assertTrue(math.isnan(r.z))

    def test_unsupported_operands(self):
        with self.assertRaises(TypeError):
            self.a + "x"
        with self.assertRaises(TypeError):
            self.a + None
        with self.assertRaises(TypeError):
            self.a + 1j
        with self.assertRaises(TypeError):
            self.a + [1, "x"]
        with self.assertRaises(ValueError):
            self.a + []

    def test_in_place(self):
        m = self.a.copy()
        ident = id(m)
        m += 1
        m -= Matrix.vector([1, 1])
        m *= Matrix.vector([2, 3], as_column=True)
        m /= 2
        self.assertEqual(id(m), ident)
        self.assertEqual(flat(m), [1, 2, 4.5, 6])
        m += m
        self.assertEqual(flat(m), [2, 4, 9, 12])
        alias = m
        m *= [1, 0]
        self.assertIs(alias, m)
        self.assertEqual(flat(alias), [2, 0, 9, 0])
        v = Matrix.vector([1, 2])
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(1, 2\) vs \(2, 2\)"):
            v += self.a
        self.assertEqual(flat(v), [1, 2])
        with self.assertRaises(ValueError):
            m += Matrix(3, 2)
        with self.assertRaises(TypeError):
            m += "x"
        x = 1.0
        x += Matrix.vector([1, 2])
        self.assertEqual(flat(x), [2, 3])

    def test_unary(self):
        self.assertEqual(flat(-self.a), [-1, -2, -3, -4])
        self.assertEqual(flat(abs(-self.a)), [1, 2, 3, 4])
        p = +self.a
        self.assertEqual(p, self.a)
        self.assertIsNot(p, self.a)

    def test_matmul(self):
        b = Matrix(2, 3, [1, 0, 2, 0, 1, 3])
        self.assertEqual((self.a @ b).tolist(), [[1, 2, 8], [3, 4, 18]])
        self.assertEqual(self.a.matmul(b), self.a @ b)
        self.assertEqual((Matrix.vector([1, 1]) @ self.a).tolist(), [[4, 6]])
        self.assertEqual(([1, 1] @ self.a).tolist(), [[4, 6]])
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(2, 3\) vs \(2, 2\)"):
            b @ self.a
        with self.assertRaises(TypeError):
            self.a @ 2
        with self.assertRaises(TypeError):
            self.a.matmul(2)
        with self.assertRaises(ValueError):
            self.a.matmul(Matrix(3, 3))
        m = self.a.copy()
        m @= self.a
        self.assertEqual(m, self.a @ self.a)

    def test_matmul_sums_in_inner_order_for_every_shape(self):
        # Each element is 0 + a[i,0]*b[0,j] + a[i,1]*b[1,j] + ... in that
        # order, bit for bit, whichever blocked kernel the shape takes
        # (matrix_kernels.cpp: narrow, 2x8 register blocks with remainders,
        # streaming for long inner dimensions).
        shapes = [(1, 1, 9), (2, 3, 8), (3, 5, 17), (5, 16, 16), (7, 9, 13), (4, 300, 10), (9, 2, 5)]
        for m, k, n in shapes:
            a = Matrix.uniform(-1.0, 1.0, (m, k))
            b = Matrix.uniform(-1.0, 1.0, (k, n))
            c = a @ b
            for i in range(m):
                for j in range(n):
                    s = 0.0
                    for t in range(k):
                        s += a[i, t] * b[t, j]
                    self.assertEqual(c[i, j], s, (m, k, n, i, j))


class TestNamedOps(unittest.TestCase):
    def setUp(self):
        self.a = Matrix(2, 2, [1, 2, 3, 4])

    def test_binary_with_out(self):
        self.assertEqual(flat(self.a.add(1)), [2, 3, 4, 5])
        self.assertEqual(flat(self.a.subtract([1, 2])), [0, 0, 2, 2])
        self.assertEqual(flat(self.a.multiply(self.a)), [1, 4, 9, 16])
        self.assertEqual(flat(self.a.divide(other=2)), [0.5, 1, 1.5, 2])
        out = Matrix(2, 2)
        self.assertIs(self.a.add(self.a, out=out), out)
        self.assertEqual(flat(out), [2, 4, 6, 8])
        self.assertIs(self.a.multiply(2, out=self.a), self.a)
        self.assertEqual(flat(self.a), [2, 4, 6, 8])
        self.assertEqual(flat(self.a.add(1, out=None)), [3, 5, 7, 9])
        with self.assertRaisesRegex(ValueError, r"out shape 1x2 does not match result 2x2"):
            self.a.add(1, out=Matrix(1, 2))
        with self.assertRaises(TypeError):
            self.a.add(1, out=[0, 0])
        with self.assertRaises(TypeError):
            self.a.add(1, 2)
        with self.assertRaises(TypeError):
            self.a.add()
        with self.assertRaises(TypeError):
            self.a.add(1, bogus=2)
        with self.assertRaises(TypeError):
            self.a.add("x")
        with self.assertRaises(ValueError):
            self.a.add(Matrix(3, 3))

    def test_minimum_maximum(self):
        self.assertEqual(flat(self.a.minimum(2.5)), [1, 2, 2.5, 2.5])
        self.assertEqual(flat(self.a.maximum([2, 3])), [2, 3, 3, 4])

    def test_comparison_masks(self):
        self.assertEqual(flat(self.a.less(3)), [1, 1, 0, 0])
        self.assertEqual(flat(self.a.less_equal(3)), [1, 1, 1, 0])
        self.assertEqual(flat(self.a.greater([1, 3])), [0, 0, 1, 1])
        self.assertEqual(flat(self.a.greater_equal(Matrix.vector([2, 4], True))), [0, 1, 0, 1])
        self.assertEqual(flat(self.a.equal(self.a)), [1, 1, 1, 1])
        self.assertEqual(flat(self.a.not_equal(2)), [1, 0, 1, 1])
        self.assertEqual(self.a.lt(3), self.a.less(3))
        self.assertEqual(self.a.le(3), self.a.less_equal(3))
        self.assertEqual(self.a.gt(3), self.a.greater(3))
        self.assertEqual(self.a.ge(3), self.a.greater_equal(3))
        self.assertEqual(self.a.eq(3), self.a.equal(3))
        self.assertEqual(self.a.ne(3), self.a.not_equal(3))
        nan = Matrix.vector([math.nan])
        self.assertEqual(flat(nan.equal(nan)), [0])
        self.assertEqual(flat(nan.not_equal(nan)), [1])
        with self.assertRaises(ValueError):
            self.a.less(Matrix(3, 1))

    def test_unary_named(self):
        v = Matrix.vector([-2.5, -0.5, 0.5, 2.5, 4])
        self.assertEqual(flat(v.round()), [-2, -0.0, 0, 2, 4])  # halves to even
        self.assertEqual(flat(v.ceil()), [-2, 0, 1, 3, 4])
        self.assertEqual(flat(v.floor()), [-3, -1, 0, 2, 4])
        self.assertEqual(flat(v.abs()), [2.5, 0.5, 0.5, 2.5, 4])
        self.assertEqual(flat(v.negate()), [2.5, 0.5, -0.5, -2.5, -4])
        roots = v.sqrt()
        self.assertTrue(math.isnan(roots.x))
        self.assertEqual(roots[0, 4], 2.0)
        w = v.copy()
        self.assertIs(w.abs(in_place=True), w)
        self.assertEqual(flat(w), [2.5, 0.5, 0.5, 2.5, 4])
        out = Matrix(1, 5)
        self.assertIs(w.sqrt(out=out), out)
        self.assertEqual(out[0, 4], 2.0)
        with self.assertRaises(ValueError):
            w.abs(in_place=True, out=out)
        with self.assertRaises(ValueError):
            w.abs(out=Matrix(5, 1))
        self.assertIs(w.abs(True), w)  # in_place may be positional (bocpy)
        with self.assertRaises(TypeError):
            w.abs(True, out)  # out is keyword-only

    def test_clip(self):
        v = Matrix.vector([-5, 0.5, 7, math.nan])
        c = v.clip(0, 1)
        self.assertEqual(flat(c)[:3], [0, 0.5, 1])
        self.assertTrue(math.isnan(c.w))
        self.assertEqual(flat(v.clamp(None, 1))[:3], [-5, 0.5, 1])
        self.assertEqual(flat(v.clip(min=0, max=None))[:3], [0, 0.5, 7])
        bounds = Matrix(2, 1, [0, 10])
        self.assertEqual(Matrix.vector([5, 15]).clip(bounds, 12).tolist(), [[5, 12], [10, 12]])
        self.assertIs(v.clip(0, 1, in_place=True), v)
        self.assertEqual(flat(v)[:3], [0, 0.5, 1])
        out = Matrix(1, 4)
        self.assertIs(v.clip(-1, 0, out=out), out)
        with self.assertRaises(AssertionError):  # bocpy: max < min
            v.clip(2, 1)
        self.assertEqual(flat(Matrix.vector([-1, 2]).clip(0)), [0, 2])  # min only
        with self.assertRaisesRegex(ValueError, "must provide min and/or max"):
            v.clip()
        with self.assertRaises(TypeError):
            v.clip("a", 1)
        with self.assertRaises(ValueError):
            Matrix.vector([1, 2]).clip(Matrix(2, 1), 3, in_place=True)

    def test_fma_and_scaled_add(self):
        a = Matrix.vector([1 + 2 ** -30])
        b = Matrix.vector([1 - 2 ** -30])
        self.assertEqual(a.fma(b, -1).x, -(2 ** -60))       # one rounding
        self.assertEqual((a * b - 1).x, 0.0)                 # two roundings
        m = Matrix(2, 2, [1, 2, 3, 4])
        self.assertEqual(flat(m.fma(2, [1, 0])), [3, 4, 7, 8])
        out = Matrix(2, 2)
        self.assertIs(m.fma(m, m, out=out), out)
        self.assertEqual(flat(out), [2, 6, 12, 20])
        # scaled_add(s, x) = self + s * x (bocpy's argument order).
        self.assertEqual(flat(m.scaled_add(0.5, Matrix(2, 2, 1.0))), [1.5, 2.5, 3.5, 4.5])
        self.assertEqual(flat(m.scaled_add([1, 0], m)), [2, 2, 6, 4])  # a row scale
        self.assertEqual(flat(m.scaled_add(Matrix(1, 1, 2.0), m)), [3, 6, 9, 12])
        self.assertIs(m.fma(1, 1, in_place=True), m)
        self.assertEqual(flat(m), [2, 3, 4, 5])
        self.assertIs(m.scaled_add(-1, m, True), m)
        self.assertEqual(flat(m), [0, 0, 0, 0])
        with self.assertRaisesRegex(ValueError, r"fma: b shape 3x3 incompatible with self 2x2"):
            m.fma(Matrix(3, 3), 1)
        with self.assertRaisesRegex(ValueError, r"scaled_add: x shape 1x2 does not match self 2x2"):
            m.scaled_add(1, [1, 2])
        with self.assertRaisesRegex(TypeError, r"scaled_add: s must be a Matrix or a real number"):
            m.scaled_add("s", m)

    def test_where(self):
        mask = Matrix(2, 1, [1, 0])
        self.assertEqual(Matrix.where(mask, Matrix(2, 2, [1, 2, 3, 4]), -1).tolist(),
                         [[1, 2], [-1, -1]])
        self.assertEqual(Matrix.where(Matrix.vector([0, 1]), [5, 6], 0).tolist(), [[0, 6]])
        self.assertEqual(Matrix.where(1, 2, 3).tolist(), [[2]])
        with self.assertRaises(ValueError):
            Matrix.where(Matrix(3, 1), Matrix(2, 2), 0)
        with self.assertRaises(TypeError):
            Matrix.where("m", 1, 2)
        with self.assertRaises(TypeError):
            Matrix.where(mask, 1)

    def test_allclose(self):
        a = Matrix.vector([1, 2])
        self.assertTrue(Matrix.allclose(a, Matrix.vector([1 + 1e-9, 2])))
        self.assertFalse(Matrix.allclose(a, Matrix.vector([1.1, 2])))
        self.assertTrue(Matrix.allclose(a, Matrix.vector([1.1, 2]), atol=0.2))
        self.assertTrue(Matrix.allclose(a, Matrix.vector([1.1, 2]), rtol=0.2))
        self.assertFalse(Matrix.allclose(a, a.T))
        nan = Matrix.vector([math.nan])
        self.assertTrue(Matrix.allclose(nan, nan))  # bocpy: NaN never exceeds the tolerance
        self.assertTrue(Matrix.allclose(nan, nan, equal_nan=True))
        with self.assertRaises(TypeError):
            Matrix.allclose(a, "b")


class TestReductions(unittest.TestCase):
    def setUp(self):
        self.m = Matrix(2, 3, [1, 2, 3, 4, 5, 6])

    def test_axis_forms(self):
        self.assertEqual(self.m.sum(), 21.0)
        self.assertIsInstance(self.m.sum(), float)
        self.assertEqual(self.m.sum(0).tolist(), [[5, 7, 9]])
        self.assertEqual(self.m.sum(axis=1).tolist(), [[6], [15]])
        self.assertEqual(self.m.sum(-1), self.m.sum(1))
        self.assertEqual(self.m.sum(-2), self.m.sum(0))
        self.assertEqual(self.m.sum(None), 21.0)
        self.assertEqual(self.m.mean(), 3.5)
        self.assertEqual(self.m.mean(0).tolist(), [[2.5, 3.5, 4.5]])
        self.assertEqual(self.m.mean(1).tolist(), [[2], [5]])
        self.assertEqual(self.m.magnitude_squared(), 91.0)
        self.assertEqual(self.m.magnitude_squared(1).tolist(), [[14], [77]])
        self.assertEqual(Matrix.vector([3, 4]).magnitude(), 5.0)
        self.assertEqual(Matrix(2, 2, [3, 4, 6, 8]).magnitude(1).tolist(), [[5], [10]])
        self.assertEqual(Matrix(2, 2, [3, 4, 4, 3]).magnitude(0).tolist(), [[5, 5]])
        self.assertEqual(self.m.min(), 1.0)
        self.assertEqual(self.m.max(), 6.0)
        self.assertEqual(self.m.min(0).tolist(), [[1, 2, 3]])
        self.assertEqual(self.m.max(1).tolist(), [[3], [6]])
        self.assertEqual(Matrix(1, 1, 3).sum(0).shape, (1, 1))

    def test_arg_extremes(self):
        m = Matrix(2, 3, [3, 1, 1, 0, 9, 9])
        self.assertEqual(m.argmin(), 3)
        self.assertIsInstance(m.argmin(), int)
        self.assertEqual(m.argmax(), 4)
        self.assertEqual(m.argmin(1).tolist(), [[1], [0]])
        self.assertEqual(m.argmax(0).tolist(), [[0, 1, 1]])

    def test_nan_propagates(self):
        m = Matrix.vector([1, math.nan, -1])
        self.assertTrue(math.isnan(m.min()))
        self.assertTrue(math.isnan(m.max()))
        # argmin/argmax are strict (bocpy): a NaN after the first element is
        # skipped, a leading one pins the index.
        self.assertEqual(m.argmin(), 2)
        self.assertEqual(Matrix.vector([math.nan, 1]).argmax(), 0)

    def test_left_to_right_order(self):
        self.assertEqual(Matrix.vector([1e16, 1, -1e16, 1]).sum(), 1.0)
        self.assertEqual(Matrix.vector([1e16, 1, -1e16, 1], as_column=True).sum(0).x, 1.0)

    def test_axis_errors(self):
        for name in ("sum", "mean", "magnitude", "magnitude_squared", "min", "max",
                     "argmin", "argmax", "normalize"):
            fn = getattr(self.m, name)
            with self.assertRaises(ValueError, msg=name):
                fn(2)
            with self.assertRaises(ValueError, msg=name):
                fn(-3)
            with self.assertRaises(TypeError, msg=name):
                fn(True)
            with self.assertRaises(TypeError, msg=name):
                fn(1.0)
            with self.assertRaises(TypeError, msg=name):
                fn("0")
            with self.assertRaises(TypeError, msg=name):
                fn(0, 1, 2)

    def test_normalize(self):
        m = Matrix(2, 2, [3, 4, 0, 0])
        self.assertEqual(m.normalize(1).tolist(), [[0.6, 0.8], [0, 0]])
        self.assertEqual(m.normalize().tolist(), [[0.6, 0.8], [0, 0]])
        self.assertEqual(m.normalize(axis=0).tolist(), [[1, 1], [0, 0]])
        self.assertEqual(Matrix(1, 2).normalize().tolist(), [[0, 0]])
        velocity = Matrix.vector([30, 40])
        self.assertIs(velocity.normalize(in_place=True), velocity)
        velocity *= 10
        self.assertEqual(flat(velocity), [6, 8])
        self.assertEqual(flat(m), [3, 4, 0, 0])

    def test_vecdot(self):
        a = Matrix(2, 2, [1, 2, 3, 4])
        self.assertEqual(a.vecdot(a), 30.0)
        self.assertEqual(a.vecdot([1, 1], axis=1).tolist(), [[3], [7]])
        self.assertEqual(a.vecdot(a, 0).tolist(), [[10, 20]])
        with self.assertRaises(ValueError):
            a.vecdot(Matrix(3, 3))
        with self.assertRaises(TypeError):
            a.vecdot("x")


class TestGeometry(unittest.TestCase):
    def test_angle(self):
        self.assertEqual(Matrix.vector([1, 1]).angle(), math.atan2(1, 1))
        self.assertIsInstance(Matrix.vector([0, 1], as_column=True).angle(), float)
        rows = Matrix(3, 2, [1, 0, 0, 1, -1, 0]).angle()
        self.assertEqual(rows.shape, (3, 1))
        self.assertEqual(flat(rows), [0.0, math.pi / 2, math.pi])
        cols = Matrix(2, 3, [1, 0, -1, 0, 1, 0]).angle()
        self.assertEqual(cols.shape, (1, 3))
        sq = Matrix(2, 2, [1, 0, 0, 1])
        self.assertEqual(flat(sq.angle()), [0.0, math.pi / 2])       # rows
        self.assertEqual(flat(sq.angle(axis=0)), [0.0, math.pi / 2])  # columns
        self.assertEqual(flat(Matrix(2, 2, [0, 1, 1, 0]).angle(0)), [math.pi / 2, 0.0])
        with self.assertRaises(ValueError):
            Matrix(3, 3).angle()
        with self.assertRaises(ValueError):
            Matrix(3, 3).angle(1)
        with self.assertRaises(TypeError):
            sq.angle("rows")

    def test_perpendicular(self):
        self.assertEqual(flat(Matrix.vector([1, 2]).perpendicular()), [-2, 1])
        self.assertEqual(Matrix(2, 3, [1, 0, 3, 0, 1, 4]).perpendicular().tolist(),
                         [[0, -1, -4], [1, 0, 3]])
        with self.assertRaises(ValueError):
            Matrix(3, 3).perpendicular()

    def test_cross(self):
        self.assertEqual(Matrix.vector([1, 0]).cross([0, 1]), 1.0)
        many = Matrix(2, 2, [1, 0, 0, 1]).cross(Matrix.vector([0, 1]))
        self.assertEqual(many.tolist(), [[1], [0]])
        self.assertEqual(Matrix.vector([1, 0, 0]).cross([0, 1, 0]).tolist(), [[0, 0, 1]])
        self.assertEqual(Matrix.vector([0, 1, 0], True).cross(Matrix.vector([0, 0, 1], True)).tolist(),
                         [[1], [0], [0]])
        with self.assertRaises(ValueError):
            Matrix(4, 4).cross(Matrix(4, 4))
        with self.assertRaises(ValueError):
            Matrix.vector([1, 0]).cross(Matrix(3, 3))

    def test_pairwise(self):
        a = Matrix(2, 2, [0, 0, 1, 2])
        b = Matrix(3, 2, [1, 1, -1, 0, 3, 4])
        dx, dy = a.pairwise_diff(b)
        self.assertEqual(dx.shape, (2, 3))
        for i in range(2):
            for j in range(3):
                self.assertEqual(dx[i, j], a[i, 0] - b[j, 0])
                self.assertEqual(dy[i, j], a[i, 1] - b[j, 1])
        d2 = a.pairwise_dist2(b)
        self.assertEqual(d2.shape, (2, 3))
        self.assertEqual(d2, dx * dx + dy * dy)
        self.assertEqual(d2[1, 2], 4.0 + 4.0)
        parts = Matrix(2, 3, range(6)).pairwise_diff(Matrix(1, 3))
        self.assertEqual(len(parts), 3)
        self.assertEqual(a.pairwise_dist2([0, 0]).tolist(), [[0], [5]])
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(2, 2\) vs \(2, 3\)"):
            a.pairwise_diff(Matrix(2, 3))
        with self.assertRaises(ValueError):
            a.pairwise_dist2(Matrix(2, 3))
        with self.assertRaises(TypeError):
            a.pairwise_dist2("x")

    def test_vectorised_flock_matches_python_loop(self):
        Matrix.seed(99)
        pos = Matrix.uniform(0, 100, (12, 2))
        vel = Matrix.uniform(-1, 1, (12, 2))
        nbr_pos = Matrix.concat([pos, Matrix.uniform(0, 100, (20, 2))])
        nbr_vel = Matrix.concat([vel, Matrix.uniform(-1, 1, (20, 2))])
        visual, protected = 40.0, 8.0
        # Vectorised: no per-pair Python loop.
        dx, dy = pos.pairwise_diff(nbr_pos)
        d2 = pos.pairwise_dist2(nbr_pos)
        visible = d2.less(visual ** 2).multiply(d2.greater(0))
        close = d2.less(protected ** 2).multiply(d2.greater(0))
        sep = Matrix.concat([(dx * close).sum(1), (dy * close).sum(1)], axis=1)
        count = visible.sum(1)
        has = count.greater(0)
        safe = Matrix.where(has, count, 1)
        align = Matrix.where(has, (visible @ nbr_vel) / safe - vel, 0)
        cohere = Matrix.where(has, (visible @ nbr_pos) / safe - pos, 0)
        new_vel = vel + sep * 0.05 + align * 0.05 + cohere * 0.0005
        speed = new_vel.magnitude(1)
        new_vel = new_vel * (speed.clip(0.5, 3) / Matrix.where(speed.greater(0), speed, 1))
        # Reference: plain Python loops.
        P, V, NP, NV = pos.tolist(), vel.tolist(), nbr_pos.tolist(), nbr_vel.tolist()
        for i in range(12):
            sx = sy = ax = ay = cx = cy = 0.0
            n = 0
            for j in range(len(NP)):
                ddx, ddy = P[i][0] - NP[j][0], P[i][1] - NP[j][1]
                dd = ddx * ddx + ddy * ddy
                if 0 < dd < protected ** 2:
                    sx += ddx
                    sy += ddy
                if 0 < dd < visual ** 2:
                    ax += NV[j][0]
                    ay += NV[j][1]
                    cx += NP[j][0]
                    cy += NP[j][1]
                    n += 1
            if n:
                ax, ay = ax / n - V[i][0], ay / n - V[i][1]
                cx, cy = cx / n - P[i][0], cy / n - P[i][1]
            vx = V[i][0] + sx * 0.05 + ax * 0.05 + cx * 0.0005
            vy = V[i][1] + sy * 0.05 + ay * 0.05 + cy * 0.0005
            s = math.hypot(vx, vy)
            if s:
                k = min(max(s, 0.5), 3) / s
                vx, vy = vx * k, vy * k
            self.assertAlmostEqual(new_vel[i, 0], vx, places=9)
            self.assertAlmostEqual(new_vel[i, 1], vy, places=9)


class TestShapeOps(unittest.TestCase):
    def test_transpose_reshape_copy_tolist(self):
        m = Matrix(2, 3, range(6))
        self.assertEqual(m.transpose().tolist(), [[0, 3], [1, 4], [2, 5]])
        self.assertEqual(m.T, m.transpose())
        self.assertIsNone(m.transpose_in_place())
        self.assertEqual(m.shape, (3, 2))
        self.assertEqual(m.tolist(), [[0, 3], [1, 4], [2, 5]])
        r = m.reshape(1, 6)
        self.assertEqual(flat(r), [0, 3, 1, 4, 2, 5])
        self.assertEqual(m.reshape(rows=6, columns=1).shape, (6, 1))
        with self.assertRaisesRegex(ValueError, r"shape mismatch: \(3, 2\) vs \(4, 2\)"):
            m.reshape(4, 2)
        with self.assertRaises(AssertionError):
            m.reshape(0, 6)
        c = m.copy()
        self.assertEqual(c, m)
        c.x = 42
        self.assertNotEqual(c, m)
        self.assertIsInstance(m.tolist()[0][0], float)


class TestComparisons(unittest.TestCase):
    def test_equality(self):
        a = Matrix(2, 2, [1, 2, 3, 4])
        self.assertTrue(a == Matrix(2, 2, [1, 2, 3, 4]))
        self.assertFalse(a != Matrix(2, 2, [1, 2, 3, 4]))
        self.assertFalse(a == Matrix(1, 4, [1, 2, 3, 4]))
        self.assertTrue(a != Matrix(2, 2))
        self.assertFalse(a == 5)
        self.assertTrue(a != [1, 2, 3, 4])
        # bocpy compares lexicographically and skips NaN pairs, so a NaN
        # matrix equals itself (the equal() mask still says 0).
        nan = Matrix.vector([math.nan])
        self.assertTrue(nan == nan)
        self.assertEqual(nan.equal(nan).x, 0.0)
        self.assertTrue(Matrix(1, 3, [1, 2, 3]) == (1, 2, 3))
        self.assertTrue(Matrix(1, 2, [1, 1]) == True)  # noqa: E712 (a scalar)

    def test_lexicographic_ordering(self):
        a = Matrix.vector([1, 2])
        self.assertTrue(a < Matrix.vector([1, 3]))
        self.assertTrue(a <= Matrix.vector([1, 2]))
        self.assertTrue(a > Matrix.vector([0, 9]))
        self.assertTrue(a >= a)
        self.assertTrue(Matrix.vector([math.nan, 1]) <= Matrix.vector([5, 1]))
        ordered = sorted([Matrix.vector([3]), Matrix.vector([1]), Matrix.vector([2])])
        self.assertEqual([m.x for m in ordered], [1, 2, 3])
        # Scalars and lists compare too (bocpy); a shape mismatch raises.
        self.assertTrue(a < 3)
        self.assertTrue(2.5 > a)
        self.assertTrue(a <= [1, 2])
        with self.assertRaises(ValueError):
            a < Matrix.vector([1, 2, 0])
        with self.assertRaises(ValueError):
            a < []
        with self.assertRaises(TypeError):
            a < "x"


class TestPickleAndCopy(unittest.TestCase):
    def test_pickle_round_trip(self):
        m = Matrix(3, 2, [1.5, -2, 3, 1e300, -0.0, 7])
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(m, protocol))
            self.assertEqual(back, m)
            self.assertIsNot(back, m)
        self.assertEqual(pickle.loads(pickle.dumps([m, (m, 1)])), [m, (m, 1)])
        self.assertIs(pickle.loads(pickle.dumps(Matrix)), Matrix)

    def test_reduce_form(self):
        m = Matrix(1, 2, [1, 2])
        fn, args = m.__reduce__()
        self.assertIs(fn, _math._matrix_unpickle)
        self.assertEqual(fn.__module__, "bocpy._math")
        self.assertEqual(args[:2], (1, 2))
        self.assertEqual(len(args[2]), 16)
        self.assertEqual(fn(*args), m)

    def test_unpickle_errors(self):
        with self.assertRaises(ValueError):
            _math._matrix_unpickle(1, 2, b"\0" * 8)
        with self.assertRaises(ValueError):
            _math._matrix_unpickle(0, 2, b"")
        with self.assertRaises(TypeError):
            _math._matrix_unpickle(1, 1, "x" * 8)
        with self.assertRaises(TypeError):
            _math._matrix_unpickle(1, 1)

    def test_copy_module(self):
        m = Matrix(2, 2, [1, 2, 3, 4])
        for c in (copy.copy(m), copy.deepcopy(m), m.__copy__(), m.__deepcopy__({})):
            self.assertEqual(c, m)
            c.x = 0
            self.assertEqual(m.x, 1.0)


class TestBuffer(unittest.TestCase):
    def test_memoryview(self):
        m = Matrix(2, 3, range(6))
        with memoryview(m) as view:
            self.assertEqual(view.format, "d")
            self.assertEqual(view.shape, (2, 3))
            self.assertEqual(view.strides, (24, 8))
            self.assertFalse(view.readonly)
            self.assertEqual(view.tolist(), m.tolist())
            view[1, 2] = 50.0
            self.assertEqual(m[1, 2], 50.0)
            with self.assertRaises(BufferError):
                m.transpose_in_place()
        m.transpose_in_place()
        self.assertEqual(m.shape, (3, 2))
        self.assertEqual(bytes(m), m.__reduce__()[1][2])


class TestSmallPaths(unittest.TestCase):
    """The direct paths for small matrices (pooled objects, m.x, iter(m),
    m[i], same-shape/float arithmetic) behave as the general ones."""

    def test_pooled_objects_start_clean(self):
        for _ in range(3):
            junk = [Matrix(1, 2, [float(i), -1.0]) for i in range(600)]
            del junk
            self.assertEqual(flat(Matrix(1, 2)), [0.0, 0.0])
            self.assertEqual(flat(Matrix(2, 3, 4.0)), [4.0] * 6)
            self.assertEqual(Matrix(3, 1).shape, (3, 1))
            self.assertEqual(flat(Matrix.vector([5, 6])), [5.0, 6.0])
            self.assertEqual(Matrix.vector([5, 6], as_column=True).shape, (2, 1))
        a = Matrix(1, 2, [1, 2])
        b = a.copy()
        b.x = 9
        self.assertEqual(flat(a), [1.0, 2.0])
        c = a + 0.0
        c.y = 7
        self.assertEqual(flat(a), [1.0, 2.0])
        u = Matrix.__new__(Matrix)
        with self.assertRaises(ValueError):
            u.x
        with self.assertRaises(ValueError):
            u + a
        with self.assertRaises(ValueError):
            a + u

    def test_components(self):
        m = Matrix(1, 3, [1, 2, 3])
        self.assertEqual((m.x, m.y, m.z), (1.0, 2.0, 3.0))
        with self.assertRaises(IndexError):
            m.w
        m.y = 5
        m.z += 1
        self.assertEqual(flat(m), [1.0, 5.0, 4.0])
        with self.assertRaises(TypeError):
            m.x = "a"
        with self.assertRaises(TypeError):
            del m.x
        with self.assertRaises(AttributeError):
            m.xx
        with self.assertRaises(AttributeError):
            m.q = 1
        self.assertEqual((m.rows, m.cols, m.shape), (1, 3, (1, 3)))
        self.assertEqual(m.mean(), 10.0 / 3.0)
        self.assertTrue(hasattr(m, "x"))
        self.assertEqual(getattr(m, "y"), 5.0)

    def test_iteration(self):
        m = Matrix(3, 2, [1, 2, 3, 4, 5, 6])
        rows = list(m)
        self.assertEqual([flat(r) for r in rows], [[1, 2], [3, 4], [5, 6]])
        self.assertEqual(list(Matrix(3, 1, [1, 2, 3])), [1.0, 2.0, 3.0])
        it = iter(m)
        self.assertIs(iter(it), it)
        self.assertEqual(it.__length_hint__(), 3)
        next(it)
        self.assertEqual(it.__length_hint__(), 2)
        self.assertEqual(len(list(it)), 2)
        with self.assertRaises(StopIteration):
            next(it)
        self.assertEqual(it.__length_hint__(), 0)
        rows[0].x = 100  # rows are copies
        self.assertEqual(m.x, 1.0)
        grow = Matrix(1, 2)
        seen = 0
        for _ in grow:
            seen += 1
            if seen == 1:
                grow.__init__(3, 2)  # the length is read at every step
        self.assertEqual(seen, 3)
        with self.assertRaises(TypeError):
            type(iter(m))()

    def test_row_get_and_set(self):
        m = Matrix(3, 2, [1, 2, 3, 4, 5, 6])
        self.assertEqual(flat(m[-1]), [5.0, 6.0])
        self.assertEqual(m[True].shape, (1, 2))
        with self.assertRaises(IndexError):
            m[3]
        with self.assertRaises(IndexError):
            m[-4]
        with self.assertRaises(OverflowError):
            m[2**80]
        m[1] = Matrix(1, 2, [7, 8])
        m[-1] = Matrix(1, 1, [9])  # broadcasts (general path)
        self.assertEqual(flat(m), [1.0, 2.0, 7.0, 8.0, 9.0, 9.0])
        with self.assertRaises(IndexError):
            m[5] = Matrix(1, 2)
        with self.assertRaises(ValueError):
            m[0] = Matrix(1, 3)
        m[0] = m[2]
        self.assertEqual(flat(m[0]), [9.0, 9.0])

    def test_arithmetic_matches_general_path(self):
        nan = float("nan")
        a = Matrix(2, 2, [1.5, -0.0, nan, 4.0])
        b = Matrix(2, 2, [0.5, 0.0, 1.0, -2.0])
        big_a = Matrix.concat([a] * 5)  # 20 elements: past the small paths
        big_b = Matrix.concat([b] * 5)
        for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y):
            self.assertEqual(repr(flat(op(a, b))), repr(flat(op(big_a, big_b))[:4]))
            self.assertEqual(repr(flat(op(a, 2.5))), repr(flat(op(big_a, 2.5))[:4]))
            self.assertEqual(repr(op(a, 2.5)), repr(op(a, Matrix(1, 1, [2.5]))))
        self.assertEqual(repr(a / 0.0), repr(a / Matrix(1, 1, [0.0])))
        c = a.copy()
        c += b
        self.assertEqual(repr(c), repr(a + b))
        c -= c
        self.assertEqual(flat(c)[0], 0.0)
        d = Matrix(1, 2, [1, 2])
        d *= 3.0
        d /= 2
        self.assertEqual(flat(d), [1.5, 3.0])
        with self.assertRaises(ValueError):
            d += Matrix(2, 2)
        self.assertEqual(repr(2.0 - d), repr(Matrix(1, 2, [0.5, -1.0])))


class TestNoLeaks(unittest.TestCase):
    """Every operation, including its error paths, releases what it allocates."""

    def exercise(self):
        a = Matrix(3, 2, [1, 2, 3, 4, 5, 6])
        b = Matrix.vector([1, 2])
        for op in (lambda: a + b, lambda: 2 - a, lambda: a * [1, 2], lambda: a / a,
                   lambda: a @ Matrix(2, 2), lambda: -a, lambda: abs(a), lambda: +a,
                   lambda: a[1], lambda: a[0, 1], lambda: a[[0, 2]], lambda: a[:, [1]],
                   lambda: a[a.greater(2)], lambda: list(a), lambda: a.tolist(),
                   lambda: a.sum(0), lambda: a.mean(), lambda: a.magnitude(1),
                   lambda: a.argmin(0), lambda: a.normalize(1), lambda: a.clip(0, 3),
                   lambda: a.pairwise_diff(b), lambda: a.pairwise_dist2(b),
                   lambda: Matrix.where(a.less(3), a, 0), lambda: Matrix.concat([a, b]),
                   lambda: a.take([0, 0]), lambda: a.angle(), lambda: a.cross(b),
                   lambda: a.fma(b, 1), lambda: a.scaled_add(b, a), lambda: a.T,
                   lambda: pickle.loads(pickle.dumps(a)), lambda: repr(a), lambda: str(a),
                   lambda: a == b, lambda: a < a, lambda: a.reshape(2, 3),
                   lambda: Matrix.uniform(size=(2, 2)), lambda: a.add(b, out=a)):
            op()
        m = a.copy()
        m += b
        m[0] = [7, 8]
        m[m.greater(5)] = 0
        m.put([1, 1], 1, accumulate=True)
        m.x = 3
        with memoryview(m) as view:
            view[0, 0] = 1.0
        for bad in (lambda: a + Matrix(2, 2), lambda: a["x"], lambda: a[[9]],
                    lambda: a.take([]), lambda: a.sum(5), lambda: Matrix(0, 1),
                    lambda: Matrix(1, 2, [1]), lambda: a + [1, "x"], lambda: a.clip(2, 1),
                    lambda: Matrix.concat([a, Matrix(1, 3)]), lambda: a.add(1, out=b),
                    lambda: a @ b, lambda: a.angle(0), lambda: a.take([0], axis=3)):
            try:
                bad()
            except (ValueError, TypeError, IndexError, KeyError, AssertionError):
                pass
        try:
            m[0] = "x"
        except TypeError:
            pass

    def test_allocated_blocks_are_stable(self):
        for _ in range(50):
            self.exercise()
        before = sys.getallocatedblocks()
        for _ in range(300):
            self.exercise()
        self.assertLess(sys.getallocatedblocks() - before, 200)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    print(f"test_matrix.py: {result.testsRun} tests, {len(result.failures)} failures, "
          f"{len(result.errors)} errors", file=sys.stderr)
    sys.exit(0 if result.wasSuccessful() else 1)
