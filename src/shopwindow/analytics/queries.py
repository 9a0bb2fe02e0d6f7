"""Analytics reads: an actor's raw events (interest profiles) and plain rollup totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopwindow.analytics.models import Event, Pending, Rollup


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


def rollup_total(session: Session, entity_type: str, entity_id: int, metric: str, *,
                 grain: str = "d", since: datetime | None = None,
                 until: datetime | None = None, dim: str = "all", dim_value: str = "",
                 currency: str = "") -> int:
    """Sum of one metric of one entity over buckets in [since, until) of a grain."""
    q = select(func.coalesce(func.sum(Rollup.value), 0)).where(
        Rollup.entity_type == entity_type, Rollup.entity_id == entity_id,
        Rollup.grain == grain, Rollup.metric == metric, Rollup.dim == dim,
        Rollup.dim_value == dim_value, Rollup.currency == currency)
    if since is not None:
        q = q.where(Rollup.bucket >= since)
    if until is not None:
        q = q.where(Rollup.bucket < until)
    return int(session.scalar(q) or 0)


def pending_count(session: Session) -> int:
    """Committed events not yet folded into rollups (the aggregator's backlog)."""
    return int(session.scalar(select(func.count()).select_from(Pending)) or 0)


def event_count(session: Session) -> int:
    """Raw events currently kept."""
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def has_events_of_type(session: Session, event_type: str) -> bool:
    """Whether any raw event of this type is kept."""
    return session.scalar(select(Event.id).where(Event.type == event_type).limit(1)) is not None


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
