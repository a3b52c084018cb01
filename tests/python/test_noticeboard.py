"""Noticeboard: limits, errors, snapshot consistency, the single mutator,
handles kept alive by entries, notice_seed, REMOVED and the wait/quiesce
snapshot.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.11 and §4.1 (mirrors upstream test_noticeboard.py
where it applies). Bodies use only module-level helpers and default-argument
captures; results are read on main after quiesce()/wait().
"""

import functools
import operator
import pickle
import unittest

import bocpy
from bocpy import (REMOVED, Cown, PinnedCown, notice_delete, notice_read, notice_seed, notice_update,
                   notice_write, noticeboard, quiesce, start, wait, when)

TIMEOUT = 60


def increment(v):
    return v + 1


def remove(_):
    return REMOVED


def replace_with(new, _old):
    return new


def raise_value_error(_):
    raise ValueError("update failed on purpose")


class NoticeboardTest(unittest.TestCase):
    def setUp(self):
        start(worker_count=2)

    def tearDown(self):
        wait(TIMEOUT)


class TestKeysAndErrors(NoticeboardTest):
    def test_key_must_be_str(self):
        with self.assertRaises(TypeError):
            notice_write(1, "x")
        with self.assertRaises(TypeError):
            notice_read(b"k")

    def test_key_limits(self):
        notice_write("k" * 63, 1)  # 63 UTF-8 bytes is the maximum
        with self.assertRaises(ValueError):
            notice_write("k" * 64, 1)
        with self.assertRaises(ValueError):
            notice_write("é" * 32, 1)  # 64 bytes in UTF-8
        with self.assertRaises(ValueError):
            notice_write("a\0b", 1)

    def test_update_fn_must_be_callable(self):
        with self.assertRaisesRegex(TypeError, "notice_update fn must be callable"):
            notice_update("k", 3)

    def test_unpicklable_value_raises_at_the_call(self):
        with self.assertRaises(Exception):
            notice_write("k", lambda: 1)

    def test_before_start_raises(self):
        wait(TIMEOUT)
        with self.assertRaisesRegex(RuntimeError, "before the runtime is started"):
            notice_write("k", 1)
        with self.assertRaisesRegex(RuntimeError, "before the runtime is started"):
            notice_update("k", increment, 0)
        with self.assertRaisesRegex(RuntimeError, "before the runtime is started"):
            notice_delete("k")
        start(worker_count=2)


class TestMutations(NoticeboardTest):
    def test_concurrent_updates_never_lose_one(self):
        notice_seed("count", 0)
        c = [Cown(i) for i in range(8)]
        for cown in c:
            @when(cown)
            def _(cown):
                notice_update("count", increment, 0)
        board = quiesce(TIMEOUT, noticeboard=True)
        self.assertEqual(board["count"], 8)

    def test_update_default_when_absent_and_none_is_a_value(self):
        notice_update("absent", increment, 41)
        notice_seed("none", None)
        notice_update("none", functools.partial(replace_with, "replaced"), "default")
        board = quiesce(TIMEOUT, noticeboard=True)
        self.assertEqual(board["absent"], 42)
        self.assertEqual(board["none"], "replaced")

    def test_removed_deletes_and_pickles_to_itself(self):
        notice_seed("gone", 1)
        notice_update("gone", remove)
        board = quiesce(TIMEOUT, noticeboard=True)
        self.assertNotIn("gone", board)
        self.assertIs(pickle.loads(pickle.dumps(REMOVED)), REMOVED)
        self.assertEqual(repr(REMOVED), "REMOVED")
        self.assertIsNot(REMOVED, None)

    def test_failing_update_keeps_old_value_and_logs(self):
        notice_seed("stable", 5)
        with self.assertLogs("behaviors", level="WARNING") as logs:
            notice_update("stable", raise_value_error)
            board = quiesce(TIMEOUT, noticeboard=True)
        self.assertEqual(board["stable"], 5)
        self.assertIn("notice_update('stable') failed", logs.output[0])

    def test_delete_and_capacity(self):
        for i in range(64):
            notice_write(f"k{i}", i)
        with self.assertLogs("behaviors", level="WARNING") as logs:
            notice_write("one-too-many", 1)
            board = quiesce(TIMEOUT, noticeboard=True)
        self.assertEqual(len(board), 64)
        self.assertNotIn("one-too-many", board)
        self.assertIn("Noticeboard is full (max 64)", logs.output[0])
        notice_delete("k0")
        notice_delete("not-there")  # a no-op
        notice_write("one-too-many", 1)
        board = quiesce(TIMEOUT, noticeboard=True)
        self.assertIn("one-too-many", board)
        self.assertNotIn("k0", board)
        self.assertEqual(list(board)[-1], "one-too-many")  # insertion order kept

    def test_seed_is_synchronous(self):
        notice_seed("config", {"speed": 3})
        self.assertEqual(notice_read("config"), {"speed": 3})

        @when(Cown(0))
        def r(c):
            return notice_read("config")
        quiesce(TIMEOUT)
        self.assertEqual(r.unwrap(), {"speed": 3})


class TestSnapshots(NoticeboardTest):
    def test_behavior_sees_one_frozen_view_including_its_own_writes(self):
        notice_seed("v", "old")

        @when(Cown(0))
        def r(c):
            first = notice_read("v")
            notice_write("v", "new")
            notice_write("other", 1)
            return first, notice_read("v"), notice_read("other", "absent"), dict(noticeboard())
        board = quiesce(TIMEOUT, noticeboard=True)
        first, second, other, view = r.unwrap()
        self.assertEqual((first, second, other), ("old", "old", "absent"))
        self.assertEqual(view, {"v": "old"})
        self.assertEqual(board["v"], "new")

    def test_view_is_read_only(self):
        notice_seed("x", 1)
        view = noticeboard()
        with self.assertRaises(TypeError):
            view["x"] = 2
        with self.assertRaises(TypeError):
            del view["x"]

    def test_wait_returns_plain_dict_and_restart_is_empty(self):
        notice_seed("a", 1)
        board = wait(TIMEOUT, noticeboard=True)
        self.assertEqual(board, {"a": 1})
        board["b"] = 2  # a plain mutable dict
        start(worker_count=2)
        self.assertEqual(quiesce(TIMEOUT, noticeboard=True), {})

    def test_wait_result_shape_with_both_flags(self):
        notice_seed("a", 1)
        result = wait(TIMEOUT, stats=True, noticeboard=True)
        self.assertIsInstance(result, bocpy.WaitResult)
        self.assertEqual(result.noticeboard, {"a": 1})
        self.assertIsInstance(result.stats, list)
        start(worker_count=2)


class TestHandlesInEntries(NoticeboardTest):
    def test_entry_keeps_cown_alive_and_worker_schedules_on_it(self):
        box = Cown(10)
        notice_seed("box", box)
        del box  # only the entry holds the cown now

        @when(Cown(0))
        def r(c):
            handle = notice_read("box")

            @when(handle)
            def inner(h):
                h.value += 1
                return h.value
            return inner
        quiesce(TIMEOUT)
        self.assertEqual(r.unwrap().unwrap(), 11)

    def test_pinned_handle_on_the_board_routes_to_main(self):
        pc = PinnedCown([])
        notice_write("pc", pc)
        quiesce(TIMEOUT, noticeboard=True)

        @when(Cown(0))
        def r(c):
            handle = notice_read("pc")

            @when(handle)
            def on_main(h):
                import bocpy._core as core
                h.value.append(core.is_primary())
            return bocpy._core.cown_is_pinned(handle)
        quiesce(TIMEOUT)
        self.assertTrue(r.unwrap())
        self.assertEqual(pc.value, [True])

    def test_list_of_handles_via_update(self):
        a, b = Cown(1), Cown(2)
        notice_update("pair", functools.partial(replace_with, [a, b]))
        board = quiesce(TIMEOUT, noticeboard=True)
        self.assertEqual(len(board["pair"]), 2)
        self.assertTrue(all(isinstance(h, Cown) for h in board["pair"]))


if __name__ == "__main__":
    unittest.main()
