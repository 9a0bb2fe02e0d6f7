"""The thread machinery shared by the hand-off's click writer and the postback ingester.

Requests queue items; writer threads commit whatever is waiting in one transaction
(`core.batching.drain`) and answer the requests; what must happen after the commit
(publishing events) goes to a separate publisher thread, so it never delays the next
commit. Subclasses say how a batch is committed and how deferred work is published.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Generic, TypeVar

from shopwindow.core.batching import drain
from shopwindow.db.engine import Database

log = logging.getLogger(__name__)

WRITERS_PG = 3

I = TypeVar("I")  # noqa: E741 - a queued item
P = TypeVar("P")  # one piece of work for the publisher


class GroupCommitter(Generic[I, P]):
    """Writer threads over a queue of items, plus a lazily started publisher thread."""

    name = "group-commit"
    max_batch = 1000
    # The publisher runs at most once per interval and takes everything committed
    # meanwhile: under load each round (job enqueues, the outbox `dispatched_at` update:
    # two write transactions) then serves many batches instead of one. Events reach
    # subscribers up to this much later; the requests were answered already.
    publish_interval = 0.05

    def __init__(self, db: Database) -> None:
        self.db = db
        self._q: queue.SimpleQueue[I | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._published: queue.SimpleQueue[list[P] | None] = queue.SimpleQueue()
        self._publisher: threading.Thread | None = None

    def _commit(self, batch: list[I]) -> None:
        """Commit one batch and answer its items (subclasses)."""
        raise NotImplementedError

    def _publish(self, work: list[P]) -> None:
        """Do the deferred work of one or more committed batches (subclasses)."""
        raise NotImplementedError

    def _put(self, item: I) -> None:
        if not self._threads:
            with self._lock:
                if not self._threads:
                    self._start()
        self._q.put(item)

    def _start(self) -> None:
        # SQLite has one writer; on PostgreSQL a few transactions in flight at once hide
        # the commit latency (WAL flush) behind each other.
        n = 1 if self.db.is_sqlite else WRITERS_PG
        self._threads = [threading.Thread(target=self._run, name=f"{self.name}-{i}",
                                          daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Commit what is queued, then stop the threads."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._q.put(None)
        for t in threads:
            t.join(10)
        if self._publisher is not None:
            self._published.put(None)
            self._publisher.join(10)
            self._publisher = None

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            batch, stop = drain(self._q, item, self.max_batch)
            self._commit(batch)
            if stop:
                return

    def _defer(self, work: list[P]) -> None:
        """Hand work to the publisher thread (started on first use)."""
        if self._publisher is None:
            with self._lock:
                if self._publisher is None:
                    self._publisher = threading.Thread(
                        target=self._publish_loop, name=f"{self.name}-publisher",
                        daemon=True)
                    self._publisher.start()
        self._published.put(work)

    def _publish_loop(self) -> None:
        while True:
            work = self._published.get()
            if work is None:
                return
            started = time.monotonic()
            # Whatever else committed meanwhile is published together.
            more, stop = drain(self._published, work, 10_000, size=len)
            try:
                self._publish([w for chunk in more for w in chunk])
            except Exception:
                log.exception("%s: publishing failed (the outbox sweeper retries)", self.name)
            if stop:
                return
            pause = self.publish_interval - (time.monotonic() - started)
            if pause > 0:
                time.sleep(pause)
