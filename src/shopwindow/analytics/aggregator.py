"""The aggregator: folds committed raw events into `analytics_rollup`, and `rebuild`.

Every stored batch of events is written with a row in `analytics_pending_batch` (its event
ids) in the same transaction. One fold takes the oldest pending batches, adds their
events' increments to the rollups, deletes the batches' pending rows and commits — all in
one transaction, so each event is counted exactly once even if the process dies mid-fold.
On PostgreSQL a transaction-scoped advisory lock lets one process fold at a time (several
web processes may each run an aggregator thread); on SQLite the write lock (BEGIN
IMMEDIATE) does the same.

`Aggregator` runs folds on a thread. The beacon's writer hands it the batches it has just
committed (`handoff`), so the usual fold reads nothing back: it deletes those batches'
pending rows and counts only the batches whose row it removed, so a fold of the same
events from the database (another process, `drain`, `rebuild`) can never double count
them. Events of other processes, domain events and anything left after a restart are
folded from the database (the pending rows' ids joined to `analytics_event`), when nothing
is waiting in memory and, under load, for batches written more than `STALE_SECONDS` ago.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text, update
from sqlalchemy import exc as sa_exc

from shopwindow.analytics import actions, live, rules
from shopwindow.analytics.actions import StoredBatch, db_time, pending_ids_sql
from shopwindow.analytics.models import Event, PendingBatch, Rollup, State
from shopwindow.analytics.queries import utc_day
from shopwindow.analytics.report_rules import floor_utc
from shopwindow.core.clock import utcnow
from shopwindow.core.ids import id_floor_for_ms
from shopwindow.db.bulk import sqlite_json_rows
from shopwindow.db.engine import Database

log = logging.getLogger(__name__)

ROLLUP: Table = Rollup.__table__  # type: ignore[assignment]
EVENT: Table = Event.__table__  # type: ignore[assignment]
PENDING: Table = PendingBatch.__table__  # type: ignore[assignment]
STATE: Table = State.__table__  # type: ignore[assignment]
KEY_COLS = ("grain", "bucket", "entity_type", "entity_id", "metric", "dim", "dim_value",
            "currency")
FOLD_COLS = ("id", "occurred_at", "type", "post_id", "recommendation_id", "product_id",
             "creator_id", "partner_id", "promotion_id", "surface", "is_follower", "vertical",
             "region", "device", "lang", "value", "currency")
_ROLLUP_TYPES = actions.copy_types(ROLLUP, (*KEY_COLS, "value"))
# "sw" "an": the advisory lock of the aggregator and rebuild on PostgreSQL.
LOCK_KEY = 0x7377_616E
# Events per fold read back from the database (on SQLite it holds the write lock while
# it works, and the hand-off's click writer waits behind it); whole pending batches are
# taken, at least one.
BATCH = 20_000
# Events per fold of this process's rows waiting in memory. A fold's rollup keys barely
# grow with its size (the benchmark's 200 posts give ~16,000 keys a fold, whether 20,000
# or 25,000 events), so at the peak rate one fold per interval beats a full 20,000-event
# batch followed at once by the next: 0.89 → 0.64 rollup upserts per event, 49k → 51–54k
# events/s on PostgreSQL.
MEMORY_BATCH = 40_000
# Rows waiting in memory beyond this are dropped from memory (they stay pending in the
# database and are folded from there): a stalled aggregator must not grow without bound
# (a row dict is about 1 KB; 60 000 are two seconds of the benchmark's peak rate).
MEMORY_CAP = 60_000
# Under load the database fold looks only at pending batches written this long ago:
# younger ones are normally in this process's memory queue and folded from there.
STALE_SECONDS = 1.0

# Day counters (see `compact`): an hour is added to its day once it ended this long ago
# (beyond rules.CLOCK_SKEW, so a client's late events rarely land in a compacted hour; if
# they do, folds write their day counters directly), checked every COMPACT_EVERY seconds.
COMPACT_LAG = timedelta(minutes=10)
COMPACT_EVERY = 60.0
# How long a fold of this process's rows waits for another process's fold (seconds).
LOCK_WAIT = 2.0

_wake = threading.Event()
# Per database URL: the last `day_from` a fold of this process read (a fold computes its
# increments with it before taking the lock, and recomputes if it has moved).
_day_from_seen: dict[Engine, datetime] = {}
_receivers: dict[str, Aggregator] = {}
_receivers_lock = threading.Lock()


def wake() -> None:
    """Ask the in-process aggregator to fold now (called after events commit)."""
    _wake.set()


def handoff(db: Database, batches: list[StoredBatch]) -> None:
    """Give the in-process aggregator of `db` event batches that have just committed
    (with their pending rows), so it can fold them without reading them back; then wake
    it. Without a running aggregator they are simply left to a fold from the database.
    """
    _offer(_receivers.get(db.analytics.url), batches)


def handoff_bound(bind: object, batches: list[StoredBatch]) -> None:
    """`handoff` for a caller that has a session's bind (its engine), not the Database:
    the batches go to the aggregator of the database with that engine, if one runs here."""
    _offer(next((a for a in list(_receivers.values()) if a.db.engine is bind), None),
           batches)


def _offer(agg: Aggregator | None, batches: list[StoredBatch]) -> None:
    if agg is not None and batches:
        agg.offer(batches)
    _wake.set()


def _lock(conn: Connection, *, wait: bool, at_most: float | None = None) -> bool:
    """Take the aggregation lock (PostgreSQL) for this transaction: wait for it, wait
    `at_most` seconds, or only if it is free. False: not taken."""
    if conn.dialect.name != "postgresql":
        return True  # SQLite: the write transaction already excludes other writers
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        return True
    if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar():
        if at_most is None:
            return False
        # Another process's fold holds it for a fraction of a second: queue behind it
        # instead of coming back a whole interval later (with several web processes
        # that retry was most of the freshness p99). A rebuild holds it for minutes:
        # give up then, the rows stay pending.
        conn.exec_driver_sql("SAVEPOINT lock_wait")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(at_most * 1000)}ms'")
        try:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        except sa_exc.OperationalError:
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT lock_wait")
            return False
        conn.exec_driver_sql("RELEASE SAVEPOINT lock_wait")
        conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
    # A fold need not wait for its WAL flush: if a crash loses the commit, it loses the
    # rollup increments and the pending deletions together, and the events are folded
    # again (exactly once still holds; only acknowledged *events* must be durable).
    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    return True


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


# Rows per SQLite statement: 9 parameters each, SQLite's limit is 32,766; one statement
# covers a usual fold (a few thousand keys), see _sqlite_upserts.
UPSERT_ROWS = 3_600
_UPSERT_HEAD, _UPSERT_TAIL = _UPSERT.split(" VALUES ")[0], _UPSERT.split(") ON CONFLICT ")[1]


@lru_cache(maxsize=64)
def _upsert_values_sql(n: int) -> str:
    """The SQLite upsert of n rows in one statement (qmark parameters)."""
    return (f"{_UPSERT_HEAD} VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?, ?)'] * n)} "
            f"ON CONFLICT {_UPSERT_TAIL}")


def _sqlite_upserts(deltas: dict[rules.RollupKey, int]) -> list[tuple[str, tuple[Any, ...]]]:
    """The SQLite upsert statements of increments, built before the write lock is taken:
    multi-row VALUES statements, not executemany — the driver releases and re-takes the
    GIL around every row's step, and with the event loop busy each re-take waits its
    turn, so a fold of a few thousand keys held SQLite's write lock for tens of
    milliseconds (the hand-off's click writer waited behind it: /go p99)."""
    buckets: dict[datetime, Any] = {}  # a batch spans few buckets: format each once
    params = []
    for k, v in deltas.items():
        if v:
            b = buckets.get(k[1])
            if b is None:
                b = buckets[k[1]] = db_time(k[1], True)
            params.append((k[0], b, *k[2:], v))
    return [(_upsert_values_sql(len(chunk)), tuple(v for row in chunk for v in row))
            for i in range(0, len(params), UPSERT_ROWS)
            if (chunk := params[i:i + UPSERT_ROWS])]


def _upsert(conn: Connection, deltas: dict[rules.RollupKey, int],
            prepared: list[tuple[str, tuple[Any, ...]]] | None = None) -> None:
    """Add increments to the rollups (`prepared`: `_sqlite_upserts(deltas)`, SQLite)."""
    if not deltas:
        return
    lite = conn.dialect.name == "sqlite"
    # Unsorted: every rollup writer (folds, rebuild) holds the aggregation lock (PostgreSQL)
    # or SQLite's one write lock, so no two upserters can take row locks in different
    # orders.
    if lite:
        for sql, params in (prepared if prepared is not None else _sqlite_upserts(deltas)):
            conn.exec_driver_sql(sql, params)
        return
    # PostgreSQL: binary COPY into a temp table, then one INSERT … SELECT … ON CONFLICT.
    actions.copy_rows(conn, "analytics_rollup_in", "analytics_rollup", (*KEY_COLS, "value"),
                      [(*k, v) for k, v in deltas.items() if v], _ROLLUP_TYPES)
    conn.exec_driver_sql(_UPSERT_PG)
    conn.exec_driver_sql("DELETE FROM analytics_rollup_in")  # not TRUNCATE: see actions


def changed_entities(deltas: dict[rules.RollupKey, int]) -> set[tuple[str, int]]:
    """The (entity_type, entity_id) pairs a set of increments touches."""
    return {(k[2], k[3]) for k in deltas}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _day_from(conn: Connection) -> datetime:
    """`rules.DAY_FROM`, read under the aggregation lock, set on first use: on a database
    with hour counters, the hour after the newest one (their day counters were all written
    by folds so far), else the current hour."""
    ms = conn.execute(select(STATE.c.value).where(STATE.c.name == rules.DAY_FROM)).scalar()
    if ms is not None:
        at = datetime.fromtimestamp(int(ms) / 1000, UTC)
    else:
        newest = conn.execute(select(func.max(ROLLUP.c.bucket))
                              .where(ROLLUP.c.grain == "h")).scalar()
        at = (floor_utc(newest, "hour") + timedelta(hours=1) if newest is not None
              else floor_utc(utcnow(), "hour"))
        conn.execute(insert(STATE).values(name=rules.DAY_FROM, value=_ms(at)))
    _day_from_seen[conn.engine] = at
    return at


def compact(db: Database, now: datetime | None = None) -> int | None:
    """Add the hour counters of hours that ended more than COMPACT_LAG ago to their day
    counters and move `rules.DAY_FROM` past them, in one transaction under the aggregation
    lock. Folds skip the day counters of the hours not compacted yet (one upsert in two per
    fold: performance.md); `queries.rollups` adds those hours for readers of day rows.
    How many day counters it added to, or None when another process holds the lock."""
    db = db.analytics
    target = floor_utc((now or utcnow()) - COMPACT_LAG, "hour")
    with actions.write_lock(db), db.engine.begin() as conn:
        if not _lock(conn, wait=False):
            return None
        start = _day_from(conn)
        if target <= start:
            return 0
        lite = conn.dialect.name == "sqlite"
        p = "?" if lite else "%s"
        day = utc_day(conn.dialect.name, ROLLUP.c.bucket).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        keys = "entity_type, entity_id, metric, dim, dim_value, currency"
        res = conn.exec_driver_sql(
            f"INSERT INTO analytics_rollup (grain, bucket, {keys}, value) "
            f"SELECT 'd', {day}, {keys}, SUM(value) FROM analytics_rollup "
            f"WHERE grain = 'h' AND bucket >= {p} AND bucket < {p} "
            f"GROUP BY {day}, {keys} "
            "ON CONFLICT (entity_type, entity_id, grain, bucket, metric, dim, dim_value, "
            "currency) DO UPDATE SET value = analytics_rollup.value + excluded.value",
            (actions.db_time(start, lite), actions.db_time(target, lite)))
        conn.execute(update(STATE).where(STATE.c.name == rules.DAY_FROM)
                     .values(value=_ms(target)))
    _day_from_seen[db.engine] = target
    return int(res.rowcount or 0)


def fold_once(db: Database, limit: int = BATCH, *, before_id: int | None = None) -> int | None:
    """Fold the oldest pending batches read from the database (up to `limit` events, at
    least one batch), in one transaction; how many events, or None when another process
    holds the aggregation lock. `before_id`: only batches with smaller ids (written
    earlier)."""
    n, _ = _fold_from_db(db.analytics, limit, before_id)
    return n


def _any_pending(db: Database, before_id: int | None) -> bool:
    """Whether a pending batch (written before `before_id`) exists, read without the
    write lock: under load the database fold almost never finds one, and taking SQLite's
    write lock to learn that made the hand-off's click writer wait."""
    q = select(PENDING.c.id).limit(1)
    if before_id is not None:
        q = q.where(PENDING.c.id < before_id)
    with db.read_engine.connect() as conn:
        return conn.execute(q).first() is not None


def _oldest_batches(conn: Connection, limit: int, before_id: int | None) -> list[int]:
    """Ids of the oldest pending batches holding at most `limit` events (at least one)."""
    q = select(PENDING.c.id, PENDING.c.size).order_by(PENDING.c.id).limit(max(1, limit))
    if before_id is not None:
        q = q.where(PENDING.c.id < before_id)
    chosen: list[int] = []
    n = 0
    for bid, size in conn.execute(q):
        if chosen and n + size > limit:
            break
        chosen.append(bid)
        n += size
    return chosen


def _fold_from_db(db: Database, limit: int, before_id: int | None
                  ) -> tuple[int | None, list[int]]:
    """(events counted or None when locked out, the pending batch ids folded)."""
    if not _any_pending(db, before_id):
        return 0, []
    with actions.write_lock(db), db.engine.begin() as conn:
        if not _lock(conn, wait=False):
            return None, []
        batches = _oldest_batches(conn, limit, before_id)
        if not batches:
            return 0, []
        rows = _pending_events(conn, f"p.id IN ({', '.join(map(str, batches))})")
        deltas = rules.fold(rows, _day_from(conn))
        _upsert(conn, deltas)
        conn.execute(delete(PENDING).where(PENDING.c.id.in_(batches)))
    live.notify(changed_entities(deltas))
    return len(rows), batches


def _pending_events(conn: Connection, where: str) -> Sequence[Mapping[str, Any]]:
    """FOLD_COLS of the events of the pending batches `p` matching `where` (SQL over
    `p.id`)."""
    cols = ", ".join(f"analytics_event.{c}" for c in FOLD_COLS)
    if conn.dialect.name != "sqlite":
        return conn.exec_driver_sql(
            f"SELECT {cols} FROM analytics_event WHERE id IN (SELECT unnest(p.event_ids) "
            f"FROM analytics_pending_batch AS p WHERE {where})"
        ).mappings().all()  # type: ignore[return-value]
    # SQLite: read as one JSON row (db.bulk.sqlite_json_rows), times parsed back.
    found = sqlite_json_rows(
        conn, "FROM analytics_event WHERE id IN (SELECT j.value FROM analytics_pending_batch "
        f"AS p, json_each(p.event_ids) AS j WHERE {where})", (), FOLD_COLS)
    times: dict[str, datetime] = {}
    at = FOLD_COLS.index("occurred_at")
    for r in found:
        t = times.get(r[at])
        if t is None:
            t = times[r[at]] = datetime.fromisoformat(r[at]).replace(tzinfo=UTC)
        r[at] = t
    return [dict(zip(FOLD_COLS, r, strict=True)) for r in found]


def _delete_batches(conn: Connection, ids: list[int]) -> set[int]:
    """Delete the pending rows of batches `ids`; the ids whose row this transaction
    deleted (the others were folded by someone else already). A fold takes few batches
    (a batch holds up to actions.PENDING_MAX events), so the ids are inlined."""
    listed = ", ".join(map(str, ids))
    if conn.dialect.name == "sqlite":
        # This transaction holds SQLite's write lock: the ids found are the ids deleted.
        gone = {r[0] for r in conn.exec_driver_sql(
            f"SELECT id FROM analytics_pending_batch WHERE id IN ({listed})")}
        if gone:
            conn.exec_driver_sql(f"DELETE FROM analytics_pending_batch WHERE id IN ({listed})")
        return gone
    # PostgreSQL (READ COMMITTED): exactly these rows; a row deleted by a concurrent
    # transaction is not returned.
    return {r[0] for r in conn.exec_driver_sql(
        f"DELETE FROM analytics_pending_batch WHERE id IN ({listed}) RETURNING id")}


def fold_batches(db: Database, batches: Sequence[StoredBatch]) -> int | None:
    """Fold event batches this process has just committed, without reading them back.

    Only batches whose pending row this transaction deletes are counted, so batches
    already folded from the database are skipped. The increments are computed before the
    write lock is taken (on SQLite the writer waits for that lock). Returns how many
    events were counted, or None when another process holds the aggregation lock
    (nothing done).
    """
    if not batches:
        return 0
    db = db.analytics
    seen = _day_from_seen.get(db.engine)
    deltas = rules.fold([r for b in batches for r in b.rows], seen)
    # On SQLite each statement releases and re-takes the GIL while the write lock is
    # held, and with the event loop busy every re-take waits its turn (the hand-off's
    # click writer waits behind this lock: /go p99), so its statements are built before
    # the lock.
    prepared = _sqlite_upserts(deltas) if db.is_sqlite else None
    with actions.write_lock(db), db.engine.begin() as conn:
        if not _lock(conn, wait=False, at_most=LOCK_WAIT):
            return None
        gone = _delete_batches(conn, [b.id for b in batches])
        kept = [b for b in batches if b.id in gone]
        day_from = _day_from(conn)
        # Recomputed when some were folded elsewhere already, or the day counters moved
        # on (both rare).
        if len(kept) != len(batches) or day_from != seen:
            deltas = rules.fold([r for b in kept for r in b.rows], day_from)
            prepared = None
        _upsert(conn, deltas, prepared)
    if deltas:
        live.notify(changed_entities(deltas))
    return sum(len(b.rows) for b in kept)


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

    def __init__(self, db: Database, *, batch: int = BATCH,
                 memory_batch: int = MEMORY_BATCH, idle: float = 0.25,
                 interval: float = 0.5) -> None:
        self.db = db.analytics  # where the analytics tables live (db.engine.Database)
        self.batch = batch
        self.memory_batch = memory_batch
        self._backlog = False  # the last round found a full batch (memory or database)
        self.idle = idle
        self.interval = interval
        self.folded = 0
        self.batches = 0
        self.dropped = 0
        self._mem: deque[StoredBatch] = deque()
        self._mem_rows = 0  # events in self._mem
        self._mem_lock = threading.Lock()
        self._db_folded = float("-inf")
        self._compacted = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def offer(self, batches: list[StoredBatch]) -> None:
        """Queue committed batches for the next fold (`handoff`)."""
        n = sum(len(b.rows) for b in batches)
        with self._mem_lock:
            if self._mem_rows + n > MEMORY_CAP:
                # Falling behind: forget them here; they are folded from the database.
                self.dropped += self._mem_rows + n
                self._mem.clear()
                self._mem_rows = 0
                return
            self._mem.extend(batches)
            self._mem_rows += n

    def start(self) -> None:
        """Start the thread (idempotent) and receive this process's committed rows."""
        if self._thread is None:
            self._stop.clear()
            with _receivers_lock:
                _receivers[self.db.url] = self
            self._thread = threading.Thread(target=self._run, name="analytics-aggregator",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch (rows still in memory stay pending in the
        database)."""
        with _receivers_lock:
            if _receivers.get(self.db.url) is self:
                del _receivers[self.db.url]
        self._stop.set()
        _wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _take(self) -> tuple[list[StoredBatch], bool]:
        """The oldest waiting batches, up to `memory_batch` events (at least one batch),
        and whether more are waiting."""
        taken: list[StoredBatch] = []
        n = 0
        with self._mem_lock:
            while self._mem and (not taken or n + len(self._mem[0].rows) <= self.memory_batch):
                b = self._mem.popleft()
                taken.append(b)
                n += len(b.rows)
            self._mem_rows -= n
            return taken, bool(self._mem)

    def _put_back(self, batches: list[StoredBatch]) -> None:
        with self._mem_lock:
            self._mem.extendleft(reversed(batches))
            self._mem_rows += sum(len(b.rows) for b in batches)

    def fold_round(self) -> int | None:
        """One round: the batches waiting in memory, then the database — all of it when
        nothing was waiting in memory, else only batches written more than STALE_SECONDS
        ago (at most once per STALE_SECONDS). How many events were counted, or None when
        another process held the lock."""
        batches, more = self._take()
        self._backlog = more
        n: int | None = 0
        if batches:
            n = fold_batches(self.db, batches)
            if n is None:
                self._put_back(batches)
                return None
        now = time.monotonic()
        if not batches or now - self._db_folded >= STALE_SECONDS:
            self._db_folded = now
            before = None if not batches else id_floor_for_ms(
                int((time.time() - STALE_SECONDS) * 1000))
            m, done = _fold_from_db(self.db, self.batch, before)
            if m is None and not batches:
                return None
            if done:
                # Counted now: drop them from the memory queue (a backlog older than
                # STALE_SECONDS), so they are not folded for nothing again.
                folded = set(done)
                with self._mem_lock:
                    left = [b for b in self._mem if b.id not in folded]
                    self._mem = deque(left)
                    self._mem_rows = sum(len(b.rows) for b in left)
                # Something older may be waiting in the database: look again at once.
                self._backlog = self._backlog or _any_pending(self.db, before)
            n = (n or 0) + (m or 0)
        return n

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            _wake.clear()
            try:
                n = self.fold_round()
                if started - self._compacted >= COMPACT_EVERY:
                    self._compacted = started
                    compact(self.db)
            except Exception:
                # A broken batch must not kill the thread; the events stay pending.
                log.exception("analytics fold failed")
                self._stop.wait(1.0)
                continue
            if n:
                self.folded += n
                self.batches += 1
            if n is not None and self._backlog:
                continue  # a full batch: keep folding
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
    db = db.analytics
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
        # Take the pending queue as it is now: the events of these days in it are counted
        # by the recount below, the others (earlier days) are folded here. Batches
        # committed from now on stay pending and are left out of the recount.
        taken = [r[0] for r in conn.execute(select(PENDING.c.id))]
        day_from = _day_from(conn)
        conn.execute(delete(ROLLUP).where(ROLLUP.c.bucket >= start))
        keys = 0
        if taken:
            listed = ", ".join(map(str, taken))
            older = [r for r in _pending_events(conn, f"p.id IN ({listed})")
                     if r["occurred_at"] < start]
            deltas = rules.fold(older, day_from)
            _upsert(conn, deltas)
            keys += len(deltas)
            conn.execute(delete(PENDING).where(PENDING.c.id.in_(taken)))
        # No id bound: ids follow the wall clock, received_at the process clock (which
        # the demo seed moves), so only occurred_at can select the days.
        where = (EVENT.c.occurred_at >= start,
                 text(f"analytics_event.id NOT IN ({pending_ids_sql(conn.dialect.name)})"))
        total = int(conn.execute(select(func.count()).select_from(EVENT).where(*where))
                    .scalar() or 0)
        done = 0
        after = -1
        while True:
            rows = conn.execute(
                select(*[EVENT.c[c] for c in FOLD_COLS]).where(*where, EVENT.c.id > after)
                .order_by(EVENT.c.id).limit(chunk)).mappings().all()
            if not rows:
                break
            deltas = rules.fold(rows, day_from)  # type: ignore[arg-type]
            _upsert(conn, deltas)
            keys += len(deltas)
            done += len(rows)
            after = rows[-1]["id"]
            if progress is not None:
                progress(done, total)
    live.notify({("platform", rules.PLATFORM_ID)})
    return RebuildResult(start, done, keys, clamped)
