"""Numbers into a Matrix: what each kind of real number converts to.

Spec: bocpy 0.13.0's Matrix stub (values, list operands and scalars are
real numbers: int, bool, float or anything with __float__ / __index__).
Exact ints and bools convert without building a float object
(runtime/python/matrix/matrix_convert.cpp, real_as_double); these tests pin
that the result is float(x) for every kind, with float()'s errors.
"""

import unittest

from bocpy import Matrix


class OwnFloat(int):
    def __float__(self):
        return 99.0


class Indexable:
    def __index__(self):
        return 7


class TestConversion(unittest.TestCase):
    def test_each_kind_converts_as_float_would(self):
        values = [3, True, False, 2.5, 2**53 + 1, -(10**20), OwnFloat(3), Indexable()]
        expected = [float(v) if not isinstance(v, Indexable) else 7.0 for v in values]
        self.assertEqual(Matrix.vector(values).tolist(), [expected])
        self.assertEqual(Matrix(2, 4, values).tolist(), [expected[:4], expected[4:]])

    def test_scalars_and_list_operands(self):
        m = Matrix(1, 2, [1.0, 2.0])
        self.assertEqual((m * 3).tolist(), [[3.0, 6.0]])
        self.assertEqual((m + True).tolist(), [[2.0, 3.0]])
        self.assertEqual((m * [2**60, OwnFloat(1)]).tolist(), [[float(2**60), 198.0]])
        self.assertEqual(Matrix(1, 2, OwnFloat(5)).tolist(), [[99.0, 99.0]])

    def test_errors_are_floats(self):
        with self.assertRaisesRegex(OverflowError, "int too large to convert to float"):
            Matrix.vector([1, 10**400])
        with self.assertRaisesRegex(OverflowError, "int too large to convert to float"):
            Matrix(1, 1) * 10**400
        with self.assertRaisesRegex(TypeError, "values must contain only real numbers, found str"):
            Matrix.vector([1, "2"])
        with self.assertRaisesRegex(TypeError, "values must be a sequence of real numbers, not int"):
            Matrix.vector(5)
        with self.assertRaisesRegex(ValueError, "vector\\(\\) needs at least one value"):
            Matrix.vector([])

    def test_vector_shapes(self):
        self.assertEqual(Matrix.vector((1, 2, 3)).shape, (1, 3))
        self.assertEqual(Matrix.vector(range(4), as_column=True).shape, (4, 1))
        self.assertEqual(Matrix.vector([5] * 40).tolist(), [[5.0] * 40])  # beyond the object pool's size


if __name__ == "__main__":
    unittest.main()
