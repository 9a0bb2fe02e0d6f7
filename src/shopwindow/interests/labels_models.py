"""ORM tables of ability labels: training examples, per-account labels, declared verticals.

Verticals are referred to by slug (`interest_vertical.slug`), not by id: examples and
labels survive a vertical being deactivated and the trained model speaks slugs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopwindow.db.base import Base, UTCDateTime


class LabelExample(Base):
    """A labelled text the classifier trains on (operator-written, a correction, declared)."""

    __tablename__ = "interest_label_example"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    vertical: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))  # operator | correction | declared
    # Whose post/recommendation the text came from (corrections, declared); None if typed.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_interest_label_example_vertical", "vertical"),
        Index("ix_interest_label_example_account", "account_id", "source"),
    )


class AccountLabel(Base):
    """An account's ability label: from the model, or set/removed by an operator (wins)."""

    __tablename__ = "interest_account_label"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    vertical: Mapped[str] = mapped_column(String(40), primary_key=True)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # model | operator
    # An operator removed it: hidden, and the model may not bring it back.
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_interest_account_label_vertical", "vertical", "confidence"),)


class DeclaredVertical(Base):
    """A vertical a creator says they create content about (weak training signal)."""

    __tablename__ = "interest_label_declared"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    vertical: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
