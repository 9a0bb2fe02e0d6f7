"""ORM tables of the tracking domain (docs/tracking.md).

Other domains' rows are referenced by plain ids (no foreign keys): clicks are a hot,
append-only table that must stay shardable and must survive the deletion of what they point
at (a deleted recommendation still explains an old order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime


class Click(Base):
    """One buy tap (or cart hand-off to one partner): who, what, where from, and when."""

    __tablename__ = "tracking_click"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The public tracking id handed to the partner: unguessable, never the row id.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    fan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    recommendation_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    partner_id: Mapped[int] = mapped_column(BigInteger)
    surface: Mapped[str] = mapped_column(String(20))
    promotion_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Partner product ids handed off with this click: {"71500001": [recommendation_id,
    # creator_id, quantity], …} (one entry for a buy tap, one per item for a cart).
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    method: Mapped[str] = mapped_column(String(8), default="GET")
    flagged_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_tracking_click_fan_partner", "fan_id", "partner_id", "created_at"),
        Index("ix_tracking_click_creator", "creator_id", "id"),
    )


class Order(Base):
    """A partner order as reported by postbacks (the newest snapshot wins)."""

    __tablename__ = "tracking_order"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    partner_id: Mapped[int] = mapped_column(BigInteger)
    external_order_id: Mapped[str] = mapped_column(String(128))
    click_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tracking_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    creator_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recommendation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    attribution: Mapped[str] = mapped_column(String(16))  # attributed | unattributed
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("partner_id", "external_order_id",
                         name="uq_tracking_order_partner_external"),
        Index("ix_tracking_order_creator", "creator_id", "id"),
    )


class OrderLine(Base):
    """One line of an order with the commission it earns and what refunds took back."""

    __tablename__ = "tracking_order_line"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("tracking_order.id", ondelete="CASCADE"))
    line_id: Mapped[str] = mapped_column(String(64))
    product_ref: Mapped[str] = mapped_column(String(128), default="")
    gtin: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    creator_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recommendation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("order_id", "line_id", name="uq_tracking_order_line_order_line"),
        Index("ix_tracking_order_line_creator", "creator_id", "order_id"),
    )


class Postback(Base):
    """One received postback (replay protection: webhook id unique per partner)."""

    __tablename__ = "tracking_postback"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    partner_id: Mapped[int] = mapped_column(BigInteger)
    webhook_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(40))
    external_order_id: Mapped[str] = mapped_column(String(128), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # processed | stale | rejected
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("partner_id", "webhook_id", name="uq_tracking_postback_partner_webhook"),
    )
