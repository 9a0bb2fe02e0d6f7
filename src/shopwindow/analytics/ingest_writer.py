"""Group commit for beacon events: one transaction for every request waiting right now.

`submit(rows)` returns a Future resolved with the ids actually stored (duplicates by
dedup key left out) once the transaction holding the rows has committed, so the beacon
acknowledges only durable events. Under low load each request commits alone; under high
load one commit (one fsync) serves many requests.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from shopwindow.analytics import actions, aggregator
from shopwindow.core.batching import drain
from shopwindow.db.engine import Database

log = logging.getLogger(__name__)
MAX_ROWS = 8000  # per transaction: keeps a batch's commit well under 100 ms

_Job = tuple[list[dict[str, Any]], Future[set[int]]]


class EventWriter:
    """Writer threads of one process and database: one on SQLite (one write lock), three
    on PostgreSQL, where a batch's transaction mostly waits on the server (the COPY, the
    inserts, the commit's WAL flush) and the next batches can be written meanwhile
    (benchmarks/events.py, 8 connections: 43.5k events/s with two, 46.5k with three)."""

    def __init__(self, db: Database, threads: int | None = None) -> None:
        self.db = db.analytics  # where the analytics tables live
        self.threads = threads or (1 if db.is_sqlite else 3)
        self._q: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.batches = 0
        self.rows = 0

    def submit(self, rows: list[dict[str, Any]]) -> Future[set[int]]:
        """Queue rows for the next batch; the Future holds the ids stored."""
        fut: Future[set[int]] = Future()
        if not self._workers:
            with self._lock:
                if not self._workers:
                    self._workers = [
                        threading.Thread(target=self._run, name=f"event-writer-{n}",
                                         daemon=True) for n in range(self.threads)]
                    for t in self._workers:
                        t.start()
        self._q.put((rows, fut))
        return fut

    def stop(self) -> None:
        """Write what is queued, then stop the threads."""
        with self._lock:
            workers, self._workers = self._workers, []
        for _ in workers:
            self._q.put(None)  # one stop sentinel per thread
        for t in workers:
            t.join(10)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            batch, stop = drain(self._q, item, MAX_ROWS, size=lambda job: len(job[0]))
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Job]) -> None:
        rows = [r for rs, _ in batch for r in rs]
        try:
            # Core on a bare connection: this thread competes with the event loop for the
            # GIL, so it does as little Python work per row as possible; on SQLite the
            # statements are built before the write lock is taken.
            prepared = actions.prepare_sqlite(rows) if self.db.is_sqlite else None
            with actions.write_lock(self.db), self.db.engine.begin() as conn:
                stored = actions.store_events(conn, rows, prepared)
        except Exception as exc:
            log.exception("event batch of %d rows failed", len(rows))
            for _, fut in batch:
                fut.set_exception(exc)
            return
        with self._count_lock:
            self.batches += 1
            self.rows += len(rows)
        ids = {r["id"] for b in stored for r in b.rows}
        for _, fut in batch:
            fut.set_result(ids)
        # The in-process aggregator folds these rows from memory (no read back).
        aggregator.handoff(self.db, stored)
