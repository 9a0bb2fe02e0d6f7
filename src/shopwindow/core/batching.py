"""Group commit: take one queued item plus whatever else is waiting, up to a limit.

The hand-off, postback and event writers all batch this way: whatever arrived while the
previous batch was being committed goes into the next transaction together.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def drain(q: queue.Queue[T | None] | queue.SimpleQueue[T | None], first: T, limit: int,
          size: Callable[[T], int] = lambda _item: 1) -> tuple[list[T], bool]:
    """`first` plus the items queued right now while their total size is below `limit`.

    Returns the batch and whether the stop sentinel (None) was taken from the queue.
    """
    batch, total = [first], size(first)
    while total < limit:
        try:
            nxt = q.get_nowait()
        except queue.Empty:
            break
        if nxt is None:
            return batch, True
        batch.append(nxt)
        total += size(nxt)
    return batch, False
