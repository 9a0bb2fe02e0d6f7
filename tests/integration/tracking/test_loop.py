"""Hand-off → partner checkout → signed postbacks → attribution → ledger, with real servers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func, select

from shopwindow.core.clock import clock, utcnow
from shopwindow.ledger import actions as ledger
from shopwindow.ledger import queries as ledger_q
from shopwindow.outbox.events import OutboxEvent
from shopwindow.partners import actions as partners
from shopwindow.tracking import actions, queries, rules
from shopwindow.tracking.models import Click, Order, OrderLine
from tests.helpers import make_account

from .conftest import World, api, assert_balanced


def _events(world: World, etype: str) -> list[dict]:
    with world.db.read_sessions() as s:
        return [dict(r.payload) for r in s.scalars(
            select(OutboxEvent).where(OutboxEvent.type == etype).order_by(OutboxEvent.id))]


def _entries(world: World) -> int:
    with world.db.read_sessions() as s:
        from shopwindow.ledger.models import LedgerEntry  # test-only peek at the table
        return int(s.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def test_handoff_redirects_only_to_the_partner_with_the_tracking_id(world: World) -> None:
    r = world.go(world.recs[1], s="middle_page", p="12345")
    assert r.status_code == 302
    loc = r.headers["location"]
    assert loc.startswith(f"{world.sim.url}/p/{world.products[1]['id']}?")
    token = loc.split("sw_click=")[1]
    assert len(token) == 30
    with world.db.read_sessions() as s:
        c = queries.find_click_by_token(s, token)
        assert c is not None
        assert (c.creator_id, c.recommendation_id, c.partner_id, c.surface, c.promotion_id,
                c.fan_id, c.flagged_reason, c.method) == (
            world.creator_id, world.recs[1], world.partner_id, "middle_page", 12345, None,
            None, "GET")
        assert c.user_agent.startswith("Mozilla/5.0") and len(c.ip_hash) == 32
        assert c.items == {world.products[1]["id"]: [world.recs[1], world.creator_id, 1]}
    ev = _events(world, "tracking.clicks_recorded")
    assert ev[-1]["clicks"][-1]["click_id"] == c.id
    assert ev[-1]["clicks"][-1]["surface"] == "middle_page"
    # Every click gets its own unguessable token.
    assert world.click() != world.click()
    # Unknown recommendation: a page, no redirect.
    assert world.go(999999).status_code == 404
    assert world.go("abc").status_code == 404  # type: ignore[arg-type]


def test_suspended_partner_gets_no_handoff_but_postbacks_still_count(world: World) -> None:
    token = world.click()
    with world.uow() as s:
        from shopwindow.partners import queries as partners_q
        partners.suspend_partner(s, partners_q.get_partner(s, world.partner_id))
    r = world.go(world.recs[0])
    assert r.status_code == 410 and "location" not in r.headers
    o = world.buy(token)
    with world.db.read_sessions() as s:
        assert queries.find_order(s, world.partner_id, o["order_id"]).attribution == "attributed"


def test_head_and_bot_clicks_are_flagged_and_never_attributed(world: World) -> None:
    r = world.go(world.recs[0], method="HEAD")
    assert r.status_code == 302
    head_token = r.headers["location"].split("sw_click=")[1]
    bot_token = world.click(ua="facebookexternalhit/1.1 (+http://www.facebook.com/externalhit)")
    with world.db.read_sessions() as s:
        assert queries.find_click_by_token(s, head_token).flagged_reason == "head"
        assert queries.find_click_by_token(s, bot_token).flagged_reason == "bot"
    o = world.buy(bot_token)
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, o["order_id"])
        assert (order.attribution, order.reason) == ("unattributed", "flagged_click")
        assert order.commission_minor == 0
    body = api(world, world.creator_id, "/api/sw/v1/me/earnings/orders").json()
    assert body["items"][0]["reason"] == "flagged_click"
    assert_balanced(world.db)


def test_checkout_is_attributed_and_books_pending_commission(world: World) -> None:
    token = world.click()
    p = world.products[0]
    o = world.buy(token, qty=2)
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, o["order_id"])
        assert (order.attribution, order.reason, order.status) == ("attributed", None, "paid")
        assert order.creator_id == world.creator_id and order.recommendation_id == world.recs[0]
        (line,) = queries.order_lines(s, order.id)
        rate = 1500 if p["category"] == "beauty" else 1000
        assert line.rate_bps == rate and line.amount_minor == 2 * p["price_minor"]
        expected = (line.amount_minor * rate + 5000) // 10000
        assert abs(line.commission_minor - expected) <= 1 and order.commission_minor > 0
        bal = ledger_q.creator_balances(s, world.creator_id)["CNY"]
        platform = (order.commission_minor * 2000 + 5000) // 10000
        assert abs(bal.pending.amount - (order.commission_minor - platform)) <= 1
        assert bal.available.amount == 0
        assert ledger_q.partner_balances(s, world.partner_id)["CNY"].amount == \
            order.commission_minor
    assert [e["order_id"] for e in _events(world, "tracking.order_recorded")] == [order.id]
    assert [e["order_id"] for e in _events(world, "tracking.commission_booked")] == [order.id]
    earnings = api(world, world.creator_id, "/api/sw/v1/me/earnings").json()
    assert earnings["balances"][0]["pending"]["amount_minor"] == bal.pending.amount
    trail = api(world, world.creator_id, "/api/sw/v1/me/earnings/orders").json()["items"][0]
    assert trail["click"]["surface"] == "feed"
    assert [s["kind"] for s in trail["trail"]] == ["commission_booked"]
    assert_balanced(world.db)


def test_replayed_postbacks_change_nothing(world: World) -> None:
    o = world.buy(world.click())
    before = (_entries(world), world.postbacks())
    events = world.sim.admin("GET", f"/_admin/orders/{o['order_id']}").json()["events"]
    for ev in events:
        r = world.sim.admin("POST", f"/_admin/events/{ev['event_id']}/replay", json={"times": 3})
        assert r.status_code in (200, 202), r.text
    from tests.partnersim.conftest import wait_for
    wait_for(lambda: len([d for d in world.sim.deliveries(order_id=o["order_id"])
                          if d["outcome"] == "delivered"]) >= 2 + 3 * len(events),
             what="replays delivered")
    assert (_entries(world), world.postbacks()) == before
    assert_balanced(world.db)


def test_concurrent_duplicate_postbacks_have_one_effect(world: World) -> None:
    token = world.click()
    now = utcnow()
    payload = {
        "type": "order.paid", "event_id": "evt_dup", "sequence": 2,
        "occurred_at": now.isoformat(), "partner": {"name": "Test Mall", "slug": "test-mall"},
        "data": {"order_id": "DUP-1", "status": "paid", "currency": "CNY",
                 "tracking_id": token, "total_minor": 10000, "refunded_total_minor": 0,
                 "fully_refunded": False, "placed_at": now.isoformat(),
                 "paid_at": now.isoformat(), "cancelled_at": None,
                 "lines": [{"line_id": "L1", "product_id": world.products[0]["id"],
                            "category": "home", "quantity": 1, "unit_price_minor": 10000,
                            "total_minor": 10000, "refunded_minor": 0}]}}
    barrier = threading.Barrier(4)
    results: list[int] = []
    bodies: list[dict] = []

    def send() -> None:
        barrier.wait()
        r = world.post_signed(payload, msg_id="evt_dup")
        results.append(r.status_code)
        bodies.append(r.json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert sorted(b["status"] for b in bodies).count("processed") == 1
    with world.db.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
        order = queries.find_order(s, world.partner_id, "DUP-1")
        assert order.commission_minor == 1000
        assert ledger_q.partner_balances(s, world.partner_id)["CNY"].amount == 1000
    assert world.postbacks() == 1
    assert_balanced(world.db)


def test_refund_before_paid_converges(world: World) -> None:
    token = world.click()
    world.sim.admin("POST", "/_admin/hold", json={"on": True})
    o = world.sim.checkout([(world.products[0]["id"], 2)], tracking_id=token)
    oid = o["order_id"]
    r = world.sim.admin("POST", f"/_admin/orders/{oid}/refund",
                        json={"amount_minor": world.products[0]["price_minor"]})
    assert r.status_code in (200, 201), r.text
    world.sim.admin("POST", "/_admin/release", json={"reverse": True})
    order = world.order(oid, min_sequence=3)
    from tests.partnersim.conftest import wait_for
    wait_for(lambda: world.postbacks() == 3, what="all three postbacks")
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, oid)
        assert order.status == "partially_refunded" and order.attribution == "attributed"
        (line,) = queries.order_lines(s, order.id)
        assert line.refunded_minor == world.products[0]["price_minor"]
        assert line.reversed_minor == (line.commission_minor + 1) // 2 or \
            line.reversed_minor == line.commission_minor // 2
        bal = ledger_q.creator_balances(s, world.creator_id)["CNY"]
        assert bal.pending.amount > 0
        assert ledger_q.partner_balances(s, world.partner_id)["CNY"].amount == \
            line.commission_minor - line.reversed_minor
    assert_balanced(world.db)


def test_refund_after_settlement_makes_available_negative(world: World) -> None:
    o = world.buy(world.click())
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, o["order_id"])
    with world.uow() as s:
        assert actions.settle_now(s) == []  # the return window is open
    clock.advance(timedelta(days=16))
    with world.uow() as s:
        assert len(actions.settle_now(s)) == 1
    clock.reset()
    with world.db.read_sessions() as s:
        bal = ledger_q.creator_balances(s, world.creator_id)["CNY"]
    assert bal.pending.amount == 0 and bal.available.amount > 0
    with world.uow() as s:
        ledger.record_payout(s, key="payout-1", creator_id=world.creator_id, currency="CNY",
                             amount_minor=bal.available.amount)
    r = world.sim.admin("POST", f"/_admin/orders/{o['order_id']}/refund", json={})
    assert r.status_code in (200, 201), r.text
    world.order(o["order_id"], min_sequence=3)
    with world.db.read_sessions() as s:
        after = ledger_q.creator_balances(s, world.creator_id)["CNY"]
        assert after.available.amount == -bal.available.amount
        assert after.total.amount == 0
        assert ledger_q.partner_balances(s, world.partner_id)["CNY"].amount == 0
        assert queries.find_order(s, world.partner_id, o["order_id"]).reversed_minor == \
            order.commission_minor
    earnings = api(world, world.creator_id, "/api/sw/v1/me/earnings").json()["balances"][0]
    assert earnings["available"]["amount_minor"] == -bal.available.amount
    trail = api(world, world.creator_id, "/api/sw/v1/me/earnings/orders").json()["items"][0]
    assert [s["kind"] for s in trail["trail"]] == [
        "commission_booked", "commission_settled", "commission_settled", "refund_reversal"]
    assert_balanced(world.db)


def test_bad_signatures_and_stale_timestamps_are_refused(world: World) -> None:
    payload = {"type": "order.paid", "sequence": 1, "data": {"order_id": "X"}}
    from shopwindow.partnersim.signing import generate_secret
    r = world.post_signed(payload, secret=generate_secret())
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    # Answered in front of the middleware: the security headers are still there, once.
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    r = world.post_signed(payload, at=utcnow() - timedelta(minutes=6))
    assert r.status_code == 401 and r.json()["detail"] == "stale_timestamp"
    r = world.post_signed(payload, at=utcnow() + timedelta(minutes=6))
    assert r.status_code == 401
    r = world.http.post(world.postback_url, content=b"{}")
    assert r.status_code == 401
    r = world.http.post(world.app_server.url + "/partners/nope/postbacks", content=b"{}")
    assert r.status_code == 404
    assert world.postbacks() == 0
    # A verified but malformed event is stored as rejected and answered 422 (not retried).
    r = world.post_signed(payload, msg_id="evt_bad")
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert world.postbacks() == 1


def test_oversized_postbacks_are_refused_before_anything_is_stored(world: World) -> None:
    from shopwindow.tracking.postbacks import MAX_BODY

    payload = {"type": "order.paid", "sequence": 1, "data": {"order_id": "BIG",
                                                            "pad": "x" * MAX_BODY}}
    body = json.dumps(payload).encode()
    headers = rules.sign(world.secret, "evt_big", utcnow(), body)
    r = world.http.post(world.postback_url, content=body, headers=headers)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "too_large"
    assert r.headers.get_list("x-frame-options") == ["DENY"]

    def chunks() -> Iterator[bytes]:  # no content-length: counted while reading
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    r = world.http.post(world.postback_url, content=chunks(), headers={
        k: v for k, v in headers.items() if k.lower() != "content-length"})
    assert r.status_code == 413 and r.json()["detail"] == "Body too large"
    assert world.postbacks() == 0
    # a normal-sized, signed event right after is answered as usual (the connection and
    # the ingester are fine)
    r = world.post_signed({"type": "order.paid", "sequence": 1, "data": {"order_id": "X"}},
                          msg_id="evt_small")
    assert r.status_code == 422 and world.postbacks() == 1


def test_unknown_click_foreign_currency_and_expired_click(world: World) -> None:
    o = world.buy("unknownclickid0000000")
    none = world.buy(None)
    clock.advance(timedelta(days=-8))
    old_token = world.click()
    clock.reset()
    expired = world.buy(old_token)
    token = world.click()
    now = utcnow().isoformat()
    r = world.post_signed({
        "type": "order.paid", "sequence": 2, "data": {
            "order_id": "USD-1", "status": "paid", "currency": "USD", "tracking_id": token,
            "total_minor": 500, "refunded_total_minor": 0, "placed_at": now, "paid_at": now,
            "lines": [{"line_id": "L1", "product_id": "1", "quantity": 1,
                       "total_minor": 500, "refunded_minor": 0}]}}, msg_id="evt_usd")
    assert r.status_code == 200, r.text
    with world.db.read_sessions() as s:
        got = {ext: (q.attribution, q.reason, q.commission_minor) for ext in (
            o["order_id"], none["order_id"], expired["order_id"], "USD-1")
            for q in [queries.find_order(s, world.partner_id, ext)]}
        assert got == {o["order_id"]: ("unattributed", "unknown_click", 0),
                       none["order_id"]: ("unattributed", "no_tracking_id", 0),
                       expired["order_id"]: ("unattributed", "click_expired", 0),
                       "USD-1": ("unattributed", "foreign_currency", 0)}
        assert ledger_q.creator_balances(s, world.creator_id) == {}
    reasons = {i["reason"] for i in api(world, world.creator_id,
                                        "/api/sw/v1/me/earnings/orders").json()["items"]}
    assert reasons == {"click_expired", "foreign_currency"}
    assert_balanced(world.db)


def test_cancel_after_payment_reverses_everything(world: World) -> None:
    o = world.buy(world.click())
    world.sim.admin("POST", f"/_admin/orders/{o['order_id']}/cancel", json={})
    world.order(o["order_id"], min_sequence=3)
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, o["order_id"])
        assert order.status == "cancelled" and order.reversed_minor == order.commission_minor
        assert ledger_q.creator_balances(s, world.creator_id)["CNY"].total.amount == 0
    assert_balanced(world.db)


def test_creators_see_only_their_own_trail_and_operators_see_balances(world: World) -> None:
    world.buy(world.click())
    other = make_account(world.uow, "creator2", role="creator")
    fan = make_account(world.uow, "fan1")
    assert api(world, other, "/api/sw/v1/me/earnings/orders").json()["items"] == []
    assert api(world, fan, "/api/sw/v1/me/earnings").json()["balances"] == []
    assert api(world, world.creator_id, "/api/sw/v1/operator/partner-balances").status_code \
        == 403
    op = make_account(world.uow, "operator1", role="operator")
    rows = api(world, op, "/api/sw/v1/operator/partner-balances").json()["items"]
    assert rows[0]["slug"] == "testmall" and rows[0]["attributed"] == 1
    assert rows[0]["receivable"][0]["amount_minor"] > 0
    one = api(world, op, f"/api/sw/v1/partners/{world.partner_id}/balance").json()
    assert one == rows[0]
    assert api(world, op, "/api/sw/v1/partners/123/balance").status_code == 404


def test_attribution_rule_first_click_by_fan(world: World, monkeypatch) -> None:
    other = make_account(world.uow, "creator3", role="creator")
    with world.uow() as s:
        first = actions.record_click(
            s, items=[actions.ClickItem(world.products[0]["id"], world.recs[0],
                                        world.creator_id, 1)],
            partner_id=world.partner_id, surface="feed", fan_id=4242, promotion_id=None,
            user_agent="Mozilla/5.0", ip_hash="", method="GET",
            at=utcnow() - timedelta(days=1))
        last = actions.record_click(
            s, items=[actions.ClickItem(world.products[0]["id"], world.recs[0], other, 1)],
            partner_id=world.partner_id, surface="feed", fan_id=4242, promotion_id=None,
            user_agent="Mozilla/5.0", ip_hash="", method="GET")
        first_id, last_token = first.id, last.token
    world.app_server.app.state.settings.attribution_rule = "first_click"
    o = world.buy(last_token)
    with world.db.read_sessions() as s:
        order = queries.find_order(s, world.partner_id, o["order_id"])
        assert order.click_id == first_id and order.creator_id == world.creator_id
        assert s.get(Click, first_id) is not None
        assert s.scalar(select(OrderLine.creator_id)) == world.creator_id
