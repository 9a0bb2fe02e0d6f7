"""ORM tables of the notifications domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)  # recipient
    type: Mapped[str] = mapped_column(String(20))  # follow, favourite, reblog, mention
    from_account_id: Mapped[int] = mapped_column(BigInteger)
    post_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The event that caused it: makes the handler idempotent under redelivery.
    source_event_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_notification_account", "account_id", "id"),
        UniqueConstraint("source_event_id", "account_id", "type"),
    )
