"""Analytics writes: record raw events (with their aggregation queue rows), prune the log.

`ingest` writes into the caller's transaction when given a Session (outbox subscribers,
tests that want the events in their own unit of work) and commits by itself when given a
Database. The beacon goes through the group-committing writer (`analytics.ingest_writer`),
which calls `store_fresh_events` (PostgreSQL; `store_events` when a key was stored before)
or `store_events` (SQLite) once per batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

import psycopg.errors
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    String,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from shopwindow.analytics import rules
from shopwindow.analytics.models import MINUTE_ROWS, Event, PendingBatch, Rollup, State
from shopwindow.analytics.rules import EventIn
from shopwindow.core.clock import utcnow
from shopwindow.core.ids import new_id
from shopwindow.db.base import UTCDateTime
from shopwindow.db.bulk import (
    insert_many,
    run_sqlite_statements,
    sqlite_datetime,
    sqlite_insert_statements,
    sqlite_json_rows,
)
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work

EVENT_TABLE: Table = Event.__table__  # type: ignore[assignment]
PENDING_TABLE: Table = PendingBatch.__table__  # type: ignore[assignment]
# Event ids per pending-queue row (`models.PendingBatch`): the beacon writer's batches
# (ingest_writer.MAX_ROWS) fit one row; a larger insert writes several.
PENDING_MAX = 8_000


class StoredBatch(NamedTuple):
    """Event rows stored together with one pending-queue row (its id): the unit the
    aggregator folds."""

    id: int
    rows: list[dict[str, Any]]


def pending_ids_sql(dialect: str) -> str:
    """A subquery of every pending event id (for `id IN (…)` / `NOT IN`)."""
    if dialect == "sqlite":
        return "SELECT j.value FROM analytics_pending_batch AS p, json_each(p.event_ids) AS j"
    return "SELECT unnest(event_ids) FROM analytics_pending_batch"


_sqlite_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def write_lock(db: Database) -> AbstractContextManager[Any]:
    """Serialise this process's analytics writers on SQLite (writer thread, aggregator).

    SQLite has one write lock; a thread that finds it taken sleeps in the busy handler's
    backoff steps (up to 100 ms), so two threads of one process that take turns would
    mostly wait. Queueing on a Python lock first hands the write lock over at once.
    PostgreSQL needs nothing here.
    """
    db = db.analytics
    if not db.is_sqlite:
        return nullcontext()
    with _locks_guard:
        lock = _sqlite_locks.get(db.url)
        if lock is None:
            lock = _sqlite_locks[db.url] = threading.Lock()
    return lock


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """A session that writes the analytics tables for a caller holding `session`.

    The caller's own session when the analytics tables share its database (PostgreSQL):
    the events commit or roll back with the caller's transaction. When they live in their
    own SQLite file (`Database.analytics`), a transaction of that file which commits when
    the block ends, before the caller's commit. Every writer that derives events from
    other commits keys them (`dedup_key`), so if the caller's transaction then fails and
    is retried, the retry stores nothing twice.
    """
    db = Database.of(session)
    if db is None or not db.analytics_split:
        yield session
        return
    with write_lock(db), unit_of_work(db.analytics) as s:
        yield s


@dataclass(slots=True)
class IngestResult:
    """What `ingest` stored: ids of new events, and how many were duplicates (dedup_key)."""

    ids: list[int] = field(default_factory=list)
    duplicates: int = 0

    @property
    def accepted(self) -> int:
        return len(self.ids)


def event_row(ev: EventIn, received: datetime, event_id: int | None = None) -> dict[str, Any]:
    """The analytics_event row for a validated event received at `received`."""
    return {
        "id": event_id if event_id is not None else new_id(),
        "occurred_at": rules.clamp_occurred(ev.occurred_at, received),
        "received_at": received,
        "type": ev.type, "actor_id": ev.actor_id, "object_type": ev.object_type,
        "object_id": ev.object_id, "creator_id": ev.creator_id, "post_id": ev.post_id,
        "recommendation_id": ev.recommendation_id, "product_id": ev.product_id,
        "partner_id": ev.partner_id, "promotion_id": ev.promotion_id,
        "surface": ev.surface, "is_follower": ev.is_follower, "vertical": ev.vertical,
        "region": ev.region, "device": ev.device, "lang": ev.lang, "value": ev.value,
        "currency": ev.currency, "dedup_key": ev.dedup_key,
    }


def db_time(value: datetime, sqlite_dialect: bool) -> Any:
    """A UTC datetime as the column type binds it (SQLite: SQLAlchemy's text form)."""
    return sqlite_datetime(value) if sqlite_dialect else value


EVENT_COLS = tuple(c.name for c in EVENT_TABLE.columns)
assert EVENT_COLS[:3] == ("id", "occurred_at", "received_at")
_row_values = itemgetter(*EVENT_COLS)  # a row dict → its column values, in C
_event_id = itemgetter("id")


def copy_types(table: Table, cols: Sequence[str]) -> list[str]:
    """PostgreSQL type names of `cols` for a binary COPY (varchar travels as text)."""
    names = []
    for c in cols:
        t = table.c[c].type
        if isinstance(t, UTCDateTime):
            names.append("timestamptz")
        elif isinstance(t, BigInteger):
            names.append("int8")
        elif isinstance(t, Boolean):
            names.append("bool")
        elif isinstance(t, String):
            names.append("text")
        else:  # pragma: no cover - a new column type needs a line above
            raise TypeError(f"no COPY type for {table.name}.{c}: {t!r}")
    return names


_EVENT_TYPES = copy_types(EVENT_TABLE, EVENT_COLS)


def copy_rows(conn: Connection, table: str, like: str, cols: Sequence[str],
              rows: Iterable[Sequence[Any]], types: Sequence[str]) -> None:
    """PostgreSQL: COPY rows into a per-transaction temp table shaped like `like`.

    COPY is the cheapest way to move many rows into PostgreSQL from Python (array
    parameters spend most of their time being formatted); the caller then merges the
    temp table with one INSERT … SELECT … ON CONFLICT. Binary format: formatting the
    text form (datetimes above all) cost more than the rest of the write.
    """
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (LIKE {like}) "
                    "ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(types)
            for r in rows:
                cp.write_row(r)


def _insert_pg(conn: Connection, rows: list[dict[str, Any]]) -> list[StoredBatch]:
    out: list[StoredBatch] = []
    cols = ", ".join(EVENT_COLS)
    for i in range(0, len(rows), PENDING_MAX):
        chunk = rows[i:i + PENDING_MAX]
        copy_rows(conn, "analytics_event_in", "analytics_event", EVENT_COLS,
                  map(_row_values, chunk), _EVENT_TYPES)
        batch = new_id()
        # The queue row in the same statement: the ids need not travel back and forth.
        # In dedup-key order: concurrent batches (the writers of several processes) that
        # share keys wait on each other in one order instead of deadlocking. The dedup key
        # is the only arbiter (ids are fresh): no second index probe per row for the
        # primary key.
        ids = [int(r[0]) for r in conn.exec_driver_sql(
            f"WITH ins AS (INSERT INTO analytics_event ({cols}) SELECT {cols} FROM "
            "analytics_event_in ORDER BY dedup_key ON CONFLICT (dedup_key) DO NOTHING "
            "RETURNING id), "
            "q AS (INSERT INTO analytics_pending_batch (id, size, event_ids) "
            "SELECT %s, count(*), array_agg(id) FROM ins HAVING count(*) > 0) "
            "SELECT id FROM ins", (batch,)).all()]
        # Emptied for the next chunk or call in this transaction (commit empties it
        # anyway). DELETE, not TRUNCATE: a temp table's rows cost next to nothing to
        # delete (no WAL), while TRUNCATE gives it a new file and catalog row each time
        # (~4 ms per batch here).
        conn.exec_driver_sql("DELETE FROM analytics_event_in")
        if ids:
            out.append(StoredBatch(batch, _kept(chunk, ids)))
    return out


class KeyTaken(Exception):
    """`store_fresh_events` met a dedup key that is stored already, or is being stored by
    a concurrent transaction: that transaction is spoiled. Roll it back and store the rows
    again with `store_events`, which leaves the duplicates out."""


def store_fresh_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[StoredBatch]:
    """PostgreSQL: `store_events` for rows whose dedup keys are believed new (the beacon's
    writer remembers the keys it stored): one COPY straight into the event table and one
    queue row per chunk. Raises KeyTaken if a key was stored after all.

    Why: ON CONFLICT checks each row against the dedup index before inserting it (an
    index scan of its own, with its tuple slot) and then inserts the index entry, a
    second descent; with the temp table it needs, that was about a third of
    PostgreSQL's CPU per event. A plain insert checks uniqueness once, inside the index
    insertion (docs/analytics.md, "Writing events").
    """
    uniq = _unique_keys(rows)
    out: list[StoredBatch] = []
    raw: Any = conn.connection.driver_connection  # the psycopg connection, same transaction
    copy_sql = f"COPY analytics_event ({', '.join(EVENT_COLS)}) FROM STDIN (FORMAT BINARY)"
    try:
        for i in range(0, len(uniq), PENDING_MAX):
            chunk = uniq[i:i + PENDING_MAX]
            with raw.cursor() as cur:
                with cur.copy(copy_sql) as cp:
                    cp.set_types(_EVENT_TYPES)
                    for r in map(_row_values, chunk):
                        cp.write_row(r)
                batch = new_id()
                # The ids as an array literal: psycopg's list dumper works in Python, one
                # element at a time (it showed in the writer's profile); str() and join
                # run in C.
                ids = "{" + ",".join(map(str, map(_event_id, chunk))) + "}"
                cur.execute("INSERT INTO analytics_pending_batch (id, size, event_ids) "
                            "VALUES (%s, %s, %s::int8[])", (batch, len(chunk), ids))
            out.append(StoredBatch(batch, chunk))
    except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected) as exc:
        raise KeyTaken(str(exc).splitlines()[0]) from exc
    return out


def _kept(rows: list[dict[str, Any]], ids: Sequence[int]) -> list[dict[str, Any]]:
    """`rows` whose id is in `ids` (all of them when the counts match: ids are unique)."""
    if len(ids) == len(rows):
        return rows
    found = set(ids)
    return [r for r in rows if r["id"] in found]


def _unique_keys(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, keeping the first of each dedup key: duplicates inside one batch would
    hit the constraint with each other (ON CONFLICT skips keys of earlier batches)."""
    seen: set[str] = set()
    uniq: list[dict[str, Any]] = []
    for r in rows:
        k = r["dedup_key"]
        if k is None:
            uniq.append(r)
        elif k not in seen:
            seen.add(k)
            uniq.append(r)
    return uniq


@dataclass(slots=True)
class PreparedEvents:
    """A SQLite batch's statements, built before the write lock is taken
    (`prepare_sqlite`): the lock is then held only while SQLite works."""

    rows: list[dict[str, Any]]
    events: list[tuple[str, tuple[Any, ...]]]
    pending: list[tuple[str, tuple[Any, ...]]]
    batches: list[StoredBatch]


def _pending_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[StoredBatch]]:
    """SQLite pending-queue rows (ids as a JSON array) for stored rows, PENDING_MAX each."""
    queue: list[dict[str, Any]] = []
    batches: list[StoredBatch] = []
    for i in range(0, len(rows), PENDING_MAX):
        chunk = rows[i:i + PENDING_MAX]
        batch = new_id()
        queue.append({"id": batch, "size": len(chunk),
                      "event_ids": json.dumps([r["id"] for r in chunk])})
        batches.append(StoredBatch(batch, chunk))
    return queue, batches


def prepare_sqlite(rows: Sequence[dict[str, Any]]) -> PreparedEvents:
    """The INSERT statements of `insert_events` on SQLite, for rows not yet stored."""
    uniq = _unique_keys(rows)
    queue, batches = _pending_rows(uniq)
    return PreparedEvents(
        uniq, sqlite_insert_statements(EVENT_TABLE, uniq, " ON CONFLICT DO NOTHING"),
        sqlite_insert_statements(PENDING_TABLE, queue), batches)


def insert_events(session: Session | Connection, rows: Sequence[dict[str, Any]],
                  prepared: PreparedEvents | None = None) -> list[int]:
    """Insert event rows plus their pending-queue rows, skipping duplicate dedup keys; the
    new events' ids. `prepared`: the same rows' statements from `prepare_sqlite` (SQLite)."""
    return [r["id"] for b in store_events(session, rows, prepared) for r in b.rows]


def store_events(session: Session | Connection, rows: Sequence[dict[str, Any]],
                 prepared: PreparedEvents | None = None) -> list[StoredBatch]:
    """`insert_events`, returning the rows stored (duplicates by dedup key left out) with
    the pending-queue rows that hold them: what the in-process aggregator folds once the
    transaction has committed (`aggregator.handoff`)."""
    if not rows:
        return []
    bind = session if isinstance(session, Connection) else session.get_bind()
    if bind.dialect.name != "sqlite":
        conn = session if isinstance(session, Connection) else session.connection()
        return _insert_pg(conn, _unique_keys(rows))
    if prepared is None:
        # Before session.connection(): a session that has not begun yet takes SQLite's
        # write lock there (BEGIN IMMEDIATE), and the hand-off's click writer waits
        # behind whoever holds it — building a few hundred rows' statements under the
        # lock (the publisher's inline analytics) showed in /go's p99.
        prepared = prepare_sqlite(rows)
    conn = session if isinstance(session, Connection) else session.connection()
    uniq = prepared.rows
    # SQLite: one multi-row INSERT per chunk straight on the driver (db.bulk). Neither the
    # driver's executemany nor RETURNING: both release and re-take the GIL once per row,
    # and with the event loop busy each re-take waits, so a batch held SQLite's write
    # lock many times longer than its work took (the hand-off's click writer waited
    # behind it). Ids are fresh, so when some keys were stored before, the ids present
    # now are the ones this statement inserted.
    if run_sqlite_statements(conn, prepared.events)[0] == len(uniq):
        run_sqlite_statements(conn, prepared.pending)
        return prepared.batches
    ids = [r["id"] for r in uniq]
    found: set[int] = set()
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        found.update(r[0] for r in sqlite_json_rows(
            conn, f"FROM analytics_event WHERE id IN ({', '.join('?' * len(part))})",
            part, ("id",)))
    queue, batches = _pending_rows([r for r in uniq if r["id"] in found])
    if queue:
        insert_many(conn, PENDING_TABLE, queue)
    return batches


def ingest(session_or_db: Session | Database, events: list[EventIn]) -> IngestResult:
    """Validate and record events; raises Invalid naming the first bad field."""
    for i, ev in enumerate(events):
        rules.check_event(ev, prefix=f"events[{i}].")
    if isinstance(session_or_db, Database):
        with unit_of_work(session_or_db.analytics) as s:
            return ingest(s, events)
    with writing(session_or_db) as s:
        ids = [r["id"] for b in _store(s, events) for r in b.rows]
    return IngestResult(ids=ids, duplicates=len(events) - len(ids))


def ingest_rows(session: Session, events: list[EventIn],
                dedup_keys: Sequence[str] | None = None, *,
                checked: bool = False) -> list[StoredBatch]:
    """`ingest` in the caller's transaction, returning the rows stored (duplicates left
    out) with their pending-queue rows, e.g. for the in-process aggregator once the
    transaction commits (`aggregator.handoff_bound`). `dedup_keys`,
    if given, replace the events' own keys one for one (cheaper than copying each
    event with a new key). `checked`: the caller ran `rules.check_event` on each."""
    if dedup_keys is not None and len(dedup_keys) != len(events):
        raise ValueError("one dedup key per event")
    if not checked:
        for i, ev in enumerate(events):
            rules.check_event(ev, prefix=f"events[{i}].")
    return _store(session, events, dedup_keys)


def _store(session: Session, events: list[EventIn],
           dedup_keys: Sequence[str] | None = None) -> list[StoredBatch]:
    received = utcnow()
    rows = [event_row(ev, received) for ev in events]
    if dedup_keys is not None:
        for r, k in zip(rows, dedup_keys, strict=True):
            r["dedup_key"] = k
    return store_events(session, rows)


def prune_raw_events(session: Session, older_than: timedelta, *, limit: int = 50_000) -> int:
    """Delete up to `limit` raw events received before now - `older_than` (rollups stay)."""
    cutoff = utcnow() - older_than
    # In id (≈ arrival) order the old events come first, so the scan stops early; a bound
    # on ids alone would be wrong when the process clock is moved (the demo seed does).
    dialect = session.get_bind().dialect.name
    victims = select(Event.id, Event.received_at).where(
        Event.received_at < cutoff,
        # not yet folded: keep (the queue holds about a second of events)
        text(f"analytics_event.id NOT IN ({pending_ids_sql(dialect)})"),
    ).order_by(Event.id).limit(limit)
    rows = session.execute(victims).all()
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    for i in range(0, len(ids), 5000):
        session.execute(delete(Event).where(Event.id.in_(ids[i:i + 5000])))
    # Remember how far the log is incomplete: rebuild must not recompute those days.
    upto = int(max(r[1] for r in rows).timestamp() * 1000)
    st = session.get(State, rules.PRUNED_UNTIL)
    if st is None:
        session.add(State(name=rules.PRUNED_UNTIL, value=upto))
    else:
        st.value = max(st.value, upto)
    session.flush()
    return len(ids)


def prune_minute_rollups(session: Session, older_than: timedelta) -> int:
    """Delete the minute rollups of the oldest hour of minute buckets, if it began before
    now - `older_than` (hour and day rollups stay); how many rows went, 0 once nothing
    is left to prune. One hour per call keeps each transaction small.

    Reports read minute buckets only within `report_rules.MINUTE_HORIZON`; the setting
    (`analytics_minute_retention_days`) keeps a margin above it.
    """
    cutoff = utcnow() - older_than
    minute_rows = text(MINUTE_ROWS)  # literal: the partial index answers both statements
    oldest = session.scalar(select(func.min(Rollup.bucket)).where(minute_rows))
    if oldest is None or oldest >= cutoff:
        return 0
    upto = min(cutoff, oldest + timedelta(hours=1))
    gone = session.execute(delete(Rollup).where(minute_rows, Rollup.bucket < upto))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def prune(db: Database, raw: timedelta, minutes: timedelta) -> tuple[int, int]:
    """Delete raw events older than `raw` and minute rollups older than `minutes`, each in
    small transactions until none is left; (events, minute rollup rows) deleted."""
    done = [0, 0]
    for n, step in enumerate((lambda s: prune_raw_events(s, raw),
                              lambda s: prune_minute_rollups(s, minutes))):
        while True:
            with unit_of_work(db.analytics) as s:
                gone = step(s)
            done[n] += gone
            if gone == 0:
                break
    return done[0], done[1]
