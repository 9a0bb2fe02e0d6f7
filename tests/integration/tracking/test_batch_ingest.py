"""Set-based, group-committed postback ingestion on SQLite and PostgreSQL: one batch gives
every postback the answer it would get alone, replays change nothing, one bad event does
not fail the others, acknowledged events are committed."""

from __future__ import annotations

from concurrent.futures import wait
from typing import Any

from sqlalchemy import func, select

from shopwindow.core.clock import utcnow
from shopwindow.db.engine import Database
from shopwindow.ledger import queries as ledger_q
from shopwindow.ledger.models import LedgerEntry
from shopwindow.partners import actions as partners
from shopwindow.tracking import actions, queries
from shopwindow.tracking.models import Postback
from shopwindow.tracking.postbacks import PostbackIngester
from tests.helpers import make_account


def _setup(uow: Any) -> tuple[int, int, list[str]]:
    with uow() as s:
        pid = partners.register_partner(
            s, slug="batchmall", name="Batch Mall", domains=["batch.example.com"],
            default_rate_bps=1000, category_rates={"beauty": 1500}).id
    creator = make_account(uow, "batchcreator", role="creator")
    with uow() as s:
        rows = [actions.click_row(
            items=[actions.ClickItem("P1", 1, creator, 1)], partner_id=pid, surface="feed",
            fan_id=None, promotion_id=None, user_agent="Mozilla/5.0", ip_hash="",
            method="GET") for _ in range(3)]
        actions.record_clicks(s, rows)
    return pid, creator, [r["token"] for r in rows]


def _event(etype: str, seq: int, order: str, token: str, *, refunded: int = 0,
           paid: bool = True) -> dict[str, Any]:
    now = utcnow().isoformat()
    status = {"order.placed": "placed", "order.paid": "paid",
              "order.refunded": "partially_refunded"}[etype]
    return {"type": etype, "sequence": seq, "data": {
        "order_id": order, "status": status, "currency": "CNY", "tracking_id": token,
        "total_minor": 20000, "refunded_total_minor": refunded, "placed_at": now,
        "paid_at": now if paid else None, "cancelled_at": None,
        "lines": [{"line_id": "L1", "product_id": "P1", "category": "beauty",
                   "quantity": 1, "total_minor": 20000, "refunded_minor": refunded}]}}


def _batch(pid: int, tokens: list[str]) -> list[actions.PostbackIn]:
    a, b, c = tokens
    return [
        actions.PostbackIn(pid, "a1", _event("order.placed", 1, "A", a, paid=False)),
        actions.PostbackIn(pid, "a2", _event("order.paid", 2, "A", a)),
        actions.PostbackIn(pid, "a2", _event("order.paid", 2, "A", a)),  # replay in batch
        actions.PostbackIn(pid, "a3", _event("order.refunded", 3, "A", a, refunded=5000)),
        # B: the refund arrives before the payment (out of order), then the late paid.
        actions.PostbackIn(pid, "b3", _event("order.refunded", 3, "B", b, refunded=20000)),
        actions.PostbackIn(pid, "b2", _event("order.paid", 2, "B", b)),
        actions.PostbackIn(pid, "bad", {"type": "order.paid", "sequence": 1,
                                        "data": {"order_id": "X"}}),
        actions.PostbackIn(pid, "c2", _event("order.paid", 2, "C", c)),
    ]


def test_one_batch_answers_each_postback_and_books_the_ledger_once(uow: Any,
                                                                   db: Database) -> None:
    pid, creator, tokens = _setup(uow)
    with uow() as s:
        results = actions.ingest_postbacks(s, _batch(pid, tokens), take_rate_bps=2000)
    assert [(r.status, r.reason) for r in results] == [
        ("processed", None), ("processed", None), ("duplicate", None), ("processed", None),
        ("processed", None), ("stale", "older_sequence"), ("rejected", "bad_currency"),
        ("processed", None)]
    with db.read_sessions() as s:
        a, b, c = (queries.find_order(s, pid, x) for x in "ABC")
        assert a is not None and b is not None and c is not None
        assert (a.attribution, a.commission_minor, a.reversed_minor) == \
            ("attributed", 3000, 750)
        # Fully refunded before the payment was reported: booked and reversed entirely.
        assert (b.status, b.commission_minor, b.reversed_minor) == \
            ("partially_refunded", 3000, 3000)
        assert (c.commission_minor, c.reversed_minor) == (3000, 0)
        assert ledger_q.partner_balances(s, pid)["CNY"].amount == 3000 - 750 + 3000
        pending = ledger_q.creator_balances(s, creator)["CNY"].pending.amount
        assert pending == (3000 - 750 + 3000) * 8 // 10
        assert all(v == 0 for v in ledger_q.trial_balance(s).values())
        assert ledger_q.unbalanced_entries(s) == []
        statuses = dict(s.execute(select(Postback.webhook_id, Postback.status)).all())
        assert statuses == {"a1": "processed", "a2": "processed", "a3": "processed",
                            "b3": "processed", "b2": "stale", "bad": "rejected",
                            "c2": "processed"}
        entries = s.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 3 + 2  # three bookings, A's partial and B's full reversal
    # The same batch again (a partner replaying everything): all duplicates, no change.
    with uow() as s:
        again = actions.ingest_postbacks(s, _batch(pid, tokens), take_rate_bps=2000)
    assert {r.status for r in again} == {"duplicate"}
    with db.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == entries
        assert s.scalar(select(func.count()).select_from(Postback)) == 7


def test_ingestion_events_keep_their_order_and_orm_copies_are_refreshed(uow: Any) -> None:
    """Ingestion writes with Core: ORM objects the caller loaded earlier in the same
    session see the new values, and the domain events come out in the order raised
    (the order's events, then the ledger's booking, then the commission event)."""
    from shopwindow.outbox.events import emitted
    from shopwindow.tracking.models import Order, OrderLine

    pid, _creator, tokens = _setup(uow)
    with uow() as s:
        actions.ingest_postbacks(s, [actions.PostbackIn(
            pid, "p1", _event("order.placed", 1, "E", tokens[0], paid=False))],
            take_rate_bps=2000)
    with uow() as s:
        order = queries.find_order(s, pid, "E")
        assert order is not None and order.status == "placed"
        line = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).one()
        assert line.refunded_minor == 0
        actions.ingest_postbacks(s, [
            actions.PostbackIn(pid, "p2", _event("order.paid", 2, "E", tokens[0])),
            actions.PostbackIn(pid, "p3", _event("order.refunded", 3, "E", tokens[0],
                                                 refunded=5000))], take_rate_bps=2000)
        again = s.get(Order, order.id)
        assert again is order and (order.status, order.commission_minor,
                                   order.reversed_minor) == ("partially_refunded", 3000, 750)
        assert (line.refunded_minor, line.reversed_minor) == (5000, 750)
        assert [e.type for e in emitted(s)] == [
            "tracking.order_refunded", "ledger.entry_posted", "tracking.commission_booked",
            "ledger.entry_posted", "tracking.commission_reversed"]
        refunded = next(e for e in emitted(s) if e.type == "tracking.order_refunded")
        # the exact increment travels with the event (read under the order's row lock)
        assert (refunded.payload["refunded_before_minor"],
                refunded.payload["refunded_minor"]) == (0, 5000)


def test_ingester_acknowledges_after_commit_and_isolates_a_failing_event(
        uow: Any, db: Database, settings: Any) -> None:
    pid, _creator, tokens = _setup(uow)
    ing = PostbackIngester(db, settings)
    try:
        good = [ing.submit(actions.PostbackIn(pid, f"g{n}", _event("order.paid", 2, f"G{n}",
                                                                   tok)))
                for n, tok in enumerate(tokens)]
        # A partner that no longer exists (deleted after the signature was checked) makes
        # its batch fail: the others are retried alone and still succeed.
        bad = ing.submit(actions.PostbackIn(pid + 1, "ghost", _event("order.paid", 2, "Z",
                                                                     tokens[0])))
        copy = ing.submit(actions.PostbackIn(pid, "g0", _event("order.paid", 2, "G0",
                                                               tokens[0])))
        assert copy[1] is True and copy[0] is good[0][0]
        wait([f for f, _ in good] + [bad[0]], timeout=30)
        assert [f.result().status for f, _ in good] == ["processed"] * 3
        assert bad[0].exception() is not None
        assert ing.seen(pid, "g1") and not ing.seen(pid + 1, "ghost")
        # Acknowledged means committed: a fresh connection sees every order.
        fresh = Database(db.url)
        try:
            with fresh.read_sessions() as s:
                assert all(queries.find_order(s, pid, f"G{n}") is not None for n in range(3))
                assert s.scalar(select(func.count()).select_from(Postback)) == 3
        finally:
            fresh.dispose()
    finally:
        ing.stop()
