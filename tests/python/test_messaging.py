"""Messaging: send / receive / drain / set_tags / TIMEOUT.

Spec: bocpy 0.13.0's API as documented (its docs/ and stubs), §1.12 and §4.2: FIFO per tag, sequences arrive as
tuples, timeouts return (TIMEOUT, None) or after()'s result, tag validation,
16 queues, and messages crossing between workers and main.
"""

import unittest

import bocpy
from bocpy import TIMEOUT, Cown, drain, quiesce, receive, send, set_tags, start, wait, when

TIMEOUT_S = 60


class MessagingTest(unittest.TestCase):
    def setUp(self):
        set_tags([])

    def tearDown(self):
        wait(TIMEOUT_S)
        set_tags([])


class TestBasics(MessagingTest):
    def test_fifo_and_tuple_delivery(self):
        send("fifo", 1)
        send("fifo", [2, 3])
        send("fifo", {"k": "v"})
        self.assertEqual(receive("fifo"), ("fifo", 1))
        self.assertEqual(receive("fifo"), ("fifo", (2, 3)))
        self.assertEqual(receive(["other", "fifo"]), ("fifo", {"k": "v"}))

    def test_timeout_and_after(self):
        self.assertEqual(TIMEOUT, "__timeout__")
        self.assertEqual(receive("empty", 0.01), (TIMEOUT, None))
        self.assertEqual(receive(["empty", "empty2"], 0, after=lambda: "nothing"), "nothing")

    def test_validation(self):
        with self.assertRaises(TypeError):
            send(1, "x")
        with self.assertRaisesRegex(RuntimeError, "at least one value"):
            receive([])
        with self.assertRaises(TypeError):
            receive(["ok", 2], 0)
        with self.assertRaises(IndexError):
            set_tags([f"t{i}" for i in range(17)])

    def test_drain_discards_pending(self):
        for i in range(10):
            send("drained", i)
        drain("drained")
        self.assertEqual(receive("drained", 0.01), (TIMEOUT, None))

    def test_queue_stats_count_traffic(self):
        from bocpy import _core
        set_tags(["qs_a", "qs_b"])
        by_tag = lambda: {q["tag"]: q for q in _core.queue_stats()}  # noqa: E731
        before = by_tag()
        self.assertEqual(set(before), {"qs_a", "qs_b"})
        self.assertEqual([before["qs_a"]["queue_index"], before["qs_b"]["queue_index"]], [0, 1])
        for i in range(3):
            send("qs_a", i)
        self.assertEqual(receive("qs_a"), ("qs_a", 0))
        drain("qs_a")  # discards two: neither a pop nor an un-push
        after = by_tag()
        self.assertEqual(after["qs_a"]["pushed_total"] - before["qs_a"]["pushed_total"], 3)
        self.assertEqual(after["qs_a"]["popped_total"] - before["qs_a"]["popped_total"], 1)
        self.assertEqual(after["qs_b"], before["qs_b"])
        send("qs_new", 1)  # binds a free queue
        self.assertIn("qs_new", by_tag())

    def test_set_tags_binds_and_wipes(self):
        send("keep", 1)
        set_tags(["a", "b"])
        self.assertEqual(receive("keep", 0.01), (TIMEOUT, None))
        send("b", "x")
        self.assertEqual(receive("b"), ("b", "x"))

    def test_tag_capacity(self):
        for i in range(16):
            send(f"cap{i}", i)
        with self.assertRaisesRegex(KeyError, "tag capacity exceeded"):
            send("cap16", 16)


def produce(c, n=0):
    for i in range(n):
        send("results", (c.value, i))
    return n


class TestAcrossInterpreters(MessagingTest):
    def test_workers_send_main_receives(self):
        start(worker_count=2)
        for w in range(2):
            @when(Cown(w))
            def _(c, n=50):
                return produce(c, n)
        got = sorted(receive("results", 30)[1] for _ in range(100))
        self.assertEqual(got, sorted((w, i) for w in range(2) for i in range(50)))
        quiesce(TIMEOUT_S)

    def test_main_sends_worker_receives_a_cown(self):
        start(worker_count=1)
        box = Cown(5)
        send("to-worker", box)

        @when(Cown(0))
        def r(c):
            tag, handle = receive("to-worker", 30)

            @when(handle)
            def bump(h):
                h.value += 1
                return h.value
            return bump
        quiesce(TIMEOUT_S)
        self.assertEqual(r.unwrap().unwrap(), 6)


if __name__ == "__main__":
    unittest.main()
