"""Group commit for beacon events: one transaction for every request waiting right now.

`submit(rows)` returns a Future resolved with the ids actually stored (duplicates by
dedup key left out) once the transaction holding the rows has committed, so the beacon
acknowledges only durable events. Under low load each request commits alone; under high
load one commit (one fsync) serves many requests.

On PostgreSQL a batch is first written as new rows (`actions.store_fresh_events`, no
ON CONFLICT): the writer remembers the dedup keys it stored lately (`RecentKeys`) and
leaves those rows out itself. A key it does not remember (stored by another process, or
longer ago) spoils that transaction; the batch is then written again the careful way
(`actions.store_events`), and the next batches go the careful way too for a while
(doubling up to FALLBACK_MAX batches while duplicates keep coming), so a stream of
duplicates costs about what it did before the optimistic path.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from shopwindow.analytics import actions, aggregator
from shopwindow.core.batching import drain
from shopwindow.db.engine import Database

log = logging.getLogger(__name__)
_dedup_key = itemgetter("dedup_key")
MAX_ROWS = 8000  # per transaction: keeps a batch's commit well under 100 ms
RECENT_KEYS = 100_000  # dedup keys per generation of RecentKeys (two generations kept)
FALLBACK_MAX = 64  # batches written the careful way after a spoiled one, at most

_Job = tuple[list[dict[str, Any]], Future[set[int]]]


class RecentKeys:
    """The dedup keys this process stored lately: between `size` and 2 × `size` of the
    newest (two generations of sets; ~110 bytes a key, the key strings are the rows').

    Exact, never approximate: a key found here is stored, so its row can be left out
    without asking the database. Kept hand-written: a bounded set with no expiry per key
    is two sets and a swap, where an LRU or TTL cache would cost a node and a clock read
    per key on the hot path."""

    def __init__(self, size: int = RECENT_KEYS) -> None:
        self.size = size
        self._new: set[str] = set()
        self._old: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._new or key in self._old

    def known(self, keys: Iterable[str | None]) -> set[str | None]:
        """Those of `keys` remembered here (set operations, in C)."""
        wanted = set(keys)
        return (wanted & self._new) | (wanted & self._old)

    def add_many(self, keys: list[str]) -> None:
        with self._lock:
            self._new.update(keys)
            if len(self._new) >= self.size:
                self._old, self._new = self._new, set()


class HeldConnection:
    """A PostgreSQL writer thread's own connection, kept from batch to batch: one out of
    the pool costs a round trip per batch (the pool's pre-ping `SELECT 1`), and a batch's
    acknowledgement waits for each of its round trips. Given up after any error other
    than KeyTaken (after which it is as good as new, rolled back); the next batch
    connects again."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        if self.conn is None:
            self.conn = self.engine.connect()
        try:
            with self.conn.begin():
                yield self.conn
        except actions.KeyTaken:
            raise
        except BaseException:
            self.drop(invalidate=True)
            raise

    def drop(self, *, invalidate: bool = False) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            if invalidate:
                conn.invalidate()  # the connection may be broken: never back to the pool
            conn.close()
        except Exception:  # already broken: nothing to give back
            log.debug("closing the writer's connection failed", exc_info=True)


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
        self.recent = RecentKeys()
        self.spoiled = 0  # optimistic transactions that met a stored key
        self._careful_left = 0  # batches to write the careful way before trying again
        self._careful_run = 0  # the length of the last such run

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
        held = HeldConnection(self.db.engine)
        try:
            while True:
                item = self._q.get()
                if item is None:
                    return
                batch, stop = drain(self._q, item, MAX_ROWS, size=lambda job: len(job[0]))
                self._write(batch, held)
                if stop:
                    return
        finally:
            held.drop()

    def _write(self, batch: list[_Job], held: HeldConnection | None = None) -> None:
        rows = [r for rs, _ in batch for r in rs]
        try:
            try:
                stored = self.store(rows, held)
            except (psycopg.OperationalError, sa_exc.OperationalError) as exc:
                if held is None:
                    raise
                # Most likely the held connection died (say, the server restarted); a
                # pooled one would have been pinged first. Once more on a new connection:
                # if the lost transaction did commit, its keys are stored and come back as
                # duplicates, and its queue row is folded from the database.
                log.warning("event writer: %s; writing the batch again on a new connection",
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                stored = self.store(rows, held)
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

    def store(self, rows: list[dict[str, Any]],
              held: HeldConnection | None = None) -> list[actions.StoredBatch]:
        """Store rows now, in a transaction of their own (two after a spoiled optimistic
        one) on `held` (PostgreSQL) or a pooled connection; the batches of the rows stored,
        duplicates left out."""
        if self.db.is_sqlite:
            # Core on a bare connection: this thread competes with the event loop for the
            # GIL, so it does as little Python work per row as possible; the statements
            # are built before the write lock is taken.
            prepared = actions.prepare_sqlite(rows)
            with actions.write_lock(self.db), self.db.engine.begin() as conn:
                return actions.store_events(conn, rows, prepared)
        recent = self.recent
        known = recent.known(map(_dedup_key, rows))
        fresh = [r for r in rows if r["dedup_key"] not in known] if known else rows
        stored: list[actions.StoredBatch] | None = None
        begin = held.begin if held is not None else self.db.engine.begin
        if self._try_fresh():
            try:
                with begin() as conn:
                    stored = actions.store_fresh_events(conn, fresh)
            except actions.KeyTaken:
                self._spoiled()
            else:
                self._careful_run = 0  # duplicates have stopped: back to short runs
        if stored is None:
            with begin() as conn:
                stored = actions.store_events(conn, fresh)
        # Duplicates of stored keys are stored too: every key here is in the table now.
        recent.add_many([k for r in fresh if (k := r["dedup_key"]) is not None])
        return stored

    def _try_fresh(self) -> bool:
        with self._count_lock:
            if self._careful_left > 0:
                self._careful_left -= 1
                return False
            return True

    def _spoiled(self) -> None:
        with self._count_lock:
            self.spoiled += 1
            self._careful_run = min(FALLBACK_MAX, max(1, 2 * self._careful_run))
            self._careful_left = self._careful_run
