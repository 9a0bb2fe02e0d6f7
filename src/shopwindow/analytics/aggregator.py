"""The aggregator: folds committed raw events into `analytics_rollup`, and `rebuild`.

Every event is written with a row in `analytics_pending` in the same transaction. One
fold takes the oldest pending events, adds their increments to the rollups, deletes their
pending rows and commits — all in one transaction, so each event is counted exactly once
even if the process dies mid-batch. On PostgreSQL a transaction-scoped advisory lock lets
one process fold at a time (several web processes may each run an aggregator thread); on
SQLite the write lock (BEGIN IMMEDIATE) does the same.

`Aggregator` runs folds on a thread: woken at once by in-process writers, and polling
every `idle` seconds for events committed by other processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, text

from shopwindow.analytics import actions, live, rules
from shopwindow.analytics.actions import db_time
from shopwindow.analytics.models import Event, Pending, Rollup, State
from shopwindow.db.engine import Database

log = logging.getLogger(__name__)

ROLLUP: Table = Rollup.__table__  # type: ignore[assignment]
EVENT: Table = Event.__table__  # type: ignore[assignment]
PENDING: Table = Pending.__table__  # type: ignore[assignment]
STATE: Table = State.__table__  # type: ignore[assignment]
KEY_COLS = ("grain", "bucket", "entity_type", "entity_id", "metric", "dim", "dim_value",
            "currency")
FOLD_COLS = ("id", "occurred_at", "type", "post_id", "recommendation_id", "product_id",
             "creator_id", "partner_id", "promotion_id", "surface", "is_follower", "vertical",
             "region", "device", "lang", "value", "currency")
# "sw" "an": the advisory lock of the aggregator and rebuild on PostgreSQL.
LOCK_KEY = 0x7377_616E
BATCH = 20_000

_wake = threading.Event()


def wake() -> None:
    """Ask the in-process aggregator to fold now (called after events commit)."""
    _wake.set()


def _lock(conn: Connection, *, wait: bool) -> bool:
    if conn.dialect.name != "postgresql":
        return True  # SQLite: the write transaction already excludes other writers
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                             {"k": LOCK_KEY}).scalar())


_UPSERT = ("INSERT INTO analytics_rollup (grain, bucket, entity_type, entity_id, metric, dim, "
           "dim_value, currency, value) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
           "ON CONFLICT (entity_type, entity_id, grain, bucket, metric, dim, dim_value, "
           "currency) DO UPDATE SET value = analytics_rollup.value + excluded.value")


_UPSERT_PG = (
    "INSERT INTO analytics_rollup (grain, bucket, entity_type, entity_id, metric, dim, "
    "dim_value, currency, value) SELECT grain, bucket, entity_type, entity_id, metric, dim, "
    "dim_value, currency, value FROM analytics_rollup_in ON CONFLICT (entity_type, "
    "entity_id, grain, bucket, metric, dim, dim_value, currency) DO UPDATE SET value = "
    "analytics_rollup.value + excluded.value")


def _upsert(conn: Connection, deltas: dict[rules.RollupKey, int]) -> None:
    if not deltas:
        return
    lite = conn.dialect.name == "sqlite"
    sql = _UPSERT.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
    # Sorted: concurrent upserters take row locks in one order and cannot deadlock.
    # Driver-level executemany with pre-converted buckets: SQLAlchemy's per-row bind
    # processing cost more than the upserts themselves.
    buckets: dict[datetime, Any] = {}  # a batch spans few buckets: format each once
    params = []
    for k, v in sorted(deltas.items()):
        if v:
            b = buckets.get(k[1])
            if b is None:
                b = buckets[k[1]] = db_time(k[1], lite)
            params.append((k[0], b, *k[2:], v))
    if lite:
        for i in range(0, len(params), 5000):
            conn.exec_driver_sql(sql, params[i:i + 5000])
        return
    actions.copy_rows(conn, "analytics_rollup_in", "analytics_rollup", (*KEY_COLS, "value"),
                      params)
    conn.exec_driver_sql(_UPSERT_PG)
    conn.exec_driver_sql("TRUNCATE analytics_rollup_in")


def changed_entities(deltas: dict[rules.RollupKey, int]) -> set[tuple[str, int]]:
    """The (entity_type, entity_id) pairs a set of increments touches."""
    return {(k[2], k[3]) for k in deltas}


def fold_once(db: Database, limit: int = BATCH) -> int | None:
    """Fold up to `limit` pending events in one transaction; their count, or None when
    another process holds the aggregation lock."""
    with actions.write_lock(db), db.engine.begin() as conn:
        if not _lock(conn, wait=False):
            return None
        rows = conn.execute(
            select(*[EVENT.c[c] for c in FOLD_COLS])
            .join(PENDING, PENDING.c.event_id == EVENT.c.id)
            .order_by(PENDING.c.event_id).limit(limit)).mappings().all()
        if not rows:
            return 0
        deltas = rules.fold(rows)  # type: ignore[arg-type]
        _upsert(conn, deltas)
        ids = [r["id"] for r in rows]
        if conn.dialect.name == "sqlite":
            # This transaction has held SQLite's write lock since BEGIN IMMEDIATE: no
            # pending row can have appeared below the last one read.
            conn.execute(delete(PENDING).where(PENDING.c.event_id <= ids[-1]))
        else:
            # PostgreSQL (READ COMMITTED) may have committed smaller ids since the SELECT:
            # delete exactly the rows folded, as one array parameter.
            conn.exec_driver_sql("DELETE FROM analytics_pending WHERE event_id = ANY(%s)",
                                 (ids,))
    live.notify(changed_entities(deltas))
    return len(rows)


def drain(db: Database, limit: int = BATCH, timeout: float = 30.0) -> int:
    """Fold until nothing is pending (tests, CLI); returns how many events were folded."""
    total = 0
    deadline = time.monotonic() + timeout
    while True:
        n = fold_once(db, limit)
        if n is None:
            if time.monotonic() > deadline:
                raise TimeoutError("another process holds the aggregation lock")
            time.sleep(0.05)
            continue
        total += n
        if n == 0:
            return total


class Aggregator:
    """Folds pending events on a daemon thread until stopped.

    Folds start at most every `interval` seconds: a busy feed repeats the same posts,
    surfaces and minutes, so folding half a second of events at once writes far
    fewer rollup rows than folding each small commit (and holds SQLite's write lock less
    often). A full batch is followed at once by the next; an idle aggregator sleeps until
    woken by an in-process writer or for `idle` seconds (events of other processes).
    """

    def __init__(self, db: Database, *, batch: int = BATCH, idle: float = 0.25,
                 interval: float = 0.5) -> None:
        self.db = db
        self.batch = batch
        self.idle = idle
        self.interval = interval
        self.folded = 0
        self.batches = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="analytics-aggregator",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._stop.set()
        _wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            _wake.clear()
            try:
                n = fold_once(self.db, self.batch)
            except Exception:
                # A broken batch must not kill the thread; the events stay pending.
                log.exception("analytics fold failed")
                self._stop.wait(1.0)
                continue
            if n:
                self.folded += n
                self.batches += 1
            if n == self.batch:
                continue  # a backlog: keep folding
            if not n:
                _wake.wait(self.idle)
            rest = self.interval - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)


# ------------------------------------------------------------------ rebuild


@dataclass(slots=True)
class RebuildResult:
    """What `rebuild` recomputed: from which UTC day, how many events, how many keys."""

    since: datetime | None
    events: int
    keys: int
    clamped: bool = False


def _day(at: datetime) -> datetime:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def earliest_rebuildable(conn: Connection) -> datetime | None:
    """First UTC day whose raw events are all still kept (None: nothing was ever pruned)."""
    ms = conn.execute(select(STATE.c.value).where(STATE.c.name == rules.PRUNED_UNTIL)).scalar()
    if not ms:
        return None
    received = datetime.fromtimestamp(int(ms) / 1000, UTC)
    # An event received at t may claim any occurred_at within t ± CLOCK_SKEW.
    return _day(received + rules.CLOCK_SKEW) + timedelta(days=1)


def rebuild(db: Database, since: datetime | None = None, *, chunk: int = 20_000,
            progress: Callable[[int, int], None] | None = None) -> RebuildResult:
    """Recompute every rollup bucket from UTC day `since` (default: the oldest kept event)
    from the raw log, in one transaction. Days whose raw events were partly pruned are
    never touched (`since` is clamped forward and `clamped` is set)."""
    with actions.write_lock(db), db.engine.begin() as conn:
        _lock(conn, wait=True)
        oldest = conn.execute(select(func.min(EVENT.c.occurred_at))).scalar()
        if oldest is None:
            return RebuildResult(None, 0, 0)
        start = _day(since) if since is not None else _day(oldest)
        floor = earliest_rebuildable(conn)
        clamped = floor is not None and start < floor
        if floor is not None and start < floor:
            start = floor
        # No id bound: ids follow the wall clock, received_at the process clock (which
        # the demo seed moves), so only occurred_at can select the days.
        where = (EVENT.c.occurred_at >= start,)
        total = int(conn.execute(select(func.count()).select_from(EVENT).where(*where))
                    .scalar() or 0)
        conn.execute(delete(ROLLUP).where(ROLLUP.c.bucket >= start))
        done = keys = 0
        after = -1
        while True:
            rows = conn.execute(
                select(*[EVENT.c[c] for c in FOLD_COLS]).where(*where, EVENT.c.id > after)
                .order_by(EVENT.c.id).limit(chunk)).mappings().all()
            if not rows:
                break
            deltas = rules.fold(rows)  # type: ignore[arg-type]
            _upsert(conn, deltas)
            keys += len(deltas)
            done += len(rows)
            after = rows[-1]["id"]
            if progress is not None:
                progress(done, total)
        # Pending events of these days are counted now; older pending ones stay queued.
        conn.execute(delete(PENDING).where(PENDING.c.event_id.in_(
            select(EVENT.c.id).where(*where))))
    live.notify({("platform", rules.PLATFORM_ID)})
    return RebuildResult(start, done, keys, clamped)
