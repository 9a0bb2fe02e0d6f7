"""Ledger reads: balances, per-reference trails, trial balance, entry listings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased

from shopwindow.core.errors import NotFound
from shopwindow.core.money import Money
from shopwindow.core.pagination import Page
from shopwindow.ledger import rules
from shopwindow.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from shopwindow.ledger.rules import AccountRef

# ------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class PostingView:
    """One leg: the account it hits and the signed (debit-positive) amount."""

    account: AccountRef
    amount: Money


@dataclass(frozen=True, slots=True)
class EntryView:
    """A journal entry with its postings."""

    id: int
    kind: str
    idempotency_key: str
    ref_type: str
    ref_id: str
    memo: str
    created_at: datetime
    reverses_entry_id: int | None
    booking_entry_id: int | None
    settle_after: datetime | None
    postings: tuple[PostingView, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CreatorBalances:
    """A creator's commission in one currency, on the normal (credit) side."""

    pending: Money
    available: Money
    paid_out: Money

    @property
    def total(self) -> Money:
        """Everything earned and not reversed: pending + available + paid out."""
        return self.pending + self.available + self.paid_out


@dataclass(frozen=True, slots=True)
class BookingState:
    """What is left of one commission booking, from the postings of its entry group."""

    booking_id: int
    currency: str
    partner_id: int
    creator_id: int | None
    outstanding: int  # commission still owed by the partner for this booking
    creator_pending: int
    creator_available: int
    platform_pending: int
    platform_revenue: int
    settled: bool
    settle_after: datetime | None
    ref_type: str = ""  # what the booking is for (e.g. tracking_order and its id)
    ref_id: str = ""

    @property
    def creator_outstanding(self) -> int:
        return self.creator_pending + self.creator_available

    @property
    def platform_outstanding(self) -> int:
        return self.platform_pending + self.platform_revenue


def _views(session: Session, entries: Sequence[LedgerEntry]) -> list[EntryView]:
    ids = [e.id for e in entries]
    legs: dict[int, list[PostingView]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(LedgerPosting.entry_id, LedgerPosting.amount, LedgerPosting.currency,
                   LedgerAccount.kind, LedgerAccount.owner_type, LedgerAccount.owner_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerPosting.entry_id.in_(ids))
            .order_by(LedgerPosting.entry_id, LedgerPosting.id))
        for entry_id, amount, currency, kind, owner_type, owner_id in rows:
            legs[entry_id].append(PostingView(AccountRef(kind, owner_type, owner_id),
                                              Money(int(amount), currency)))
    return [
        EntryView(e.id, e.kind, e.idempotency_key, e.ref_type, e.ref_id, e.memo, e.created_at,
                  e.reverses_entry_id, e.booking_entry_id, e.settle_after, tuple(legs[e.id]))
        for e in entries
    ]


# ------------------------------------------------------------------ entries


def get_entry(session: Session, entry_id: int) -> EntryView:
    """One entry with its postings; NotFound if missing."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound("No such ledger entry", field="entry_id")
    return _views(session, [entry])[0]


def find_entry_id(session: Session, idempotency_key: str) -> int | None:
    """Id of the entry booked under this idempotency key, if any."""
    return session.scalar(select(LedgerEntry.id)
                          .where(LedgerEntry.idempotency_key == idempotency_key))


def entries_for_ref(session: Session, ref_type: str, ref_id: str) -> list[EntryView]:
    """The trail of one business object (an order, a line), oldest first."""
    rows = session.scalars(select(LedgerEntry)
                           .where(LedgerEntry.ref_type == ref_type, LedgerEntry.ref_id == ref_id)
                           .order_by(LedgerEntry.id)).all()
    return _views(session, rows)


def list_entries(
    session: Session, page: Page, *, kind: str | None = None,
    account: AccountRef | None = None, currency: str | None = None,
) -> list[EntryView]:
    """Entries newest first with max_id/since_id/min_id cursors; optionally those touching
    one account (any currency unless given)."""
    stmt = select(LedgerEntry)
    if kind is not None:
        stmt = stmt.where(LedgerEntry.kind == kind)
    if account is not None:
        acct = and_(LedgerAccount.id == LedgerPosting.account_id,
                    LedgerAccount.kind == account.kind,
                    LedgerAccount.owner_type == account.owner_type,
                    LedgerAccount.owner_id == account.owner_id)
        if currency is not None:
            acct = and_(acct, LedgerAccount.currency == currency)
        stmt = stmt.where(exists().where(LedgerPosting.entry_id == LedgerEntry.id, acct))
    col = LedgerEntry.id
    if page.max_id is not None:
        stmt = stmt.where(col < page.max_id)
    if page.since_id is not None:
        stmt = stmt.where(col > page.since_id)
    if page.min_id is not None:
        rows = list(session.scalars(stmt.where(col > page.min_id)
                                    .order_by(col.asc()).limit(page.limit)))
        rows.reverse()
    else:
        rows = list(session.scalars(stmt.order_by(col.desc()).limit(page.limit)))
    return _views(session, rows)


# ------------------------------------------------------------------ balances


def balance(session: Session, ref: AccountRef) -> dict[str, Money]:
    """An account's balance per currency, on its normal side (may be negative)."""
    rows = session.execute(
        select(LedgerAccount.currency, func.coalesce(func.sum(LedgerPosting.amount), 0))
        .select_from(LedgerAccount)
        .outerjoin(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == ref.kind, LedgerAccount.owner_type == ref.owner_type,
               LedgerAccount.owner_id == ref.owner_id)
        .group_by(LedgerAccount.currency))
    return {cur: Money(rules.natural(ref.kind, int(s)), cur) for cur, s in rows}


def owner_balances(session: Session, owner_type: str, owner_id: int) -> dict[str, dict[str, Money]]:
    """Every account of an owner: {kind: {currency: balance on the normal side}}."""
    rows = session.execute(
        select(LedgerAccount.kind, LedgerAccount.currency,
               func.coalesce(func.sum(LedgerPosting.amount), 0))
        .select_from(LedgerAccount)
        .outerjoin(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .where(LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id)
        .group_by(LedgerAccount.kind, LedgerAccount.currency))
    out: dict[str, dict[str, Money]] = defaultdict(dict)
    for kind, cur, s in rows:
        out[kind][cur] = Money(rules.natural(kind, int(s)), cur)
    return dict(out)


def creator_balances(session: Session, creator_id: int) -> dict[str, CreatorBalances]:
    """A creator's pending / available / paid-out commission per currency."""
    by_kind = owner_balances(session, "account", creator_id)
    currencies = {c for k in ("creator_pending", "creator_available", "creator_paid_out")
                  for c in by_kind.get(k, {})}

    def get(kind: str, cur: str) -> Money:
        return by_kind.get(kind, {}).get(cur, Money(0, cur))

    return {cur: CreatorBalances(get("creator_pending", cur), get("creator_available", cur),
                                 get("creator_paid_out", cur))
            for cur in sorted(currencies)}


def partner_balances(session: Session, partner_id: int) -> dict[str, Money]:
    """Commission a partner owes per currency (negative: the platform owes the partner)."""
    return balance(session, rules.partner_receivable(partner_id))


def trial_balance(session: Session) -> dict[str, int]:
    """Sum of all postings per currency; every value is 0 in a healthy ledger."""
    rows = session.execute(select(LedgerPosting.currency, func.sum(LedgerPosting.amount))
                           .group_by(LedgerPosting.currency))
    return {cur: int(s) for cur, s in rows}


def unbalanced_entries(session: Session, limit: int = 100) -> list[int]:
    """Ids of entries whose postings do not sum to zero in some currency (should be none)."""
    rows = session.execute(select(LedgerPosting.entry_id)
                           .group_by(LedgerPosting.entry_id, LedgerPosting.currency)
                           .having(func.sum(LedgerPosting.amount) != 0)
                           .limit(limit))
    return sorted({r[0] for r in rows})


# ------------------------------------------------------------------ commission bookings


# Aliases built once: aliased() makes proxy columns on first use of each attribute, which
# per call was a quarter of a postback batch's ledger time.
_SETTLED = aliased(LedgerEntry, name="settled")
_SETTLED_REV = aliased(LedgerEntry, name="settled_rev")
_BOOKING = aliased(LedgerEntry, name="booking")
_GROUP = aliased(LedgerEntry, name="grp")


def _settled_clause(booking_col: Any) -> Any:
    settled, rev = _SETTLED, _SETTLED_REV
    return exists().where(
        settled.booking_entry_id == booking_col, settled.kind == "commission_settled",
        ~exists().where(rev.reverses_entry_id == settled.id))


def booking_state(session: Session, booking_id: int) -> BookingState:
    """What remains of one commission booking; NotFound if it is not a booking."""
    session.flush()  # entries the caller added through the ORM count too
    state = booking_states(session, [booking_id]).get(booking_id)
    if state is None:
        raise NotFound("No such commission booking", field="booking")
    return state


def due_for_settlement(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Bookings whose return window closed by `now`, not settled, with something pending."""
    b, g = _BOOKING, _GROUP
    pending_kinds = ("creator_pending", "platform_revenue_pending")
    stmt = (
        select(b.id)
        .select_from(b)
        .join(g, g.booking_entry_id == b.id)
        .join(LedgerPosting, LedgerPosting.entry_id == g.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(b.kind == "commission_booked", b.settle_after.is_not(None),
               b.settle_after <= now, LedgerAccount.kind.in_(pending_kinds),
               ~_settled_clause(b.id))
        .group_by(b.id)
        .having(func.sum(LedgerPosting.amount) != 0)
        .order_by(b.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


_E, _A, _P = (LedgerEntry.__table__.c, LedgerAccount.__table__.c,
              LedgerPosting.__table__.c)
# booking_states runs in every postback batch: its statements are built once, with
# expanding parameters, and run on the connection (a rebuilt ORM statement cost ~4x the
# query itself).
_HEADS = select(_E.id, _E.settle_after, _E.ref_type, _E.ref_id).where(
    _E.id.in_(bindparam("ids", expanding=True)), _E.kind == "commission_booked").order_by(_E.id)
_HEADS_LOCKED = _HEADS.with_for_update()
_BOOKING_SUMS = (
    select(_E.booking_entry_id, _A.kind, _A.owner_id, _A.currency, func.sum(_P.amount))
    .select_from(LedgerPosting.__table__)
    .join(LedgerEntry.__table__, _E.id == _P.entry_id)
    .join(LedgerAccount.__table__, _A.id == _P.account_id)
    .where(_E.booking_entry_id.in_(bindparam("ids", expanding=True)))
    .group_by(_E.booking_entry_id, _A.kind, _A.owner_id, _A.currency))
_REV_T = LedgerEntry.__table__.alias("settled_reversal")
_SETTLED_OF = select(_E.booking_entry_id).where(
    _E.booking_entry_id.in_(bindparam("ids", expanding=True)),
    _E.kind == "commission_settled",
    ~exists().where(_REV_T.c.reverses_entry_id == _E.id))


def booking_states(session: Session, booking_ids: Sequence[int], *,
                   lock: bool = False) -> dict[int, BookingState]:
    """`booking_state` for many bookings in three statements (set-based ingestion); ids
    that are not bookings are left out. `lock` takes the bookings' row locks (PostgreSQL)
    in id order, as `reverse_commission` does one at a time."""
    ids = sorted(set(booking_ids))
    if not ids:
        return {}
    conn = session.connection()
    heads = {int(i): (s, t, r) for i, s, t, r in conn.execute(
        _HEADS_LOCKED if lock else _HEADS, {"ids": ids})}
    if not heads:
        return {}
    rows = conn.execute(_BOOKING_SUMS, {"ids": list(heads)})
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    who: dict[int, tuple[int, int | None, str]] = {}
    for bid, kind, owner_id, cur, total in rows:
        b = int(bid or 0)
        sums[b][kind] += rules.natural(kind, int(total))
        partner_id, creator_id, currency = who.get(b, (0, None, ""))
        if kind == "partner_receivable":
            partner_id, currency = owner_id, cur
        elif kind.startswith("creator_"):
            creator_id = owner_id
        who[b] = (partner_id, creator_id, currency)
    settled = {int(b) for (b,) in conn.execute(_SETTLED_OF, {"ids": list(heads)})}
    out: dict[int, BookingState] = {}
    for b, (settle_after, ref_type, ref_id) in heads.items():
        partner_id, creator_id, currency = who.get(b, (0, None, ""))
        got = sums[b]
        out[b] = BookingState(
            booking_id=b, currency=currency, partner_id=partner_id, creator_id=creator_id,
            outstanding=got["partner_receivable"], creator_pending=got["creator_pending"],
            creator_available=got["creator_available"],
            platform_pending=got["platform_revenue_pending"],
            platform_revenue=got["platform_revenue"], settled=b in settled,
            settle_after=settle_after, ref_type=ref_type, ref_id=ref_id)
    return out
