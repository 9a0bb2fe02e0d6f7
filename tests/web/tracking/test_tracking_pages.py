"""Earnings and operator pages, the cart hand-off form (CSRF), and /go error pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from shopwindow.core.clock import utcnow
from shopwindow.ledger import actions as ledger
from shopwindow.partners import actions as partners
from shopwindow.partners import queries as partners_q
from shopwindow.showcase import actions as showcase
from shopwindow.tracking import queries
from tests.helpers import make_account
from tests.integration.partners.conftest import sim  # noqa: F401
from tests.web.pages.util import HTML, page_csrf, sign_in


def _negative_balance(uow, creator: int, pid: int) -> None:
    with uow() as s:
        ledger.book_commission(s, key="k1", partner_id=pid, creator_id=creator,
                               currency="CNY", commission_minor=1000, take_rate_bps=2000,
                               ref_type="tracking_order", ref_id="1",
                               settle_after=utcnow() - timedelta(days=1))
        ledger.settle_due(s)
        ledger.record_payout(s, key="p1", creator_id=creator, currency="CNY",
                             amount_minor=800)
        ledger.reverse_commission(s, key="r1", booking="k1", amount_minor=1000)


def test_earnings_page_shows_negative_balances_in_chinese(client, uow):
    creator = make_account(uow, "maker", role="creator")
    with uow() as s:
        pid = partners.register_partner(s, slug="shop", name="Shop", domains=["shop.example.com"],
                                        default_rate_bps=1000).id
    _negative_balance(uow, creator, pid)
    r = client.get("/earnings", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")
    sign_in(client, "maker")
    client.cookies.set("sw_locale", "zh-CN")
    r = client.get("/earnings", headers=HTML)
    assert r.status_code == 200
    assert "收益" in r.text and "-8.00 CNY" in r.text and "退款后需退还" in r.text


def test_operator_page_is_for_operators_only(client, uow):
    make_account(uow, "someone", role="creator")
    make_account(uow, "op", role="operator")
    with uow() as s:
        partners.register_partner(s, slug="shop", name="Lumen Shop", domains=["shop.example.com"])
    sign_in(client, "someone")
    assert client.get("/operator/partners", headers=HTML).status_code == 403
    client.cookies.clear()
    sign_in(client, "op")
    r = client.get("/operator/partners", headers=HTML)
    assert r.status_code == 200 and "Lumen Shop" in r.text


def test_go_unknown_recommendation_is_a_page(client):
    r = client.get("/go/12345", headers=HTML, follow_redirects=False)
    assert r.status_code == 404 and "no longer recommended" in r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cart_checkout_hands_off_once_per_partner_with_csrf(client, uow, sim):  # noqa: F811
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "fanny")
    with uow() as s:
        pid = partners.register_partner(s, slug="sim", name="Sim", domains=[
            f"127.0.0.1:{sim.port}"], default_rate_bps=1000).id
    products = [p for p in sim.products() if p["availability"] == "InStock"][:2]
    with uow() as s:
        pub = showcase.publish(s, creator, [{"url": f"{sim.url}/p/{p['id']}",
                                             "reason": "Worth every cent, honestly."}
                                            for p in products])
        recs = [r.id for r in pub.recommendations]
    with uow() as s:
        showcase.cart_add(s, fan, recs[0], 2)
        showcase.cart_add(s, fan, recs[1], 1)
    sign_in(client, "fanny")
    r = client.post(f"/cart/checkout/{pid}", data={"csrf_token": "nope"}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 403
    tok = page_csrf(client, "/")
    r = client.post(f"/cart/checkout/{pid}", data={"csrf_token": tok}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    loc = r.headers["location"]
    assert loc.startswith(f"{sim.url}/")
    token = parse_qs(urlsplit(loc).query)["sw_click"][0]
    with client.app.state.db.read_sessions() as s:
        c = queries.find_click_by_token(s, token)
        assert c.fan_id == fan and c.surface == "cart" and c.partner_id == pid
        assert c.items == {products[0]["id"]: [recs[0], creator, 2],
                           products[1]["id"]: [recs[1], creator, 1]}
    with uow() as s:
        partners.suspend_partner(s, partners_q.get_partner(s, pid))
    r = client.post(f"/cart/checkout/{pid}", data={"csrf_token": tok}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 422 and "location" not in r.headers


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_go_front_door_redirects_with_security_headers(client, uow, sim):  # noqa: F811
    """The 302 is answered before the middleware stack: it must carry the same security
    headers, store its click, and leave error pages to the full stack."""
    creator = make_account(uow, "maker2", role="creator")
    with uow() as s:
        pid = partners.register_partner(s, slug="sim2", name="Sim", domains=[
            f"127.0.0.1:{sim.port}"], default_rate_bps=1000).id
    product = next(p for p in sim.products() if p["availability"] == "InStock")
    with uow() as s:
        pub = showcase.publish(s, creator, [{"url": f"{sim.url}/p/{product['id']}",
                                             "reason": "Worth every cent, honestly."}])
        rid = pub.recommendations[0].id
    ua = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36"}
    r = client.get(f"/go/{rid}?s=feed", headers=ua, follow_redirects=False)
    assert r.status_code == 302
    loc = r.headers["location"]
    assert loc.startswith(f"{sim.url}/p/{product['id']}")
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers.get_list("referrer-policy") == ["no-referrer"]
    token = parse_qs(urlsplit(loc).query)["sw_click"][0]
    assert len(token) == 30
    with client.app.state.db.read_sessions() as s:
        c = queries.find_click_by_token(s, token)
        assert c.recommendation_id == rid and c.surface == "feed" and c.method == "GET"
        assert c.flagged_reason is None
    r = client.head(f"/go/{rid}", headers=ua, follow_redirects=False)
    assert r.status_code == 302
    token = parse_qs(urlsplit(r.headers["location"]).query)["sw_click"][0]
    with client.app.state.db.read_sessions() as s:
        assert queries.find_click_by_token(s, token).flagged_reason == "head"
    # Not a 302: served through the app (error page, with the headers of every page).
    with uow() as s:
        partners.suspend_partner(s, partners_q.get_partner(s, pid))
    r = client.get(f"/go/{rid}", headers={**ua, **HTML}, follow_redirects=False)
    assert r.status_code == 410 and "location" not in r.headers
    assert r.headers["x-frame-options"] == "DENY"
    r = client.get("/go/12345/extra", headers=HTML, follow_redirects=False)
    assert r.status_code == 404


def test_postback_route_behind_the_middleware_answers_like_the_front_door(client, uow):
    """The app's own route (reached when no front door answers) gives the same answers."""
    import json

    from shopwindow.tracking import rules

    with uow() as s:
        p = partners.register_partner(s, slug="routemall", name="Route Mall", domains=[
            "route.example.com"], default_rate_bps=1000)
        secret = p.postback_secret
    body = json.dumps({"type": "order.paid", "sequence": 1, "data": {"order_id": "Z"}})
    signed = rules.sign(secret, "evt_route", utcnow(), body.encode())
    answers = []
    saved = client.app.front_doors
    try:
        for doors in (saved, ()):
            client.app.front_doors = doors
            got = [client.post("/partners/routemall/postbacks", content=body),
                   client.post("/partners/nope/postbacks", content=body),
                   client.post("/partners/routemall/postbacks", content=body,
                               headers=signed),
                   client.post("/partners/routemall/postbacks", content=body,
                               headers=signed)]
            answers.append([(r.status_code, r.headers["content-type"],
                             r.json().get("code") or r.json().get("status"),
                             r.headers["x-frame-options"]) for r in got])
    finally:
        client.app.front_doors = saved
    assert answers[0] == [
        (401, "application/problem+json", "unauthorized", "DENY"),
        (404, "application/problem+json", "not_found", "DENY"),
        (422, "application/problem+json", "invalid", "DENY"),
        (200, "application/json", "duplicate", "DENY")]
    assert answers[1] == [answers[0][0], answers[0][1], (200, "application/json",
                                                         "duplicate", "DENY"),
                          (200, "application/json", "duplicate", "DENY")]
