"""Pinned cowns: construction, identity, routing to main, handles.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §3.1 (model: value never leaves main, identity
stable), §3.2 (construction rules), §3.3 (routing to the pump queue; captures
do not count), §3.8 (worker-side acquire refused), §3.9 (teardown keeps pinned
values), §3.11 (mixed request sets), §3.12 (handle vs value) and the pinned-cown contract's
"When to Use", "Handle vs. Value", "Mixed Request Sets", "Thread Affinity"
and "Main-thread Direct Reads". Mirrors upstream test_pinned_pump.py
(TestPinnedCownBasics, TestPinnedCownsAutoDrain, TestPinnedRoundTrip).

Bodies run in other interpreters, so they only use module-level names and
default-argument captures; results are read on main with unwrap() after
quiesce().
"""

import functools
import gc
import threading
import unittest

import bocpy
import bocpy._core as _core
from bocpy import Cown, PinnedCown, pump, quiesce, wait, when
from bocpy_test_support import QUIESCE_TIMEOUT, where


class NotPicklable:
    """A value that cannot cross interpreters: it holds a lock and refuses
    every form of pickling, so any accidental serialisation fails loudly."""

    def __init__(self, tag="np"):
        self.lock = threading.Lock()
        self.tag = tag
        self.log = []

    def __reduce_ex__(self, protocol):
        raise TypeError("NotPicklable must never be serialised")


def replace_with(new, old):
    """A picklable notice_update function installing `new`."""
    return new


class PinnedTestCase(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        wait()

    def tearDown(self):
        quiesce(QUIESCE_TIMEOUT)

    def assertOnMain(self, location, what="body"):
        interp, ident = location
        if interp is not None:
            self.assertEqual(interp, 0, f"{what} ran in interpreter {interp}, not main")
        self.assertEqual(ident, threading.get_ident(), f"{what} ran off the main thread")

    def assertRanOnMainWith(self, result, value, what="body"):
        """result = (where(), id(p.value)) returned by a pinned body: it ran on
        main and saw `value` itself, not a copy."""
        location, value_id = result
        self.assertOnMain(location, what)
        self.assertEqual(value_id, id(value))

    def assertOnWorker(self, location, what="body"):
        interp, ident = location
        if interp is not None:
            self.assertNotEqual(interp, 0, f"{what} ran in the main interpreter")
        self.assertNotEqual(ident, threading.get_ident(), f"{what} ran on the main thread")


class TestPinnedBasics(PinnedTestCase):
    def test_is_a_cown_subclass(self):
        self.assertTrue(issubclass(PinnedCown, Cown))
        self.assertIsInstance(PinnedCown(1), Cown)

    def test_identity_of_non_picklable_value_over_64_acquires(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        results = []
        for i in range(64):
            @when(pc)
            def probe(pc, i=i):
                v = pc.value
                with v.lock:  # the original lock: this is the original object
                    v.log.append(i)
                return id(v)
            results.append(probe)
        quiesce(QUIESCE_TIMEOUT)
        ids = [r.unwrap() for r in results]
        self.assertEqual(ids, [id(value)] * 64)
        self.assertEqual(value.log, list(range(64)), "pinned bodies ran out of order")
        self.assertIs(pc.value, value)

    def test_identity_across_separate_pumps(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        seen = []
        for _ in range(5):
            @when(pc)
            def probe(pc):
                return id(pc.value)
            r = pump()
            self.assertEqual(r.executed, 1)
            quiesce(QUIESCE_TIMEOUT)
            seen.append(probe.unwrap())
        self.assertEqual(seen, [id(value)] * 5)

    def test_pinned_bodies_run_on_main(self):
        pc = PinnedCown(NotPicklable())
        via_pump, via_quiesce = [], []
        for _ in range(4):
            @when(pc)
            def body(pc):
                return where(), bocpy._core.is_primary()
            via_pump.append(body)
        self.assertEqual(pump().executed, 4)
        for _ in range(4):
            @when(pc)
            def body2(pc):
                return where(), bocpy._core.is_primary()
            via_quiesce.append(body2)
        quiesce(QUIESCE_TIMEOUT)  # auto-pump on the main thread
        for r in via_pump + via_quiesce:
            location, primary = r.unwrap()
            self.assertOnMain(location)
            self.assertTrue(primary, "is_primary() was False in a pinned body")

    def test_unpinned_bodies_run_on_workers(self):
        c = Cown(0)
        @when(c)
        def body(c):
            return where(), bocpy._core.is_primary()
        quiesce(QUIESCE_TIMEOUT)
        location, primary = body.unwrap()
        self.assertOnWorker(location)
        self.assertFalse(primary)

    def test_main_reads_and_writes_value_outside_behaviors(self):
        value = ["a"]
        pc = PinnedCown(value)
        self.assertIs(pc.value, value)  # owned by main from birth
        pc.value.append("b")
        replacement = ["c"]
        pc.value = replacement
        @when(pc)
        def read(pc):
            pc.value.append("from-body")
            return list(pc.value)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(read.unwrap(), ["c", "from-body"])
        self.assertIs(pc.value, replacement)
        self.assertEqual(value, ["a", "b"])

    def test_body_mutation_visible_on_main_after_pump(self):
        value = {"count": 0}
        pc = PinnedCown(value)
        for _ in range(10):
            @when(pc)
            def inc(pc):
                pc.value["count"] += 1
        self.assertEqual(pump().executed, 10)
        self.assertEqual(value["count"], 10)

    def test_destruct_after_construction(self):
        for _ in range(16):
            pc = PinnedCown(NotPicklable())
            del pc
            gc.collect()
        pc = PinnedCown(NotPicklable())
        @when(pc)
        def touch(pc):
            return pc.value.tag
        quiesce(QUIESCE_TIMEOUT)
        del pc
        gc.collect()
        self.assertEqual(touch.unwrap(), "np")

    def test_unwrap_on_main(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        self.assertIs(pc.unwrap(), value)
        self.assertIsNone(pc.value)

    def test_construct_in_worker_raises(self):
        @when()
        def make():
            return PinnedCown(1)
        quiesce(QUIESCE_TIMEOUT)
        with self.assertRaisesRegex(RuntimeError, "main interpreter"):
            make.unwrap()

    def test_worker_cannot_acquire_pinned_value(self):
        pc = PinnedCown(NotPicklable())
        @when()
        def peek(pc=pc):
            out = []
            try:
                with pc as v:
                    out.append(("acquired", type(v).__name__))
            except RuntimeError as e:
                out.append(("RuntimeError", str(e)))
            try:
                out.append(("read", repr(pc.value)))
            except RuntimeError as e:
                out.append(("RuntimeError", str(e)))
            return out
        quiesce(QUIESCE_TIMEOUT)
        (acquire_kind, acquire_msg), (read_kind, _) = peek.unwrap()
        self.assertEqual(acquire_kind, "RuntimeError", "a worker acquired a pinned value")
        self.assertIn("pinned", acquire_msg)
        self.assertEqual(read_kind, "RuntimeError", "a worker read a pinned value")
        # The refused worker did not disturb the value or its owner.
        @when(pc)
        def still_fine(pc):
            return pc.value.tag
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(still_fine.unwrap(), "np")

    def test_fifo_on_one_pinned_cown(self):
        pc = PinnedCown([])
        for i in range(20):
            @when(pc)
            def append(pc, i=i):
                pc.value.append(i)
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(pc.value, list(range(20)))

    def test_value_survives_wait(self):
        value = ["sentinel"]
        pc = PinnedCown(value)
        @when(pc)
        def touch(pc):
            pc.value.append("post-acquire")
            return id(pc.value)
        wait()  # teardown never disowns pinned values
        self.assertEqual(touch.unwrap(), id(value))
        self.assertIs(pc.value, value)
        self.assertEqual(value, ["sentinel", "post-acquire"])
        # ...and the pinned cown keeps working with the next runtime.
        @when(pc)
        def again(pc):
            pc.value.append("next-run")
            return where()
        quiesce(QUIESCE_TIMEOUT)
        self.assertOnMain(again.unwrap())
        self.assertEqual(value[-1], "next-run")


class TestMixedRequestSets(PinnedTestCase):
    def run_set(self, pattern, grouped):
        cowns = [PinnedCown(NotPicklable(k)) if k == "p" else Cown(k) for k in pattern]
        if grouped:
            @when(cowns)
            def body(cs):
                return where(), bocpy._core.is_primary()
        elif len(cowns) == 2:
            @when(cowns[0], cowns[1])
            def body(a, b):
                return where(), bocpy._core.is_primary()
        else:
            @when(cowns[0], cowns[1], cowns[2])
            def body(a, b, c):
                return where(), bocpy._core.is_primary()
        quiesce(QUIESCE_TIMEOUT)
        return body.unwrap()

    def test_routes_to_main_iff_any_pinned(self):
        for grouped in (False, True):
            for pattern in ("pp", "pu", "up", "uu", "ppu", "uuu"):
                with self.subTest(pattern=pattern, grouped=grouped):
                    location, primary = self.run_set(pattern, grouped)
                    if "p" in pattern:
                        self.assertTrue(primary)
                        self.assertOnMain(location, f"{pattern} body")
                    else:
                        self.assertFalse(primary)
                        self.assertOnWorker(location, f"{pattern} body")

    def test_captures_do_not_route_to_main(self):
        pc = PinnedCown(NotPicklable())
        u = Cown(0)
        @when(u)
        def body(u, pc=pc):
            return where(), isinstance(pc, PinnedCown)
        quiesce(QUIESCE_TIMEOUT)
        location, is_handle = body.unwrap()
        self.assertOnWorker(location, "body with only a pinned capture")
        self.assertTrue(is_handle)

    def test_unpinned_values_travel_into_main_and_back(self):
        pc = PinnedCown([])
        u = Cown(0)
        for _ in range(3):
            @when(u)
            def on_worker(u):
                u.value += 1
            @when(pc, u)
            def on_main(pc, u):
                u.value += 1
                pc.value.append(u.value)
        @when(u)
        def final(u):
            return u.value
        quiesce(QUIESCE_TIMEOUT)
        self.assertEqual(final.unwrap(), 6)
        self.assertEqual(pc.value, [2, 4, 6])

    def test_worker_results_feed_pinned_write_back(self):
        # The seed's coarse-grained pattern: worker results + one pinned write-back.
        canvas = PinnedCown(NotPicklable("canvas"))
        results = []
        for i in range(8):
            c = Cown(i)
            @when(c)
            def compute(c):
                return c.value * c.value, where()
            results.append(compute)
        @when(results, canvas)
        def write_back(results, canvas):
            for r in results:
                canvas.value.log.append(r.value[0])
            return where(), [r.value[1] for r in results]
        quiesce(QUIESCE_TIMEOUT)
        location, worker_locations = write_back.unwrap()
        self.assertOnMain(location, "write-back")
        for loc in worker_locations:
            self.assertOnWorker(loc, "compute")
        self.assertEqual(canvas.value.log, [i * i for i in range(8)])


class TestHandles(PinnedTestCase):
    def test_handle_captured_by_worker(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        u = Cown(0)
        @when(u)
        def w(u, pc=pc):
            @when(pc)
            def on_main(pc):
                pc.value.log.append("main-ran")
                return where(), id(pc.value)
            return isinstance(pc, PinnedCown), where(), on_main
        quiesce(QUIESCE_TIMEOUT)
        is_handle, worker_location, inner = w.unwrap()
        self.assertTrue(is_handle, "the captured handle lost its PinnedCown type")
        self.assertOnWorker(worker_location, "capturing worker")
        self.assertRanOnMainWith(inner.unwrap(), value, "pinned body scheduled by a worker")
        self.assertEqual(value.log, ["main-ran"])

    def test_handle_inside_cown_value(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        holder = Cown({"pc": pc, "tag": "wrap"})
        @when(holder)
        def w(holder):
            d = holder.value
            @when(d["pc"])
            def on_main(p):
                return where(), id(p.value)
            return d["tag"], on_main
        quiesce(QUIESCE_TIMEOUT)
        tag, inner = w.unwrap()
        self.assertEqual(tag, "wrap")
        self.assertRanOnMainWith(inner.unwrap(), value)

    def test_cown_of_pinned_cown(self):
        value = NotPicklable()
        outer = Cown(PinnedCown(value))
        @when(outer)
        def w(outer):
            @when(outer.value)
            def on_main(p):
                return where(), id(p.value)
            return on_main
        quiesce(QUIESCE_TIMEOUT)
        self.assertRanOnMainWith(w.unwrap().unwrap(), value)

    def test_handle_returned_from_behavior(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        @when()
        def give(pc=pc):
            return pc
        quiesce(QUIESCE_TIMEOUT)
        handle = give.unwrap()
        self.assertIsInstance(handle, PinnedCown)
        self.assertIs(handle.value, value)
        @when(handle)
        def on_main(p):
            return where(), id(p.value)
        quiesce(QUIESCE_TIMEOUT)
        self.assertRanOnMainWith(on_main.unwrap(), value)

    def test_handle_returned_then_used_by_downstream_worker(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        @when()
        def give(pc=pc):
            return pc
        @when(give)
        def downstream(r):
            @when(r.value)
            def on_main(p):
                return where(), id(p.value)
            return where(), on_main
        quiesce(QUIESCE_TIMEOUT)
        worker_location, inner = downstream.unwrap()
        self.assertOnWorker(worker_location, "downstream")
        self.assertRanOnMainWith(inner.unwrap(), value)

    def test_two_workers_share_one_handle(self):
        pc = PinnedCown([])
        a, b = Cown("w1"), Cown("w2")
        inners = []
        for c in (a, b):
            @when(c)
            def w(c, pc=pc):
                @when(pc)
                def on_main(p, tag=c.value):
                    p.value.append(tag)
                    return where()
                return on_main
            inners.append(w)
        quiesce(QUIESCE_TIMEOUT)
        for w in inners:
            self.assertOnMain(w.unwrap().unwrap())
        self.assertEqual(sorted(pc.value), ["w1", "w2"])

    @unittest.skipUnless(hasattr(bocpy, "notice_write"), "no noticeboard")
    def test_handle_via_noticeboard_write(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        bocpy.notice_write("pinned_pc", pc)
        quiesce(QUIESCE_TIMEOUT, noticeboard=True)  # the write has landed
        @when()
        def w():
            handle = bocpy.noticeboard()["pinned_pc"]
            @when(handle)
            def on_main(p):
                return where(), id(p.value)
            return on_main
        quiesce(QUIESCE_TIMEOUT)
        self.assertRanOnMainWith(w.unwrap().unwrap(), value)

    @unittest.skipUnless(hasattr(bocpy, "notice_update"), "no noticeboard")
    def test_handle_via_notice_update(self):
        value = NotPicklable()
        pc = PinnedCown(value)
        bocpy.notice_update("pinned_pc2", functools.partial(replace_with, pc))
        quiesce(QUIESCE_TIMEOUT, noticeboard=True)
        @when()
        def w():
            handle = bocpy.notice_read("pinned_pc2")
            if handle is None:
                return None
            @when(handle)
            def on_main(p):
                return where(), id(p.value)
            return on_main
        quiesce(QUIESCE_TIMEOUT)
        inner = w.unwrap()
        self.assertIsNotNone(inner, "the worker did not see the handle")
        self.assertRanOnMainWith(inner.unwrap(), value)


if __name__ == "__main__":
    unittest.main()
