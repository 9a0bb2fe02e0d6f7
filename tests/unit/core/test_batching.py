"""Group-commit draining: one item plus what is queued, bounded, stop sentinel honoured."""

from __future__ import annotations

import queue

from shopwindow.core.batching import drain


def test_takes_what_is_queued_up_to_the_limit():
    q: queue.Queue[int | None] = queue.Queue()
    for i in range(2, 10):
        q.put(i)
    batch, stop = drain(q, 1, 4)
    assert batch == [1, 2, 3, 4] and not stop
    assert q.get_nowait() == 5


def test_stops_at_the_sentinel_and_reports_it():
    q: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    q.put(2)
    q.put(None)
    q.put(3)
    assert drain(q, 1, 100) == ([1, 2], True)


def test_limit_counts_item_sizes():
    q: queue.Queue[list[int] | None] = queue.Queue()
    q.put([0] * 5)
    q.put([0] * 5)
    batch, _ = drain(q, [0] * 3, 8, size=len)
    assert [len(b) for b in batch] == [3, 5]


def test_empty_queue_gives_just_the_first():
    assert drain(queue.Queue(), "a", 10) == (["a"], False)
