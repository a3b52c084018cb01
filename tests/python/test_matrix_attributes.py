"""Matrix attributes: components, properties and bound methods by name.

Spec: bocpy 0.13.0's Matrix stub (x, y, z, w get/set the element at flat
index 0..3; the other properties and methods as documented). Matrix looks
its attributes up through a per-interpreter descriptor cache, hands out
its own bound-method objects and keeps its class methods bound to the type
(runtime/python/matrix/matrix_attributes.h);
these tests pin that every name resolves as CPython's generic lookup would,
in the main interpreter and in a worker's, with the same errors, and that a
bound method behaves as the builtin method it stands for.
"""

import inspect
import pickle
import types
import unittest

from bocpy import Cown, Matrix, quiesce, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT


class TestComponents(unittest.TestCase):
    def test_components_read_and_write_flat_indices(self):
        m = Matrix(2, 2, [1.0, 2.0, 3.0, 4.0])
        self.assertEqual((m.x, m.y, m.z, m.w), (1.0, 2.0, 3.0, 4.0))
        m.x, m.w = 10.0, 40
        self.assertEqual(m.tolist(), [[10.0, 2.0], [3.0, 40.0]])
        self.assertEqual((getattr(m, "y"), getattr(m, "z")), (2.0, 3.0))
        setattr(m, "y", -2.5)
        self.assertEqual(m[0, 1], -2.5)

    def test_rows_from_iteration_have_their_own_components(self):
        m = Matrix(3, 2, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        self.assertEqual([(r.x, r.y) for r in m], [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)])

    def test_augmented_assignment_on_a_component(self):
        v = Matrix(1, 2)
        v.x += 3
        v.y -= 1.5
        self.assertEqual((v.x, v.y), (3.0, -1.5))

    def test_missing_component_raises_index_error_naming_the_shape(self):
        v = Matrix(1, 2)
        with self.assertRaisesRegex(IndexError, r"a \(1, 2\) Matrix has no component z"):
            v.z
        with self.assertRaisesRegex(IndexError, "no component w"):
            v.w = 1.0

    def test_components_cannot_be_deleted_or_set_to_non_numbers(self):
        v = Matrix(1, 2)
        with self.assertRaises(TypeError):
            del v.x
        with self.assertRaises(TypeError):
            v.y = "one"
        self.assertEqual((v.x, v.y), (0.0, 0.0))

    def test_a_moved_matrix_refuses_its_components(self):
        v = Matrix(1, 2, [1.0, 2.0])
        Cown(v)
        with self.assertRaises(RuntimeError):
            v.x


class TestOtherNames(unittest.TestCase):
    def test_properties_and_methods_resolve(self):
        m = Matrix(2, 3, 1.0)
        self.assertEqual((m.rows, m.columns, m.cols, m.shape, m.size), (2, 3, 3, (2, 3), 6))
        self.assertEqual(m.T.shape, (3, 2))
        self.assertTrue(m.acquired)
        self.assertEqual(m.sum(), 6.0)
        bound = m.copy
        self.assertIs(bound.__self__, m)
        self.assertEqual(bound().tolist(), m.tolist())

    def test_unknown_names_raise_attribute_error(self):
        m = Matrix(1, 1)
        for name in ("xx", "q", "X", ""):
            with self.assertRaises(AttributeError, msg=name):
                getattr(m, name)
        with self.assertRaises(AttributeError):
            m.q = 1.0
        with self.assertRaises(AttributeError):
            m.rows = 3

    def test_attribute_names_must_be_strings(self):
        with self.assertRaises(TypeError):
            getattr(Matrix(1, 1), 0)


class TestBoundMethods(unittest.TestCase):
    def test_bound_methods_keep_their_own_matrix(self):
        a, b = Matrix(1, 2, [1.0, 2.0]), Matrix(1, 2, [3.0, 4.0])
        methods = [m.sum for m in (a, b, a, b) for _ in range(40)]  # more than are ever pooled
        self.assertEqual([f() for f in methods[::40]], [3.0, 7.0, 3.0, 7.0])
        del methods
        self.assertEqual((a.sum(), b.sum()), (3.0, 7.0))

    def test_every_calling_convention(self):
        m = Matrix(2, 2, [1.0, 2.0, 3.0, 4.0])
        self.assertEqual(m.tolist(), [[1.0, 2.0], [3.0, 4.0]])  # no arguments
        self.assertEqual(m.matmul(m).tolist(), [[7.0, 10.0], [15.0, 22.0]])  # one argument
        self.assertEqual(m.sum(axis=1).tolist(), [[3.0], [7.0]])  # keywords
        self.assertEqual(m.sum(0).tolist(), [[4.0, 6.0]])

    def test_wrong_arguments_raise_cpythons_errors(self):
        m = Matrix(1, 2)
        with self.assertRaisesRegex(TypeError, r"copy\(\) takes no arguments \(1 given\)"):
            m.copy(1)
        with self.assertRaisesRegex(TypeError, "takes no keyword arguments"):
            m.copy(deep=True)
        with self.assertRaisesRegex(TypeError, r"matmul\(\) takes exactly one argument \(0 given\)"):
            m.matmul()
        with self.assertRaisesRegex(TypeError, "takes no keyword arguments"):
            m.matmul(other=m)

    def test_a_bound_method_is_the_builtin_method_to_everything_else(self):
        m = Matrix(1, 2, [1.0, 2.0])
        bound = m.magnitude_squared
        real = types.MethodType(lambda s: None, m)  # anything but ours: compare against CPython's own
        self.assertIsInstance(bound, types.BuiltinMethodType)  # through __class__: type() names bocpy.MatrixMethod
        self.assertIs(bound.__class__, types.BuiltinMethodType)
        self.assertTrue(inspect.isbuiltin(bound))
        self.assertIs(bound.__self__, m)
        self.assertEqual(bound.__name__, "magnitude_squared")
        self.assertEqual(bound.__qualname__, "Matrix.magnitude_squared")
        self.assertIn("squared", bound.__doc__)
        self.assertRegex(repr(bound), r"^<built-in method magnitude_squared of bocpy.Matrix object at 0x")
        self.assertEqual(bound, m.magnitude_squared)
        self.assertEqual(hash(bound), hash(m.magnitude_squared))
        self.assertNotEqual(bound, Matrix(1, 2).magnitude_squared)
        self.assertNotEqual(bound, m.sum)
        self.assertNotEqual(bound, real)
        self.assertEqual(len({m.copy, m.copy, m.sum}), 2)

    def test_a_bound_method_pickles_as_getattr_of_its_matrix(self):
        m = Matrix(1, 2, [1.0, 2.0])
        again = pickle.loads(pickle.dumps(m.tolist))
        self.assertEqual(again(), [[1.0, 2.0]])
        self.assertEqual(inspect.signature(m.sum).parameters.keys(), inspect.signature(Matrix.sum).parameters.keys() - {"self"})

    def test_class_level_lookups_are_untouched(self):
        self.assertIsInstance(Matrix.__dict__["copy"], types.MethodDescriptorType)
        self.assertEqual(Matrix.copy(Matrix(1, 1, 5.0)).tolist(), [[5.0]])

    def test_class_methods_are_bound_to_the_type(self):
        for name in ("vector", "concat", "where", "zeros", "ones", "uniform", "normal", "seed", "allclose"):
            from_class = getattr(Matrix, name)
            self.assertIsInstance(from_class, types.BuiltinMethodType, msg=name)
            self.assertIs(from_class.__self__, Matrix, msg=name)
            self.assertEqual(from_class, getattr(Matrix(1, 1), name), msg=name)
        self.assertRegex(repr(Matrix.vector), r"^<built-in method vector of type object at 0x")
        self.assertEqual(Matrix(1, 1).zeros((1, 2)).shape, (1, 2))  # through an instance
        self.assertEqual(Matrix.concat([Matrix(1, 1, 1.0), Matrix(1, 1, 2.0)]).tolist(), [[1.0], [2.0]])
        self.assertEqual(list(inspect.signature(Matrix.vector).parameters), ["values", "as_column"])
        self.assertEqual(pickle.loads(pickle.dumps(Matrix.ones))((1, 2)).tolist(), [[1.0, 1.0]])


class TestInWorker(unittest.TestCase):
    def test_components_and_methods_in_a_worker_interpreter(self):
        c = Cown(Matrix(2, 2, [1.0, 2.0, 3.0, 4.0]))

        @when(c)
        def step(c):
            m = c.value
            m.y += 10.0
            first = m[0]
            total = m.sum
            ones = Matrix.ones((1, 2)) + m.vector([1, 2])
            return (m.x, m.y, m.z, m.w, first.x, first.y, total(), m.shape, total.__class__.__name__, ones.tolist())

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(
            step.unwrap(),
            (1.0, 12.0, 3.0, 4.0, 1.0, 12.0, 20.0, (2, 2), "builtin_function_or_method", [[2.0, 3.0]]),
        )


if __name__ == "__main__":
    try:
        unittest.main()
    finally:
        wait()
