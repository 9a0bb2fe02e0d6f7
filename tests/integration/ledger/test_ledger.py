"""Ledger actions on SQLite and PostgreSQL: balances, events, idempotency, concurrency,
settlement, refunds before and after settlement, append-only entries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Conflict, Invalid, RuleViolation
from shopwindow.core.money import Money
from shopwindow.core.pagination import Page
from shopwindow.ledger import actions as ledger
from shopwindow.ledger import queries, rules
from shopwindow.ledger.models import LedgerEntry, LedgerPosting
from shopwindow.outbox.events import OutboxEvent, emitted

PARTNER, CREATOR = 11, 22


def _events(session, kind=None):
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "ledger.entry_posted")
                           .order_by(OutboxEvent.id)).all()
    return [r.payload for r in rows if kind is None or r.payload["kind"] == kind]


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def _book(uow, key="order-1:line-1", commission=1000, bps=2000, currency="CNY",
          creator=CREATOR, partner=PARTNER, settle_after=None):
    with uow() as s:
        e = ledger.book_commission(
            s, key=key, partner_id=partner, creator_id=creator, currency=currency,
            commission_minor=commission, take_rate_bps=bps, ref_type="order",
            ref_id=key.split(":")[0], settle_after=settle_after)
        return e.id


def _creator(session, creator=CREATOR, cur="CNY"):
    b = queries.creator_balances(session, creator)[cur]
    return b.pending.amount, b.available.amount, b.paid_out.amount


def _platform(session, cur="CNY"):
    return (queries.balance(session, rules.platform_revenue_pending()).get(cur, Money(0, cur))
            .amount,
            queries.balance(session, rules.platform_revenue()).get(cur, Money(0, cur)).amount)


def test_book_commission_posts_balanced_entry_and_emits(uow, session):
    with uow() as s:
        e = ledger.book_commission(s, key="k1", partner_id=PARTNER, creator_id=CREATOR,
                                   currency="CNY", commission_minor=999, take_rate_bps=2000,
                                   ref_type="order", ref_id="o1")
        assert [ev.type for ev in emitted(s)] == ["ledger.entry_posted"]
    view = queries.get_entry(session, e.id)
    assert view.kind == "commission_booked" and view.booking_entry_id == e.id
    assert {(p.account.kind, p.amount.amount) for p in view.postings} == {
        ("partner_receivable", 999), ("creator_pending", -799),
        ("platform_revenue_pending", -200)}
    assert _creator(session) == (799, 0, 0)
    assert _platform(session) == (200, 0)
    assert queries.partner_balances(session, PARTNER) == {"CNY": Money(999, "CNY")}
    assert queries.trial_balance(session) == {"CNY": 0}
    [ev] = _events(session)
    assert ev["entry_id"] == e.id and ev["kind"] == "commission_booked"
    assert ev["ref_type"] == "order" and ev["ref_id"] == "o1"
    assert sorted(p["amount"] for p in ev["postings"]) == [-799, -200, 999]


def test_same_key_books_once(uow, session):
    first = _book(uow)
    second = _book(uow, commission=5000)  # a replay, even with other numbers, books nothing
    assert first == second
    assert _count(session, LedgerEntry) == 1 and _count(session, LedgerPosting) == 3
    assert len(_events(session)) == 1
    assert _creator(session) == (800, 0, 0)


def test_key_reused_for_another_kind_is_a_conflict(uow):
    _book(uow, key="dup")
    with pytest.raises(Conflict), uow() as s:
        ledger.record_payout(s, key="dup", creator_id=CREATOR, currency="CNY", amount_minor=1)


def test_concurrent_duplicate_booking_books_once(uow, session):
    barrier = threading.Barrier(2)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with uow() as s:
                barrier.wait(timeout=10)
                e = ledger.book_commission(
                    s, key="race", partner_id=PARTNER, creator_id=CREATOR, currency="CNY",
                    commission_minor=1000, take_rate_bps=2000, ref_type="order", ref_id="o")
                ids.append(e.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(ids) == 2 and ids[0] == ids[1]
    assert _count(session, LedgerEntry) == 1 and _count(session, LedgerPosting) == 3
    assert len(_events(session)) == 1
    assert _creator(session) == (800, 0, 0)


def test_concurrent_duplicate_inside_larger_transaction_keeps_it_usable(uow, session, db):
    """The loser of the race catches the unique violation in a SAVEPOINT: the rest of its
    transaction (here another booking) still commits."""
    if db.is_sqlite:
        pytest.skip("SQLite write transactions are serial: there is no race to lose")
    started = threading.Event()
    release = threading.Event()

    def winner():
        with uow() as s:
            ledger.book_commission(s, key="race2", partner_id=PARTNER, creator_id=CREATOR,
                                   currency="CNY", commission_minor=100, take_rate_bps=0)
            started.set()
            release.wait(10)

    t = threading.Thread(target=winner)
    t.start()
    started.wait(10)
    with uow() as s:
        other = ledger.book_commission(s, key="other", partner_id=PARTNER, creator_id=CREATOR,
                                       currency="CNY", commission_minor=50, take_rate_bps=0)
        # Blocks on the winner's uncommitted key, then loses: returns the winner's entry.
        threading.Timer(0.3, release.set).start()
        dup = ledger.book_commission(s, key="race2", partner_id=PARTNER, creator_id=CREATOR,
                                     currency="CNY", commission_minor=100, take_rate_bps=0)
    t.join(10)
    assert dup.idempotency_key == "race2" and other.id != dup.id
    assert _count(session, LedgerEntry) == 2
    assert _creator(session) == (150, 0, 0)


def test_settlement_moves_pending_to_available(uow, session):
    booking = _book(uow, settle_after=utcnow() + timedelta(days=7))
    with pytest.raises(RuleViolation), uow() as s:
        ledger.settle_commission(s, booking=booking)
    with uow() as s:
        assert ledger.settle_due(s) == []
        settled = ledger.settle_due(s, now=utcnow() + timedelta(days=8))
    assert len(settled) == 1
    assert _creator(session) == (0, 800, 0)
    assert _platform(session) == (0, 200)
    with uow() as s:  # idempotent: nothing due any more, re-settling returns the same entry
        assert ledger.settle_due(s, now=utcnow() + timedelta(days=9)) == []
        assert ledger.settle_commission(s, booking=booking, force=True).id == settled[0]
    assert [e.kind for e in queries.entries_for_ref(session, "order", "order-1")] == [
        "commission_booked", "commission_settled"]
    assert [ev["kind"] for ev in _events(session)] == ["commission_booked", "commission_settled"]


def test_partial_refund_before_settlement_reverses_pending(uow, session):
    booking = _book(uow)
    share = rules.refund_share(1000, 2500, 10000)  # a quarter of the line refunded
    with uow() as s:
        e = ledger.reverse_commission(s, key="refund-1", booking="order-1:line-1",
                                      amount_minor=share)
        assert e is not None
    assert _creator(session) == (600, 0, 0)
    assert _platform(session) == (150, 0)
    assert queries.partner_balances(session, PARTNER)["CNY"].amount == 750
    with uow() as s:  # settle the rest, then the full remainder is refundable after
        ledger.settle_commission(s, booking=booking)
    assert _creator(session) == (0, 600, 0)
    with uow() as s:
        ledger.reverse_commission(s, key="refund-2", booking=booking)
    assert _creator(session) == (0, 0, 0)
    assert _platform(session) == (0, 0)
    assert queries.partner_balances(session, PARTNER)["CNY"].amount == 0
    with uow() as s:  # nothing left: a further full refund books nothing, more is refused
        assert ledger.reverse_commission(s, key="refund-3", booking=booking) is None
    with pytest.raises(RuleViolation), uow() as s:
        ledger.reverse_commission(s, key="refund-4", booking=booking, amount_minor=1)
    assert queries.trial_balance(session) == {"CNY": 0}
    assert [e.kind for e in queries.entries_for_ref(session, "order", "order-1")] == [
        "commission_booked", "refund_reversal", "commission_settled", "refund_reversal"]


def test_refund_after_payout_drives_available_negative_and_shows_it(uow, session):
    booking = _book(uow)
    with uow() as s:
        ledger.settle_commission(s, booking=booking)
        ledger.record_payout(s, key="payout-1", creator_id=CREATOR, currency="CNY",
                             amount_minor=800)
    assert _creator(session) == (0, 0, 800)
    with uow() as s:
        ledger.reverse_commission(s, key="refund", booking=booking)
    assert _creator(session) == (0, -800, 800)
    assert queries.creator_balances(session, CREATOR)["CNY"].available == Money(-800, "CNY")
    assert queries.creator_balances(session, CREATOR)["CNY"].total == Money(0, "CNY")
    with pytest.raises(RuleViolation), uow() as s:  # negative balance blocks payouts
        ledger.record_payout(s, key="payout-2", creator_id=CREATOR, currency="CNY",
                             amount_minor=1)
    # The next commission pays the debt back first.
    with uow() as s:
        b2 = ledger.book_commission(s, key="order-2:line-1", partner_id=PARTNER,
                                    creator_id=CREATOR, currency="CNY", commission_minor=2000,
                                    take_rate_bps=2000)
        ledger.settle_commission(s, booking=b2.id)
    assert _creator(session) == (0, 800, 800)
    assert queries.trial_balance(session) == {"CNY": 0}


def test_reverse_entry_negates_once(uow, session):
    booking = _book(uow)
    with uow() as s:
        rev = ledger.reverse_entry(s, booking, "fix-1", memo="booked by mistake")
    assert rev.reverses_entry_id == booking
    assert _creator(session) == (0, 0, 0)
    with uow() as s:  # same key: same reversal
        assert ledger.reverse_entry(s, booking, "fix-1").id == rev.id
    with pytest.raises(Conflict), uow() as s:
        ledger.reverse_entry(s, booking, "fix-2")
    with pytest.raises(RuleViolation), uow() as s:
        ledger.reverse_entry(s, rev.id, "fix-3")
    with uow() as s:  # the reversed booking has nothing left to settle
        assert ledger.settle_commission(s, booking=booking) is None
        assert ledger.settle_due(s, now=utcnow() + timedelta(days=365)) == []
    assert queries.trial_balance(session) == {"CNY": 0}


def test_reversing_a_settlement_puts_it_back_to_pending(uow, session):
    booking = _book(uow)
    with uow() as s:
        settled = ledger.settle_commission(s, booking=booking)
        assert settled is not None
    with uow() as s:
        ledger.reverse_entry(s, settled.id, "unsettle")
    assert _creator(session) == (800, 0, 0)
    assert not queries.booking_state(session, booking).settled
    with uow() as s:
        again = ledger.settle_commission(s, booking=booking, key="settle-again")
        assert again is not None
    assert _creator(session) == (0, 800, 0)


def test_multi_currency_entries_balance_per_currency(uow, session):
    with uow() as s:
        ledger.post_entry(s, kind="correction", idempotency_key="fx", postings=[
            (rules.partner_receivable(PARTNER), Money(100, "USD")),
            (rules.platform_revenue(), Money(-100, "USD")),
            (rules.partner_receivable(PARTNER), Money(700, "CNY")),
            (rules.platform_revenue(), Money(-700, "CNY")),
        ], memo="manual")
    assert queries.partner_balances(session, PARTNER) == {
        "USD": Money(100, "USD"), "CNY": Money(700, "CNY")}
    assert queries.trial_balance(session) == {"USD": 0, "CNY": 0}
    with pytest.raises(Invalid), uow() as s:
        ledger.post_entry(s, kind="correction", idempotency_key="bad", postings=[
            (rules.partner_receivable(PARTNER), Money(100, "USD")),
            (rules.platform_revenue(), Money(-100, "CNY")),
        ])
    assert _count(session, LedgerEntry) == 1


def test_entries_and_postings_refuse_updates_and_deletes(uow, session):
    booking = _book(uow)
    with pytest.raises(RuntimeError, match="append-only"), uow() as s:
        e = s.get(LedgerEntry, booking)
        e.memo = "rewritten"
        s.flush()
    with pytest.raises(RuntimeError, match="append-only"), uow() as s:
        s.delete(s.scalars(select(LedgerPosting)).first())
        s.flush()
    assert queries.get_entry(session, booking).memo == ""


def test_list_entries_pages_newest_first(uow, session):
    ids = [_book(uow, key=f"o{i}:l", creator=100 + i % 2) for i in range(5)]
    page1 = queries.list_entries(session, Page(limit=2))
    assert [e.id for e in page1] == ids[::-1][:2]
    page2 = queries.list_entries(session, Page(max_id=page1[-1].id, limit=2))
    assert [e.id for e in page2] == ids[::-1][2:4]
    newer = queries.list_entries(session, Page(min_id=ids[1], limit=2))
    assert [e.id for e in newer] == [ids[3], ids[2]]
    mine = queries.list_entries(session, Page(limit=10),
                                account=rules.creator_pending(101))
    assert [e.id for e in mine] == [ids[3], ids[1]]
    assert queries.list_entries(session, Page(limit=10), kind="payout") == []
