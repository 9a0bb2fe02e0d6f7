"""Analytics reads: an actor's raw events (interest profiles) and plain rollup totals."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Table, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from shopwindow.analytics import rules
from shopwindow.analytics.models import Event, PendingBatch, Rollup, State
from shopwindow.db.base import UTCDateTime
from shopwindow.db.engine import Database

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def reading(session: Session) -> Iterator[Session]:
    """A session that reads the analytics tables for a caller holding `session`: the
    session itself, unless it is a write session of a main SQLite file whose analytics
    tables live in their own file (`Database.analytics`). Write connections never attach
    that file (their BEGIN IMMEDIATE would lock it too), read connections do, so such a
    caller reads through a read session of the same database."""
    db = Database.of(session)
    if db is None or not db.analytics_split or session.get_bind() is not db.engine:
        yield session
        return
    with db.read_sessions() as rs:
        yield rs


def reads(fn: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Session, P], T]:
    """Run a query function through `reading(session)`."""
    @functools.wraps(fn)
    def wrapper(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with reading(session) as s:
            return fn(s, *args, **kwargs)
    return wrapper


@dataclass(frozen=True, slots=True)
class ActorEvent:
    """One raw event of an actor, as other domains see it."""

    id: int
    type: str
    occurred_at: datetime
    object_type: str
    object_id: int | None
    creator_id: int | None
    post_id: int | None
    recommendation_id: int | None
    product_id: int | None
    surface: str
    value: int


@reads
def list_actor_events(session: Session, actor_id: int, types: Iterable[str],
                      since: datetime, *, limit: int = 5000) -> list[ActorEvent]:
    """The actor's raw events of `types` since `since`, newest first (at most `limit`)."""
    wanted = list(types)
    if not wanted:
        return []
    rows = session.execute(
        select(Event.id, Event.type, Event.occurred_at, Event.object_type, Event.object_id,
               Event.creator_id, Event.post_id, Event.recommendation_id, Event.product_id,
               Event.surface, Event.value)
        .where(Event.actor_id == actor_id, Event.occurred_at >= since,
               Event.type.in_(wanted))
        .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit))
    return [ActorEvent(*r) for r in rows]


ROLLUP_TABLE: Table = Rollup.__table__  # type: ignore[assignment]


def day_from(session: Session) -> datetime | None:
    """Start of the first hour not yet added to the day counters (None: every hour is)."""
    ms = session.scalar(select(State.value).where(State.name == rules.DAY_FROM))
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def utc_day(dialect: str, bucket: Any) -> ColumnElement[Any]:
    """SQL for the start of the UTC day of a bucket column (as the column stores it)."""
    if dialect == "sqlite":  # 'YYYY-MM-DD HH:MM:SS.ffffff' (db.bulk.sqlite_datetime)
        return func.substr(bucket, 1, 10).concat(" 00:00:00.000000")
    return func.date_trunc("day", bucket, "UTC")


def local_day(session: Session, bucket: Any, tz_name: str,
              offsets: Sequence[tuple[datetime, timedelta]]) -> ColumnElement[Any]:
    """SQL for the viewer-local day of a bucket column (the local day its instant falls
    in). PostgreSQL: the day's start as a UTC instant (zone-aware `date_trunc`, DST
    included). SQLite has no time zones: the local date as 'YYYY-MM-DD', from the
    viewer's UTC offsets over the range (`report_rules.offset_changes`)."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(func.date_trunc("day", bucket, tz_name), UTCDateTime())
    shift: Any = _minutes(offsets[-1][1])
    if len(offsets) > 1:
        shift = case(*((bucket < offsets[i + 1][0], _minutes(off))
                       for i, (_at, off) in enumerate(offsets[:-1])), else_=shift)
    return func.substr(func.datetime(bucket, shift), 1, 10)


def _minutes(offset: timedelta) -> str:
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def rollups(session: Session, grain: str) -> Any:
    """The rollup rows of `grain` as reports read them: a FROM clause with the columns of
    `analytics_rollup`. Folds write day counters only for hours before `day_from`
    (`aggregator.compact` adds each closed hour to its day), so for grain 'd' the hour
    counters from `day_from` on are added as UTC-day rows: a day figure is complete as
    soon as its events are folded."""
    t = ROLLUP_TABLE
    since = day_from(session) if grain == "d" else None
    if since is None:
        return t
    day = type_coerce(utc_day(session.get_bind().dialect.name, t.c.bucket), UTCDateTime())
    keys = (t.c.entity_type, t.c.entity_id, t.c.metric, t.c.dim, t.c.dim_value,
            t.c.currency, t.c.value)
    return union_all(
        select(t.c.grain, t.c.bucket, *keys).where(t.c.grain == "d"),
        select(literal("d").label("grain"), day.label("bucket"), *keys)
        .where(t.c.grain == "h", t.c.bucket >= since),
    ).subquery("rollup_view")


@reads
def rollup_total(session: Session, entity_type: str, entity_id: int, metric: str, *,
                 grain: str = "d", since: datetime | None = None,
                 until: datetime | None = None, dim: str = "all", dim_value: str = "",
                 currency: str = "") -> int:
    """Sum of one metric of one entity over buckets in [since, until) of a grain (as
    reports read it: `rollups`)."""
    r = rollups(session, grain)
    q = select(func.coalesce(func.sum(r.c.value), 0)).where(
        r.c.entity_type == entity_type, r.c.entity_id == entity_id,
        r.c.grain == grain, r.c.metric == metric, r.c.dim == dim,
        r.c.dim_value == dim_value, r.c.currency == currency)
    if since is not None:
        q = q.where(r.c.bucket >= since)
    if until is not None:
        q = q.where(r.c.bucket < until)
    return int(session.scalar(q) or 0)


@reads
def pending_count(session: Session) -> int:
    """Committed events not yet folded into rollups (the aggregator's backlog)."""
    return int(session.scalar(select(func.coalesce(func.sum(PendingBatch.size), 0))) or 0)


@reads
def event_count(session: Session) -> int:
    """Raw events currently kept."""
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


@reads
def has_events_of_type(session: Session, event_type: str) -> bool:
    """Whether any raw event of this type is kept."""
    return session.scalar(select(Event.id).where(Event.type == event_type).limit(1)) is not None


@reads
def list_product_events(session: Session, types: Iterable[str], since: datetime, *,
                        limit: int = 1_000_000) -> list[tuple[int, int, str, datetime]]:
    """(actor id, product id, type, occurred_at) of every signed-in actor's events of
    `types` on products since `since`, oldest first (bulk read for recommender training)."""
    wanted = list(types)
    if not wanted:
        return []
    rows = session.execute(
        select(Event.actor_id, Event.product_id, Event.type, Event.occurred_at)
        .where(Event.type.in_(wanted), Event.occurred_at >= since,
               Event.actor_id.is_not(None), Event.product_id.is_not(None))
        .order_by(Event.id).limit(limit))
    return [(int(a or 0), int(p or 0), str(t), o) for a, p, t, o in rows]
