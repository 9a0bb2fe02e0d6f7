"""ORM tables of the ledger domain: accounts, journal entries and their postings.

Entries and postings are append-only: no code path updates or deletes them (the ORM
guard below refuses to), corrections are new reversing entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime


class LedgerAccount(Base):
    """One account of the chart: a kind, an owner and one currency."""

    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("kind", "owner_type", "owner_id", "currency",
                         name="uq_ledger_account_kind_owner_currency"),
        Index("ix_ledger_account_owner", "owner_type", "owner_id"),
    )


class LedgerEntry(Base):
    """A journal entry: balanced postings booked together for one business event."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The business event's key: the same event can never be booked twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    ref_type: Mapped[str] = mapped_column(String(40), default="")
    ref_id: Mapped[str] = mapped_column(String(200), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    # Unique: an entry is reversed at most once, even under concurrent calls.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ledger_entry.id"), nullable=True, unique=True)
    # The commission booking this entry belongs to (a booking points at itself).
    booking_entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # When the partner's return window closes (bookings only).
    settle_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_ledger_entry_ref", "ref_type", "ref_id", "id"),
        Index("ix_ledger_entry_booking", "booking_entry_id", "kind"),
        Index("ix_ledger_entry_kind_settle", "kind", "settle_after"),
    )


class LedgerPosting(Base):
    """One leg of an entry: a signed amount (debit positive) on one account."""

    __tablename__ = "ledger_posting"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_entry.id"))
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        Index("ix_ledger_posting_account", "account_id", "entry_id"),
        Index("ix_ledger_posting_entry", "entry_id"),
    )


def _refuse_change(_mapper: Any, _conn: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__name__} is append-only: post a reversing entry")


for _cls in (LedgerEntry, LedgerPosting):
    event.listen(_cls, "before_update", _refuse_change)
    event.listen(_cls, "before_delete", _refuse_change)
