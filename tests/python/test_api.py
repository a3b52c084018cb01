"""The public surface of `import bocpy`.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.0 (the exact `__all__`), §1.6 (WORKER_COUNT),
§1.9 (WaitResult), §1.10 (PumpResult and the pinned API), §1.12 (TIMEOUT),
§1.15 (__version__), §1.2 / §1.1 (what a behavior body receives vs what main
holds).
"""

import threading
import unittest

import bocpy
from bocpy import Cown, PinnedCown, quiesce, wait, when

SPEC_ALL = {
    "Behaviors", "Cown", "Matrix", "PinnedCown", "PumpResult", "REMOVED", "TIMEOUT",
    "WORKER_COUNT", "__version__", "drain", "get_include", "get_sources", "notice_delete",
    "notice_read", "notice_seed", "notice_update", "notice_write", "noticeboard", "pump",
    "quiesce", "receive", "send", "set_pump_watchdog", "set_tags", "set_wait_pump_poll",
    "start", "wait", "WaitResult", "when", "whencall",
}

C_ABI_ONLY = {"get_include", "get_sources"}


class TestSurface(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def test_all_matches_spec(self):
        # get_include()/get_sources() serve bocpy's C extension ABI, which this
        # runtime does not offer; everything else must be there, nothing more.
        exported = set(bocpy.__all__)
        self.assertLessEqual(SPEC_ALL - C_ABI_ONLY, exported)
        self.assertLessEqual(exported, SPEC_ALL)
        for name in bocpy.__all__:
            self.assertTrue(hasattr(bocpy, name), name)

    def test_constants(self):
        self.assertIsInstance(bocpy.__version__, str)
        self.assertIsInstance(bocpy.WORKER_COUNT, int)
        self.assertGreaterEqual(bocpy.WORKER_COUNT, 1)
        self.assertEqual(bocpy.TIMEOUT, "__timeout__")

    def test_named_tuples(self):
        self.assertEqual(bocpy.PumpResult._fields, ("executed", "deadline_reached", "raised"))
        self.assertEqual(bocpy.WaitResult._fields, ("stats", "noticeboard"))

    def test_pinned_cown_type(self):
        self.assertTrue(issubclass(PinnedCown, Cown))
        pc = PinnedCown(threading.Lock())  # any value: it is never serialised
        self.assertIsInstance(pc, Cown)

    def test_body_parameters_are_capsules(self):
        # Spec §1.2: parameters are capsules (not Cown instances); groups are
        # lists of them; both support .value.
        a, b = Cown(1), Cown(2)
        @when(a, [b])
        def shapes(a, group):
            return (isinstance(a, Cown), type(group).__name__,
                    hasattr(a, "value"), a.value + group[0].value)
        quiesce(60)
        is_cown, group_type, has_value, total = shapes.unwrap()
        self.assertEqual((group_type, has_value, total), ("list", True, 3))
        self.assertFalse(is_cown, "spec §1.2: body parameters are CownCapsules, not Cowns")


if __name__ == "__main__":
    unittest.main()
