"""Cart hand-off with the partner's cart URL template, against the real simulator: several
items of one partner go to the shop's cart at once, carrying one tracking id."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from shopwindow.showcase import actions as showcase
from shopwindow.tracking import queries
from tests.helpers import make_account
from tests.web.pages.util import HTML, page_csrf, sign_in

from .conftest import World


def test_two_items_hand_off_as_one_cart_at_the_simulator(world: World) -> None:
    fan = make_account(world.uow, "cartfan")
    with world.uow() as s:
        showcase.cart_add(s, fan, world.recs[0], 2)
        showcase.cart_add(s, fan, world.recs[1], 1)
    p0, p1 = world.products[0]["id"], world.products[1]["id"]
    with httpx.Client(base_url=world.app_server.url, timeout=10) as app:
        sign_in(app, "cartfan")  # type: ignore[arg-type]
        tok = page_csrf(app, "/cart")  # type: ignore[arg-type]
        r = app.post(f"/cart/checkout/{world.partner_id}", data={"csrf_token": tok},
                     headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    loc = r.headers["location"]
    parts = urlsplit(loc)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{world.sim.url}/cart/add"
    q = parse_qs(parts.query)
    assert q["items"] == [f"{p0}:2,{p1}:1"]
    token = q["sw_click"][0]
    with world.db.read_sessions() as s:
        c = queries.find_click_by_token(s, token)
        assert c is not None and c.surface == "cart" and c.fan_id == fan
        assert c.items == {p0: [world.recs[0], world.creator_id, 2],
                           p1: [world.recs[1], world.creator_id, 1]}
    # The shop takes the whole cart and remembers the tracking id.
    with httpx.Client(timeout=10, follow_redirects=True) as shop:
        page = shop.get(loc)
        assert page.status_code == 200 and str(page.url) == f"{world.sim.url}/cart"
        assert f"Referral 推广追踪: {token}" in page.text
        for p in world.products[:2]:
            assert f'href="/p/{p["id"]}"' in page.text
        assert f'href="/p/{world.products[2]["id"]}"' not in page.text
