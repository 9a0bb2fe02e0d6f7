"""Price-drop alerts: showcase.price_dropped notifies the fans who bookmarked the product
(notifications page, en + zh-CN); Mastodon clients never see the type; once per event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shopwindow.notifications.models import Notification
from shopwindow.partners import actions as partners
from shopwindow.partners.fetch import ProductData
from shopwindow.showcase import actions as showcase
from tests.helpers import make_account, token_for
from tests.web.pages.util import HTML, sign_in

DOMAIN = "drop.example.com"


def _fetcher(price: int) -> Any:
    def fetch(_target: object, url: str) -> ProductData:
        return ProductData(title="Linen dress", price_minor=price, currency="CNY",
                           availability="in_stock", canonical_url=url, category="fashion",
                           images=[f"https://{DOMAIN}/i.png"], external_id="7")
    return fetch


def test_price_drop_notifies_fans_who_bookmarked(client, uow, db):
    with uow() as s:
        partners.register_partner(s, slug="dropshop", name="Drop Shop", domains=[DOMAIN])
    creator = make_account(uow, "ada", role="creator")
    fan = make_account(uow, "fan1")
    other = make_account(uow, "fan2")
    with uow() as s:
        rec = showcase.publish(s, creator, [{"url": f"https://{DOMAIN}/p/7",
                                             "reason": "Worn all summer, still good"}],
                               fetcher=_fetcher(9900)).recommendations[0]
    with uow() as s:
        showcase.bookmark_product(s, fan, rec.id)
    for price in (9900, 12000):  # same price, then dearer: no alert
        with uow() as s:
            showcase.refresh_product(s, rec.product_id, fetcher=_fetcher(price))
    with uow() as s:
        showcase.refresh_product(s, rec.product_id, fetcher=_fetcher(7900))
    with db.read_sessions() as s:
        rows = s.scalars(select(Notification).where(Notification.type == "price_drop")).all()
        assert [(n.account_id, n.from_account_id, n.post_id) for n in rows] == [
            (fan, creator, rec.post_id)]
    assert other not in [n.account_id for n in rows]
    sign_in(client, "fan1")
    page = client.get("/notifications", headers=HTML).text
    assert "A product you bookmarked from" in page and "is cheaper now" in page
    client.cookies.set("sw_locale", "zh-CN")
    assert "收藏的商品降价了" in client.get("/notifications", headers=HTML).text
    api = client.get("/api/v1/notifications",
                     headers={"authorization": f"Bearer {token_for(uow, fan)}"})
    assert api.status_code == 200 and all(n["type"] != "price_drop" for n in api.json())
