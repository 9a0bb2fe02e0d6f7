"""Outbox table, `emit`, and the subscriber registry.

`emit` adds a row in the caller's transaction, so an event exists if and only if the
change that caused it was committed. After commit the publisher (set by the process: the
job runner enqueues one job per durable subscriber and batch of events) and live
in-process subscribers (SSE, caches) are called with the event. Durable subscribers must
be idempotent: the sweeper re-publishes events whose dispatch was not recorded (crash
between commit and enqueue).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Table
from sqlalchemy.orm import Mapped, Session, mapped_column

from shopwindow.core.clock import utcnow
from shopwindow.core.ids import new_id
from shopwindow.db.base import Base, UTCDateTime
from shopwindow.db.bulk import insert_many
from shopwindow.db.uow import after_commit

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    """One domain event, stored in the same transaction as the change."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_outbox_event_pending", "dispatched_at", "id"),)


OUTBOX_TABLE: Table = OutboxEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """What subscribers receive."""

    id: int
    type: str
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Session, DomainEvent], None]
BatchHandler = Callable[[Session, list[DomainEvent]], None]
LiveHandler = Callable[[DomainEvent], None]

_durable: dict[str, dict[str, Handler]] = defaultdict(dict)
_batch: dict[str, BatchHandler] = {}


@dataclass(frozen=True, slots=True)
class Inline:
    """How the publisher runs a durable handler itself (`subscribe(inline=…)`), in two
    steps: `prepare(read_session, events)` does the reading and computing in a read-only
    session, then `apply(session, prepared)` writes in a short transaction of its own.
    On SQLite a write transaction holds the database's one write lock from its first
    statement, so the reads and the Python work stay out of it."""

    prepare: Callable[[Session, list[DomainEvent]], Any]
    apply: Callable[[Session, Any], None]
    # How much work an event is (e.g. the clicks a batch event carries), so that one
    # transaction stays short after a backlog; every event counts 1 without it.
    size: Callable[[DomainEvent], int] | None = None


_inline: dict[str, Inline] = {}
_live: dict[str, list[LiveHandler]] = defaultdict(list)
_publisher: Callable[[list[DomainEvent]], None] | None = None


def subscribe(event_type: str, name: str | None = None,
              batch: BatchHandler | None = None,
              inline: Inline | None = None) -> Callable[[Handler], Handler]:
    """Register an idempotent durable handler `fn(session, event)` run by the job runner.

    `batch(session, events)`, if given, must do the same as calling `fn` for each event;
    the runner uses it for events committed together (one set-based pass instead of one
    query round per event).

    `inline` (needs `batch`, which must do what `inline.apply(s, inline.prepare(s,
    events))` does): the publisher runs the handler itself, in the publishing process,
    before it records the events as dispatched; only if that fails are they queued as
    jobs. For high-volume events whose handling is
    cheap and local (e.g. click analytics): a job per batch costs a queue round trip and
    reloading the events, and on SQLite a worker process competes with the web process
    for the one write lock. Delivery stays at least once (a crash before the dispatch is
    recorded makes the sweeper publish the events again), so the handler must still be
    idempotent."""
    if inline is not None and batch is None:
        raise ValueError("an inline handler needs its batch form")

    def deco(fn: Handler) -> Handler:
        key = name or f"{fn.__module__}.{fn.__qualname__}"
        _durable[event_type][key] = fn
        if batch is not None:
            _batch[key] = batch
        if inline is not None:
            _inline[key] = inline
        else:
            _inline.pop(key, None)
        return fn

    return deco


def inline_handler(name: str) -> Inline | None:
    """How the publisher runs this durable handler itself, if it does (`subscribe`)."""
    return _inline.get(name)


def batch_handler(name: str) -> BatchHandler | None:
    """The set-based form of a durable handler, if it has one."""
    return _batch.get(name)


def subscribe_live(event_type: str, fn: LiveHandler) -> None:
    """Register an in-process, best-effort handler called right after commit."""
    _live[event_type].append(fn)


def handlers_for(event_type: str) -> dict[str, Handler]:
    """Durable handlers registered for an event type, by name."""
    return dict(_durable.get(event_type, {}))


def all_handlers() -> dict[str, Handler]:
    """Every durable handler by name."""
    out: dict[str, Handler] = {}
    for hs in _durable.values():
        out.update(hs)
    return out


def set_publisher(fn: Callable[[list[DomainEvent]], None] | None) -> None:
    """Install the process's publisher (the job runner's enqueue)."""
    global _publisher
    _publisher = fn


def publish(events: list[DomainEvent]) -> None:
    """Hand committed events to live subscribers and the publisher."""
    for ev in events:
        for fn in _live.get(ev.type, []) + _live.get("*", []):
            try:
                fn(ev)
            except Exception:  # live subscribers are best effort
                log.exception("live subscriber failed for %s", ev.type)
    if _publisher is not None and events:
        _publisher(events)


def emit(session: Session, event_type: str, **payload: Any) -> DomainEvent:
    """Record a domain event in the current transaction; publish it after commit."""
    ev = DomainEvent(new_id(), event_type, payload)
    session.add(
        OutboxEvent(id=ev.id, type=event_type, payload=payload, created_at=utcnow())
    )
    _pending(session).append(ev)
    return ev


def emit_many(session: Session, events: Sequence[tuple[str, dict[str, Any]]]
              ) -> list[DomainEvent]:
    """`emit` for many events at once, written with one Core INSERT right away (hot
    paths: an ORM object per event and the flush's bookkeeping cost more than the row)."""
    if not events:
        return []
    out = [DomainEvent(new_id(), etype, payload) for etype, payload in events]
    now = utcnow()
    insert_many(session.connection(), OUTBOX_TABLE, [
        {"id": ev.id, "type": ev.type, "payload": ev.payload, "created_at": now,
         "dispatched_at": None} for ev in out])
    _pending(session).extend(out)
    return out


def _pending(session: Session) -> list[DomainEvent]:
    """The session's events to publish after commit (registers the publish once)."""
    pending: list[DomainEvent] | None = session.info.get("outbox_pending")
    if pending is None:
        pending = []
        session.info["outbox_pending"] = pending

        def _flush() -> None:
            evs = session.info.pop("outbox_pending", [])
            publish(evs)

        after_commit(session, _flush)
    return pending


def emitted(session: Session) -> list[DomainEvent]:
    """Events emitted in the session's open transaction (for tests)."""
    return list(session.info.get("outbox_pending", []))
