"""ORM tables of the analytics domain (docs/analytics.md).

Other domains' rows are referenced by plain ids (no foreign keys): the raw log is hot,
append-only, pruned by age, and must outlive what it points at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime

# The predicate of the partial order index, also written literally in the queries that
# use it (a planner matches a partial index only against the same literal condition).
ORDER_EVENTS = "object_type = 'order'"
MINUTE_ROWS = "grain = 'm'"  # the partial index of minute rollups (same literal rule)
HOUR_ROWS = "grain = 'h'"  # the partial index of hour rollups (same literal rule)
DAY_ROWS = "grain = 'd'"  # the partial index of day rollups (same literal rule)


def key_text(length: int) -> String:
    """A text column of machine keys, compared byte by byte on PostgreSQL (collation "C";
    SQLite compares bytes anyway). Under a database's default collation (say
    en_US.UTF-8, or C.UTF-8 before PostgreSQL 17) every index comparison of these columns
    goes through strcoll: the rollup upserts and the dedup-key inserts of the event
    pipeline cost ~12 % more PostgreSQL CPU (docs/performance.md)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Event(Base):
    """One raw analytics event (append-only; the retention job prunes it, rollups stay)."""

    __tablename__ = "analytics_event"

    # Minted at receive time (core.ids), so an id range is also a receive-time range.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    creator_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    post_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recommendation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    partner_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    promotion_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    surface: Mapped[str] = mapped_column(String(20))
    is_follower: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    vertical: Mapped[str] = mapped_column(String(40), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    device: Mapped[str] = mapped_column(String(10))
    lang: Mapped[str] = mapped_column(String(10), default="")
    # Dwell milliseconds for reads; minor units for order/refund/commission events.
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    dedup_key: Mapped[str | None] = mapped_column(key_text(64), nullable=True, unique=True)

    __table_args__ = (
        # Signed-in viewers only: most page events are anonymous, and an index entry
        # nobody looks up (queries ask for one actor) is paid on every insert.
        Index("ix_analytics_event_actor", "actor_id", "occurred_at",
              postgresql_where=text("actor_id IS NOT NULL"),
              sqlite_where=text("actor_id IS NOT NULL")),
        # An order's money events by order id (later events of the order look up what
        # it was credited to and what was refunded). Partial: page events pay nothing.
        Index("ix_analytics_event_order", "object_id",
              postgresql_where=text(ORDER_EVENTS), sqlite_where=text(ORDER_EVENTS)),
    )


ROLLUP_FILLFACTOR = 70


class Rollup(Base):
    """One counter: metric of an entity in a time bucket, per dimension value."""

    __tablename__ = "analytics_rollup"

    grain: Mapped[str] = mapped_column(key_text(1))  # m | h | d
    bucket: Mapped[datetime] = mapped_column(UTCDateTime())  # UTC start of the bucket
    entity_type: Mapped[str] = mapped_column(key_text(20))
    entity_id: Mapped[int] = mapped_column(BigInteger)  # 0 for the platform
    metric: Mapped[str] = mapped_column(key_text(30))
    dim: Mapped[str] = mapped_column(key_text(12))  # all | surface | follower | …
    dim_value: Mapped[str] = mapped_column(key_text(40))  # '' for 'all'
    currency: Mapped[str] = mapped_column(key_text(3))  # '' for counts
    value: Mapped[int] = mapped_column(BigInteger, default=0)

    # Key order serves the report queries: one entity, one grain, one dimension, a few
    # metrics, a bucket range — each metric is one contiguous run of the index, so a
    # report reads only the rows it sums (bucket before dim would read every dimension).
    __table_args__ = (
        PrimaryKeyConstraint(
            "entity_type", "entity_id", "grain", "dim", "metric", "bucket", "dim_value",
            "currency", name="pk_analytics_rollup",
        ),
        # Minute rows by age, for their retention (`actions.prune_minute_rollups`); only
        # minute rows carry an entry, and an update of a counter changes no indexed column.
        Index("ix_analytics_rollup_minute", "bucket",
              postgresql_where=text(MINUTE_ROWS), sqlite_where=text(MINUTE_ROWS)),
        # Hour rows by bucket, for `aggregator.compact` (the hours it adds to their days)
        # and its start (the newest hour); an update of a counter changes no indexed column.
        Index("ix_analytics_rollup_hour", "bucket",
              postgresql_where=text(HOUR_ROWS), sqlite_where=text(HOUR_ROWS)),
        # Day rows by bucket, for reports over every entity of a type (platform top lists),
        # which read a window's whole UTC days from day rows (`reports.window_rows`).
        Index("ix_analytics_rollup_day", "bucket",
              postgresql_where=text(DAY_ROWS), sqlite_where=text(DAY_ROWS)),
        # Each fold adds to the counters of the current minute, hour and day again: room
        # left in every page lets PostgreSQL update them in place (HOT, no new index
        # entry); upserts cost ~40 % less (docs/performance.md). SQLite ignores it.
        {"postgresql_with": {"fillfactor": ROLLUP_FILLFACTOR}},
    )


class PendingBatch(Base):
    """Committed events the aggregator has not folded into rollups yet: one row per
    stored batch of events (at most `actions.PENDING_MAX` ids), written in the same
    transaction as the events.

    Event ids are minted before commit, so a cursor over event ids could skip a slower
    writer's batch; a queue cannot. One row per batch rather than per event: a queue row
    per event (its insert, its index entry, its deletion by the fold) was a fifth of
    PostgreSQL's CPU per beacon event (docs/performance.md). A batch is folded whole:
    whoever deletes its row counts its events, exactly once.
    """

    __tablename__ = "analytics_pending_batch"

    # Minted (core.ids) when the batch is written: batch ids follow the wall clock.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)  # how many event ids
    # The event ids: int8[] on PostgreSQL (unnest), a JSON array on SQLite (json_each).
    event_ids: Mapped[Any] = mapped_column(
        Text().with_variant(ARRAY(BigInteger), "postgresql"))


class State(Base):
    """Small named facts of the pipeline (e.g. up to when raw events were pruned)."""

    __tablename__ = "analytics_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
