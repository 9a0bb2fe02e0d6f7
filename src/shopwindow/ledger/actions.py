"""Ledger writes: post balanced entries idempotently; the commission lifecycle on top.

Every entry is booked under an idempotency key (UNIQUE): calling an action again with the
same key returns the entry already booked and posts nothing. Entries and postings are
never updated or deleted; corrections are reversing entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopwindow.core.clock import as_utc, utcnow
from shopwindow.core.errors import Conflict, Invalid, NotFound, RuleViolation
from shopwindow.core.ids import new_id
from shopwindow.core.money import Money
from shopwindow.db.bulk import insert_many
from shopwindow.db.upsert import insert_ignore_returning
from shopwindow.ledger import queries, rules
from shopwindow.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from shopwindow.ledger.rules import AccountRef, Posting
from shopwindow.outbox import emit, emit_many

BookingRef = int | str  # a booking's entry id or its idempotency key


def _existing(session: Session, key: str, kind: str) -> LedgerEntry | None:
    entry = session.scalars(select(LedgerEntry)
                            .where(LedgerEntry.idempotency_key == key)).one_or_none()
    if entry is not None and entry.kind != kind:
        raise Conflict(f"idempotency key {key!r} was used for a {entry.kind} entry",
                       field="idempotency_key", rule="same_kind")
    return entry


def post_entry(
    session: Session,
    *,
    kind: str,
    idempotency_key: str,
    postings: Iterable[Posting],
    ref_type: str = "",
    ref_id: str = "",
    memo: str = "",
    reverses: int | None = None,
    booking_entry_id: int | None = None,
    settle_after: datetime | None = None,
) -> LedgerEntry:
    """Book a balanced journal entry once per idempotency key; emits ledger.entry_posted.

    A second call with the same key (even concurrently, from another transaction) returns
    the entry already booked and adds no postings.
    """
    if kind not in rules.ENTRY_KINDS:
        raise Invalid(f"unknown entry kind {kind!r}", field="kind", rule="known_kind")
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid("idempotency key must be 1-200 characters", field="idempotency_key",
                      rule="length")
    existing = _existing(session, idempotency_key, kind)
    if existing is not None:
        return existing
    legs = rules.validate_postings(postings)
    accounts = _account_ids(session, {(ref, m.currency) for ref, m in legs})
    entry = LedgerEntry(
        id=new_id(), kind=kind, idempotency_key=idempotency_key, ref_type=ref_type[:40],
        ref_id=str(ref_id)[:200], memo=memo[:500], reverses_entry_id=reverses,
        booking_entry_id=booking_entry_id, settle_after=settle_after, created_at=utcnow())
    if kind == "commission_booked":
        entry.booking_entry_id = entry.id
    try:
        # A SAVEPOINT so that losing a race on the unique key leaves the outer
        # transaction usable: the other transaction's entry is then returned.
        with session.begin_nested():
            session.add(entry)
            session.flush()
            session.add_all([
                LedgerPosting(id=new_id(), entry_id=entry.id,
                              account_id=accounts[(ref, m.currency)], amount=m.amount,
                              currency=m.currency)
                for ref, m in legs
            ])
            session.flush()
    except IntegrityError:
        existing = _existing(session, idempotency_key, kind)
        if existing is not None:
            return existing
        if reverses is not None:
            raise Conflict("this entry has already been reversed", field="entry_id",
                           rule="reversed_once") from None
        raise
    emit(session, "ledger.entry_posted", entry_id=entry.id, kind=kind,
         idempotency_key=idempotency_key, ref_type=entry.ref_type, ref_id=entry.ref_id,
         reverses_entry_id=reverses, booking_entry_id=entry.booking_entry_id,
         postings=[{"kind": ref.kind, "owner_type": ref.owner_type, "owner_id": ref.owner_id,
                    "amount": m.amount, "currency": m.currency} for ref, m in legs])
    return entry


def reverse_entry(session: Session, entry_id: int, key: str, *, memo: str = "") -> LedgerEntry:
    """Book the exact opposite of an entry (a correction); each entry is reversed at most
    once, and a reversal is not itself reversible (book a new correction instead)."""
    existing = _existing(session, key, "reversal")
    if existing is not None:
        return existing
    original = queries.get_entry(session, entry_id)
    if original.kind == "reversal":
        raise RuleViolation("a reversal cannot be reversed; post a new entry",
                            field="entry_id", rule="not_reversal")
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_entry_id == entry_id)):
        raise Conflict("this entry has already been reversed", field="entry_id",
                       rule="reversed_once")
    return post_entry(
        session, kind="reversal", idempotency_key=key,
        postings=[(p.account, -p.amount) for p in original.postings],
        ref_type=original.ref_type, ref_id=original.ref_id,
        memo=memo or f"reversal of entry {entry_id}", reverses=entry_id,
        booking_entry_id=original.booking_entry_id)


# ------------------------------------------------------------------ commission lifecycle


def book_commission(
    session: Session,
    *,
    key: str,
    partner_id: int,
    creator_id: int,
    currency: str,
    commission_minor: int,
    take_rate_bps: int,
    ref_type: str = "",
    ref_id: str = "",
    settle_after: datetime | None = None,
    memo: str = "",
) -> LedgerEntry:
    """Book an attributed order's commission as pending: Dr partner receivable; Cr creator
    pending (creator share) and platform revenue pending (platform share)."""
    creator, platform = rules.split_commission(commission_minor, take_rate_bps)
    if commission_minor == 0:
        raise Invalid("commission must be positive", field="commission_minor", rule="positive")
    postings: list[Posting] = [(rules.partner_receivable(partner_id),
                                Money(commission_minor, currency))]
    if creator:
        postings.append((rules.creator_pending(creator_id), Money(-creator, currency)))
    if platform:
        postings.append((rules.platform_revenue_pending(), Money(-platform, currency)))
    return post_entry(session, kind="commission_booked", idempotency_key=key,
                      postings=postings, ref_type=ref_type, ref_id=ref_id, memo=memo,
                      settle_after=as_utc(settle_after) if settle_after else None)


def _booking_id(session: Session, booking: BookingRef) -> int:
    if isinstance(booking, str):
        found = queries.find_entry_id(session, booking)
        if found is None:
            raise NotFound("No such commission booking", field="booking")
        return found
    return booking


def _lock_booking(session: Session, booking_id: int) -> queries.BookingState:
    # Serialises settlement and refunds of one booking on PostgreSQL (SQLite's write
    # transactions are already serial). Only a lock: the row is never updated.
    session.execute(select(LedgerEntry.id).where(LedgerEntry.id == booking_id).with_for_update())
    return queries.booking_state(session, booking_id)


def _ref(session: Session, booking_id: int) -> tuple[str, str]:
    row = session.execute(select(LedgerEntry.ref_type, LedgerEntry.ref_id)
                          .where(LedgerEntry.id == booking_id)).one()
    return row[0], row[1]


def settle_commission(
    session: Session, *, booking: BookingRef, key: str | None = None,
    now: datetime | None = None, force: bool = False,
) -> LedgerEntry | None:
    """Move what remains pending of a booking to available (creator) and earned revenue
    (platform) once its return window has closed. None if nothing is left to settle."""
    booking_id = _booking_id(session, booking)
    key = key or f"commission_settled:{booking_id}"
    existing = _existing(session, key, "commission_settled")
    if existing is not None:
        return existing
    state = _lock_booking(session, booking_id)
    if state.settled:
        raise Conflict("this commission is already settled", field="booking",
                       rule="settled_once")
    when = as_utc(now) if now else utcnow()
    if not force and state.settle_after is not None and when < state.settle_after:
        raise RuleViolation("the return window is still open", field="booking",
                            rule="window_closed")
    cur = state.currency
    postings: list[Posting] = []
    if state.creator_pending and state.creator_id is not None:
        postings += [(rules.creator_pending(state.creator_id), Money(state.creator_pending, cur)),
                     (rules.creator_available(state.creator_id),
                      Money(-state.creator_pending, cur))]
    if state.platform_pending:
        postings += [(rules.platform_revenue_pending(), Money(state.platform_pending, cur)),
                     (rules.platform_revenue(), Money(-state.platform_pending, cur))]
    if not postings:
        return None
    ref_type, ref_id = _ref(session, booking_id)
    return post_entry(session, kind="commission_settled", idempotency_key=key,
                      postings=postings, ref_type=ref_type, ref_id=ref_id,
                      booking_entry_id=booking_id, memo="return window closed")


def settle_due(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[int]:
    """The settlement job's step: settle every booking whose window closed; returns the
    ids of the settlement entries booked (idempotent: run it as often as you like)."""
    when = as_utc(now) if now else utcnow()
    done: list[int] = []
    for booking_id in queries.due_for_settlement(session, when, limit):
        entry = settle_commission(session, booking=booking_id, now=when)
        if entry is not None:
            done.append(entry.id)
    return done


def reverse_commission(
    session: Session, *, key: str, booking: BookingRef, amount_minor: int | None = None,
    memo: str = "",
) -> LedgerEntry | None:
    """Reverse (part of) a booking's commission for a refund: while pending it comes out
    of pending, after settlement out of available and earned revenue (the creator's
    available balance may go negative: it is carried, not hidden). Cr partner receivable.

    `amount_minor` None reverses everything outstanding (None if nothing is); more than
    is outstanding is a rule violation (compute it with `rules.refund_share`).
    """
    existing = _existing(session, key, "refund_reversal")
    if existing is not None:
        return existing
    booking_id = _booking_id(session, booking)
    state = _lock_booking(session, booking_id)
    amount = state.outstanding if amount_minor is None else amount_minor
    if amount_minor is None and amount == 0:
        return None
    postings = _reversal_postings(state, amount)
    ref_type, ref_id = _ref(session, booking_id)
    return post_entry(session, kind="refund_reversal", idempotency_key=key, postings=postings,
                      ref_type=ref_type, ref_id=ref_id, booking_entry_id=booking_id,
                      memo=memo or "refund")


def record_payout(
    session: Session, *, key: str, creator_id: int, currency: str, amount_minor: int,
    ref_type: str = "payout", ref_id: str = "", memo: str = "",
) -> LedgerEntry:
    """Pay a creator from their available balance: Dr creator available, Cr creator paid
    out. Refused beyond the available balance (a negative balance blocks payouts)."""
    existing = _existing(session, key, "payout")
    if existing is not None:
        return existing
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise Invalid("payout must be a positive int of minor units", field="amount_minor",
                      rule="positive")
    available = queries.balance(session, rules.creator_available(creator_id)).get(
        currency, Money(0, currency))
    if amount_minor > available.amount:
        raise RuleViolation(f"only {available.format()} is available", field="amount_minor",
                            rule="max_available")
    return post_entry(session, kind="payout", idempotency_key=key, postings=[
        (rules.creator_available(creator_id), Money(amount_minor, currency)),
        (rules.creator_paid_out(creator_id), Money(-amount_minor, currency)),
    ], ref_type=ref_type, ref_id=ref_id or key, memo=memo)


# ------------------------------------------------------------------ set-based bookings
# Postback ingestion books the commissions of many orders in one transaction: the same
# entries and keys as the one-at-a-time actions above, in a handful of statements.


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """One journal entry to post with `post_entries`."""

    kind: str
    idempotency_key: str
    postings: Sequence[Posting]
    ref_type: str = ""
    ref_id: str = ""
    memo: str = ""
    booking_entry_id: int | None = None
    settle_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommissionBooking:
    """Arguments of one `book_commission` call."""

    key: str
    partner_id: int
    creator_id: int
    currency: str
    commission_minor: int
    take_rate_bps: int
    ref_type: str = ""
    ref_id: str = ""
    settle_after: datetime | None = None
    memo: str = ""


@dataclass(frozen=True, slots=True)
class CommissionReversal:
    """Arguments of one `reverse_commission` call (booking given by its key)."""

    key: str
    booking_key: str
    amount_minor: int
    memo: str = "refund"


# Hot-path statements, built once with expanding parameters and run on the connection:
# through the ORM session a rebuilt statement cost ~4x as much as the query itself.
ENTRY_TABLE: Table = LedgerEntry.__table__  # type: ignore[assignment]
ACCOUNT_TABLE: Table = LedgerAccount.__table__  # type: ignore[assignment]
POSTING_TABLE: Table = LedgerPosting.__table__  # type: ignore[assignment]
_E, _A = ENTRY_TABLE.c, ACCOUNT_TABLE.c
_ACCOUNT_KEY = (_A.kind, _A.owner_type, _A.owner_id, _A.currency)
_READ_ACCOUNTS = select(_A.id, *_ACCOUNT_KEY).where(
    tuple_(*_ACCOUNT_KEY).in_(bindparam("keys", expanding=True)))
_EXISTING = select(_E.idempotency_key, _E.id, _E.kind).where(
    _E.idempotency_key.in_(bindparam("keys", expanding=True)))


def _account_ids(
    session: Session, keys: set[tuple[AccountRef, str]]
) -> dict[tuple[AccountRef, str], int]:
    """Get or create the ledger accounts for (ref, currency) pairs."""
    # Read first: accounts are created once and then only read, so the usual batch needs
    # one statement; only missing ones are inserted (ON CONFLICT DO NOTHING: a concurrent
    # transaction may create the same account) and read again.
    ordered = sorted(keys)
    found = _read_accounts(session, ordered)
    missing = [k for k in ordered if k not in found]
    if missing:
        now = utcnow()
        insert_ignore_returning(session, LedgerAccount.__table__, [
            {"id": new_id(), "kind": r.kind, "owner_type": r.owner_type,
             "owner_id": r.owner_id, "currency": cur, "created_at": now}
            for r, cur in missing], LedgerAccount.id)
        found.update(_read_accounts(session, missing))
    return found


def _read_accounts(session: Session, keys: Sequence[tuple[AccountRef, str]]
                   ) -> dict[tuple[AccountRef, str], int]:
    rows = session.connection().execute(_READ_ACCOUNTS, {"keys": [
        (r.kind, r.owner_type, r.owner_id, cur) for r, cur in keys]})
    return {(AccountRef(k, t, int(o)), c): int(i) for i, k, t, o, c in rows}


def _existing_ids(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    if not keys:
        return {}
    return {k: (int(i), kind) for k, i, kind in session.connection().execute(
        _EXISTING, {"keys": list(keys)})}


def post_entries(session: Session, specs: Sequence[EntrySpec], *,
                 checked: bool = False) -> dict[str, int]:
    """Post many balanced entries, each once per idempotency key; returns key → entry id.

    Keys already booked (earlier, by a concurrent transaction, or twice in `specs`) map to
    the entry booked first and post nothing, exactly as `post_entry`. Emits
    ledger.entry_posted for every entry actually posted. `checked`: the caller has just
    looked the keys up in this transaction and found none booked (the read is skipped; a
    concurrent booking is still caught by the unique key).
    """
    legs: dict[str, list[Posting]] = {}
    todo: list[EntrySpec] = []
    for spec in specs:
        if spec.kind not in rules.ENTRY_KINDS:
            raise Invalid(f"unknown entry kind {spec.kind!r}", field="kind", rule="known_kind")
        if not spec.idempotency_key or len(spec.idempotency_key) > 200:
            raise Invalid("idempotency key must be 1-200 characters", field="idempotency_key",
                          rule="length")
        if spec.idempotency_key not in legs:
            legs[spec.idempotency_key] = rules.validate_postings(spec.postings)
            todo.append(spec)
    found = {} if checked else _existing_ids(session, list(legs))
    for key, (_id, kind) in found.items():
        wanted = next(s.kind for s in todo if s.idempotency_key == key)
        if kind != wanted:
            raise Conflict(f"idempotency key {key!r} was used for a {kind} entry",
                           field="idempotency_key", rule="same_kind")
    out = {k: v[0] for k, v in found.items()}
    todo = [s for s in todo if s.idempotency_key not in found]
    if not todo:
        return out
    accounts = _account_ids(session, {(ref, m.currency) for s in todo
                                           for ref, m in legs[s.idempotency_key]})
    now = utcnow()
    rows = []
    for s in todo:
        eid = new_id()
        rows.append({
            "id": eid, "kind": s.kind, "idempotency_key": s.idempotency_key,
            "ref_type": s.ref_type[:40], "ref_id": str(s.ref_id)[:200], "memo": s.memo[:500],
            "reverses_entry_id": None,
            "booking_entry_id": eid if s.kind == "commission_booked" else s.booking_entry_id,
            "settle_after": as_utc(s.settle_after) if s.settle_after else None,
            "created_at": now})
    # Sorted by key so concurrent transactions meet on the unique index in the same order.
    rows.sort(key=lambda r: str(r["idempotency_key"]))
    posted = {str(k): int(i) for i, k in insert_ignore_returning(
        session, LedgerEntry.__table__, rows, LedgerEntry.id, LedgerEntry.idempotency_key)}
    lost = [s.idempotency_key for s in todo if s.idempotency_key not in posted]
    out.update({k: v[0] for k, v in _existing_ids(session, lost).items()})
    by_key = {r["idempotency_key"]: r for r in rows}
    postings = [{"id": new_id(), "entry_id": eid, "account_id": accounts[(ref, m.currency)],
                 "amount": m.amount, "currency": m.currency}
                for key, eid in posted.items() for ref, m in legs[key]]
    insert_many(session.connection(), POSTING_TABLE, postings)
    emit_many(session, [("ledger.entry_posted", {
        "entry_id": eid, "kind": by_key[key]["kind"], "idempotency_key": key,
        "ref_type": by_key[key]["ref_type"], "ref_id": by_key[key]["ref_id"],
        "reverses_entry_id": None, "booking_entry_id": by_key[key]["booking_entry_id"],
        "postings": [{"kind": ref.kind, "owner_type": ref.owner_type, "owner_id": ref.owner_id,
                      "amount": m.amount, "currency": m.currency} for ref, m in legs[key]]})
        for key, eid in posted.items()])
    out.update(posted)
    return out


def book_commissions(session: Session, bookings: Sequence[CommissionBooking]) -> dict[str, int]:
    """`book_commission` for many bookings at once; returns key → booking entry id."""
    specs = []
    for b in bookings:
        if b.commission_minor == 0:
            raise Invalid("commission must be positive", field="commission_minor",
                          rule="positive")
        creator, platform = rules.split_commission(b.commission_minor, b.take_rate_bps)
        postings: list[Posting] = [(rules.partner_receivable(b.partner_id),
                                    Money(b.commission_minor, b.currency))]
        if creator:
            postings.append((rules.creator_pending(b.creator_id), Money(-creator, b.currency)))
        if platform:
            postings.append((rules.platform_revenue_pending(), Money(-platform, b.currency)))
        specs.append(EntrySpec("commission_booked", b.key, postings, ref_type=b.ref_type,
                               ref_id=b.ref_id, memo=b.memo, settle_after=b.settle_after))
    return post_entries(session, specs)


def _reversal_postings(state: queries.BookingState, amount: int) -> list[Posting]:
    """Postings that reverse `amount` of a booking: from the partner's receivable, and from
    the creator's and platform's shares, pending first, then available (after settlement)."""
    creator, platform = rules.split_reversal(amount, state.outstanding,
                                             state.platform_outstanding)
    cur = state.currency
    postings: list[Posting] = [(rules.partner_receivable(state.partner_id), Money(-amount, cur))]
    plan: list[tuple[int, AccountRef]] = []
    if creator and state.creator_id is not None:
        from_pending = min(creator, max(state.creator_pending, 0))
        plan += [(from_pending, rules.creator_pending(state.creator_id)),
                 (creator - from_pending, rules.creator_available(state.creator_id))]
    if platform:
        from_pending = min(platform, max(state.platform_pending, 0))
        plan += [(from_pending, rules.platform_revenue_pending()),
                 (platform - from_pending, rules.platform_revenue())]
    return postings + [(ref, Money(n, cur)) for n, ref in plan if n]


def _after(state: queries.BookingState, postings: list[Posting]) -> queries.BookingState:
    delta: dict[str, int] = {}
    for ref, m in postings:
        delta[ref.kind] = delta.get(ref.kind, 0) + rules.natural(ref.kind, m.amount)
    return replace(
        state, outstanding=state.outstanding + delta.get("partner_receivable", 0),
        creator_pending=state.creator_pending + delta.get("creator_pending", 0),
        creator_available=state.creator_available + delta.get("creator_available", 0),
        platform_pending=state.platform_pending + delta.get("platform_revenue_pending", 0),
        platform_revenue=state.platform_revenue + delta.get("platform_revenue", 0))


def reverse_commissions(session: Session,
                        reversals: Sequence[CommissionReversal]) -> dict[str, int]:
    """`reverse_commission` (with an amount) for many reversals at once, in the given
    order (several may hit one booking); returns key → reversal entry id. The bookings are
    locked and read in one go; keys already booked post nothing."""
    if not reversals:
        return {}
    # One read for the reversal keys and their bookings' keys.
    keys = {r.key for r in reversals}
    known = _existing_ids(session, sorted(keys | {r.booking_key for r in reversals}))
    done = {k: v for k, v in known.items() if k in keys}
    for key, (_id, kind) in done.items():
        if kind != "refund_reversal":
            raise Conflict(f"idempotency key {key!r} was used for a {kind} entry",
                           field="idempotency_key", rule="same_kind")
    todo = [r for r in reversals if r.key not in done]
    booking_ids = {r.booking_key: known[r.booking_key][0] for r in todo
                   if r.booking_key in known and known[r.booking_key][1] == "commission_booked"}
    states = queries.booking_states(session, list(booking_ids.values()), lock=True)
    specs = []
    seen: set[str] = set()
    for r in todo:
        if r.key in seen:
            continue
        seen.add(r.key)
        bid = booking_ids.get(r.booking_key)
        if bid is None or bid not in states:
            raise NotFound("No such commission booking", field="booking")
        postings = _reversal_postings(states[bid], r.amount_minor)
        states[bid] = _after(states[bid], postings)
        ref_type, ref_id = states[bid].ref_type, states[bid].ref_id
        specs.append(EntrySpec("refund_reversal", r.key, postings, ref_type=ref_type,
                               ref_id=ref_id, memo=r.memo or "refund", booking_entry_id=bid))
    out = {k: v[0] for k, v in done.items()}
    out.update(post_entries(session, specs, checked=True))
    return out
