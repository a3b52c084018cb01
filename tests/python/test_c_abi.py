"""bocpy's public C ABI made to mean something: a C extension built against
bocpy.get_include() (tests/python/c_abi_probe/_bocpy_probe.c) registers its
Counter type as cross-interpreter shareable through <bocpy/xidata.h>, with
bocpy.h's owner-field pattern, and Cowns and messages carry it between
interpreters by that registration (runtime/python/values/xidata_slot.h);
its unregistered Plain type still crosses by pickle.

Spec: bocpy 0.13.0 docs/c_abi.rst (get_include/get_sources, the owner-field
contract: getdata moves the owner to BOCPY_NO_OWNER, new_object to the
receiver, payload accessors check it).

The probe lives in $BOCPY_C_ABI_PROBE_DIR (tests/python/CMakeLists.txt); it is
imported at module scope so every worker imports (and registers) it too.
"""

import os
import sys
import unittest

_PROBE_DIR = os.environ.get("BOCPY_C_ABI_PROBE_DIR")
if _PROBE_DIR and _PROBE_DIR not in sys.path:
    sys.path.insert(0, _PROBE_DIR)

try:
    import _bocpy_probe as probe
except ImportError:
    if _PROBE_DIR:  # the ctest named it: a missing probe is a failure, not a skip
        raise
    probe = None

import bocpy
from bocpy import Cown, quiesce, receive, send, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT

NO_OWNER = -2  # BOCPY_NO_OWNER


class Holder:
    """A value the parcel codec pickles as a whole (__slots__), with a Counter inside."""

    __slots__ = ("counter", "label")

    def __init__(self, counter, label):
        self.counter = counter
        self.label = label


def inside(c, fn):
    """fn(value) while main holds the cown (leaving the block releases it,
    which hands a Counter over again)."""
    with c as v:
        return fn(v)


@unittest.skipIf(probe is None, "the C ABI probe extension is not built (BOCPY_C_ABI_PROBE_DIR)")
class CAbiTestCase(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def tearDown(self):
        quiesce(QUIESCE_TIMEOUT)


class TestHeaders(CAbiTestCase):
    def test_probe_was_built_against_get_include(self):
        inc = bocpy.get_include()
        self.assertTrue(os.path.isabs(inc))
        for name in ("bocpy.h", "xidata.h", "bocpy_msvc.c"):
            self.assertTrue(os.path.isfile(os.path.join(inc, "bocpy", name)), name)
        expected = os.environ.get("BOCPY_C_ABI_INCLUDE_DIR")
        if expected and bocpy.__file__.startswith(os.path.dirname(os.path.dirname(expected))):
            self.assertEqual(os.path.realpath(inc), os.path.realpath(expected))
        if sys.platform != "win32":
            self.assertEqual(bocpy.get_sources(), [])
        self.assertEqual(probe.BOCPY_ABI, 1)
        self.assertEqual(probe.BOCPY_NO_OWNER, NO_OWNER)
        self.assertEqual(probe.interpid(), probe.main_interpid())

    def test_registration_is_per_type(self):
        self.assertTrue(probe.registered(probe.Counter()))
        self.assertFalse(probe.registered(probe.Plain(1)))


class TestOwnership(CAbiTestCase):
    def test_cown_moves_the_counter_to_a_worker_and_back(self):
        main = probe.interpid()
        counter = probe.Counter(5)
        self.assertEqual(counter.owner, main)
        address = counter.address
        c = Cown(counter)
        # Handed over: in flight, and main's wrapper may no longer touch it.
        self.assertEqual(counter.owner, NO_OWNER)
        with self.assertRaisesRegex(RuntimeError, "owned by interpreter -2"):
            counter.add()

        @when(c)
        def bump(c):
            me = probe.interpid()
            seen = (c.value.owner, c.value.address, c.value.count)
            c.value.add(10)
            return me, seen, c.value.count

        quiesce(QUIESCE_TIMEOUT)
        worker, (owner_in_worker, address_in_worker, before), after = bump.unwrap()
        self.assertNotEqual(worker, main)
        self.assertEqual(owner_in_worker, worker)
        self.assertEqual(address_in_worker, address)  # the same C resource, not a copy
        self.assertEqual((before, after), (5, 15))
        # Released by the worker: in flight again until main acquires it.
        self.assertEqual(counter.owner, NO_OWNER)
        self.assertEqual(inside(c, lambda v: (v.address, v.owner, v.count)), (address, main, 15))
        self.assertEqual(counter.owner, NO_OWNER)  # released again by the with block

    def test_many_behaviors_mutate_in_turn(self):
        c = Cown(probe.Counter())
        for _ in range(50):
            @when(c)
            def step(c):
                assert c.value.owner == probe.interpid()
                c.value.add(1)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(inside(c, lambda v: v.count), 50)

    def test_counter_created_in_a_worker(self):
        @when()
        def make():
            made = probe.Counter(7)
            made.add(1)
            return made, probe.interpid()

        quiesce(QUIESCE_TIMEOUT)
        made, worker = make.unwrap()
        self.assertNotEqual(worker, probe.interpid())
        self.assertEqual(made.owner, probe.interpid())
        self.assertEqual(made.count, 8)

    def test_shared_reference_decodes_to_one_object(self):
        counter = probe.Counter(1)
        c = Cown([counter, counter, "x"])

        @when(c)
        def check(c):
            a, b, _ = c.value
            a.add(1)
            return a is b, b.count

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(check.unwrap(), (True, 2))

    def test_inside_a_pickled_value(self):
        counter = probe.Counter(3)
        c = Cown(Holder(counter, "h"))
        self.assertEqual(counter.owner, NO_OWNER)

        @when(c)
        def check(c):
            c.value.counter.add(4)
            return c.value.label, c.value.counter.count, c.value.counter.owner == probe.interpid()

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(check.unwrap(), ("h", 7, True))
        self.assertEqual(inside(c, lambda v: v.counter.count), 7)

    def test_failed_handoff_leaves_the_sender_owner(self):
        counter = probe.Counter(1)
        other = probe.Counter(2)
        c = Cown(other)  # other is in flight now: handing it over again fails
        with self.assertRaisesRegex(RuntimeError, "cannot hand over"):
            Cown([counter, other])
        # counter's getdata ran first and was handed back.
        self.assertEqual(counter.owner, probe.interpid())
        self.assertEqual(counter.add(), 2)
        # A value that falls back to pickle before anything is taken.
        with self.assertRaises(Exception):
            Cown([counter, lambda: 0])
        self.assertEqual(counter.owner, probe.interpid())
        self.assertEqual(inside(c, lambda v: v.count), 2)

    def test_message_carries_the_counter(self):
        counter = probe.Counter(40)
        send("c_abi", counter)
        self.assertEqual(counter.owner, NO_OWNER)

        @when()
        def take():
            tag, got = receive("c_abi")
            got.add(2)
            return tag, got.count, got.owner == probe.interpid(), probe.interpid()

        quiesce(QUIESCE_TIMEOUT)
        tag, count, owned, worker = take.unwrap()
        self.assertEqual((tag, count, owned), ("c_abi", 42, True))
        self.assertNotEqual(worker, probe.interpid())


class TestPickleStillUsed(CAbiTestCase):
    def test_unregistered_type_goes_through_pickle(self):
        before = probe.stats()
        c = Cown(probe.Plain(9))
        after_encode = probe.stats()
        self.assertEqual(after_encode["reduce_calls"], before["reduce_calls"] + 1)
        self.assertEqual(after_encode["getdata_calls"], before["getdata_calls"])

        @when(c)
        def check(c):
            return type(c.value).__name__, c.value.value

        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(check.unwrap(), ("Plain", 9))
        self.assertGreaterEqual(probe.stats()["reduce_calls"], before["reduce_calls"] + 2)

    def test_builtins_keep_their_native_encoding(self):
        before = probe.stats()["getdata_calls"]
        c = Cown((1, "two", 3.0, b"four", None, True))
        self.assertEqual(inside(c, lambda v: v), (1, "two", 3.0, b"four", None, True))
        self.assertEqual(probe.stats()["getdata_calls"], before)


class TestLifetimes(CAbiTestCase):
    def test_xidata_freed_in_the_sender(self):
        # Sent and received on main: the XIData is freed at once (main holds
        # its GIL), dropping the sender's wrapper and the XIData's reference.
        start = probe.stats()
        counter = probe.Counter()
        send("c_abi_local", counter)
        _, got = receive("c_abi_local")
        self.assertEqual(got.address, counter.address)
        self.assertEqual(got.owner, probe.interpid())
        stats = probe.stats()
        self.assertEqual(stats["free_calls"], start["free_calls"] + 1)
        del counter, got
        self.assertEqual(probe.stats()["impls_alive"], start["impls_alive"])


if __name__ == "__main__":
    unittest.main()
