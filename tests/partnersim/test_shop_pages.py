"""Product pages (JSON-LD, OpenGraph), product API, admin product changes, browser checkout."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from shopwindow.partnersim.catalogue import gtin13_valid
from tests.partnersim.conftest import Receiver, Sim, wait_for


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ld: list[Any] = []
        self.meta: dict[str, str] = {}
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
        if tag == "meta" and a.get("property"):
            self.meta[str(a["property"])] = str(a.get("content"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.ld.append(json.loads(data))


def parse_page(html: str) -> _HeadParser:
    p = _HeadParser()
    p.feed(html)
    return p


def test_product_page_json_ld_matches_api(sim: Sim) -> None:
    products = sim.client.get(sim.url + "/api/products?per_page=20").json()["items"]
    assert len(products) == 20
    for api in products[:8]:
        r = sim.client.get(api["url"])
        assert r.status_code == 200
        page = parse_page(r.text)
        assert len(page.ld) == 1
        ld = page.ld[0]
        assert ld["@context"] == "https://schema.org" and ld["@type"] == "Product"
        assert ld["name"] == api["title"]
        assert ld["image"] == api["images"] and ld["image"]
        assert ld["brand"] == {"@type": "Brand", "name": api["brand"]}
        assert ld["category"] == api["category"]
        assert ld["gtin13"] == api["gtin"] and gtin13_valid(ld["gtin13"])
        assert ld["sku"] == api["sku"]
        assert ld["description"] == api["description"]
        offer = ld["offers"]
        assert offer["@type"] == "Offer"
        assert offer["price"] == api["price"]
        assert int(offer["price"].replace(".", "")) == api["price_minor"]
        assert offer["priceCurrency"] == "CNY" == api["currency"]
        assert offer["availability"] == f"https://schema.org/{api['availability']}"
        assert offer["inventoryLevel"] == {"@type": "QuantitativeValue", "value": api["stock"]}
        assert page.meta["og:title"] == api["title"]
        assert page.meta["og:image"] == api["images"][0]
        assert page.meta["product:price:amount"] == api["price"]
        assert page.meta["product:price:currency"] == "CNY"


def test_product_api_listing_lookup_and_images(sim: Sim) -> None:
    first = sim.client.get(sim.url + "/api/products?page=1&per_page=25").json()
    assert first["total"] == 60 and first["pages"] == 3 and first["next"]
    second = sim.client.get(first["next"]).json()
    assert {p["id"] for p in first["items"]}.isdisjoint({p["id"] for p in second["items"]})
    cat = first["items"][0]["category"]
    only = sim.client.get(sim.url + "/api/products", params={"category": cat}).json()
    assert only["items"] and all(p["category"] == cat for p in only["items"])
    p = first["items"][0]
    assert sim.client.get(sim.url + f"/api/products/{p['id']}").json() == p
    assert sim.client.get(sim.url + f"/api/products/by-gtin/{p['gtin']}").json() == p
    assert sim.client.get(sim.url + "/api/products/by-gtin/0000000000000").status_code == 404
    assert sim.client.get(sim.url + "/api/products/nope").status_code == 404
    img = sim.client.get(p["images"][0])
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content.startswith(b"\x89PNG")
    assert sim.client.get(p["images"][0]).content == img.content  # cached, stable
    assert sim.client.get(sim.url + "/images/nope.png").status_code == 404
    assert sim.client.get(sim.url + "/").status_code == 200


def test_admin_changes_price_and_availability(sim: Sim) -> None:
    p = sim.first_products(1)[0]
    path = f"/_admin/products/{p['id']}"
    assert sim.client.post(sim.url + path, json={"price_minor": 1}).status_code == 401
    r = sim.admin("POST", path, json={"price_minor": 19900, "stock": 3})
    assert r.status_code == 200 and r.json()["price"] == "199.00" and r.json()["stock"] == 3
    ld = parse_page(sim.client.get(p["url"]).text).ld[0]
    assert ld["offers"]["price"] == "199.00"
    assert ld["offers"]["inventoryLevel"]["value"] == 3
    r = sim.admin("POST", path, json={"available": False})
    assert r.json()["availability"] == "OutOfStock"
    ld = parse_page(sim.client.get(p["url"]).text).ld[0]
    assert ld["offers"]["availability"] == "https://schema.org/OutOfStock"
    r = sim.admin("POST", "/_admin/checkout",
                  json={"items": [{"product_id": p["id"], "quantity": 1}]})
    assert r.status_code == 409
    assert sim.admin("POST", path, json={"price_minor": "x"}).status_code == 422
    assert sim.admin("POST", "/_admin/products/nope", json={"stock": 1}).status_code == 404


def test_admin_disabled_without_token(make_sim: Any) -> None:
    s = make_sim(admin_token=None)
    r = s.client.get(s.url + "/_admin/deliveries", headers={"authorization": "Bearer x"})
    assert r.status_code == 403


def test_browser_cart_checkout_carries_tracking_id(sim: Sim, receiver: Receiver) -> None:
    a, b = sim.first_products(2)
    c = sim.client
    r = c.get(a["url"], params={"sw_click": "clk_browser_42"})
    assert c.cookies.get("sw_click") == "clk_browser_42"
    r = c.get(sim.url + "/cart/add", params={"items": f"{a['id']}:2,{b['id']}:1"},
              follow_redirects=True)
    assert r.status_code == 200 and "clk_browser_42" in r.text and a["title"] in r.text
    r = c.post(sim.url + "/checkout", data={"buyer_name": "小明", "tracking_id": "clk_browser_42",
                                            "pay": "1"})
    assert r.status_code == 303
    order_url = r.headers["location"]
    page = c.get(sim.url + order_url)
    assert page.status_code == 200 and "paid" in page.text
    total = a["price_minor"] * 2 + b["price_minor"]
    wait_for(lambda: len(receiver.accepted) >= 2, what="placed+paid postbacks")
    placed, paid = receiver.accepted[:2]
    assert (placed["type"], paid["type"]) == ("order.placed", "order.paid")
    for ev in (placed, paid):
        assert ev["data"]["tracking_id"] == "clk_browser_42"
        assert ev["data"]["total_minor"] == total
        assert ev["data"]["currency"] == "CNY"
        assert "buyer_name" not in ev["data"]
    assert [ln["quantity"] for ln in paid["data"]["lines"]] == [2, 1]
    assert paid["data"]["lines"][0]["gtin"] == a["gtin"]
    assert paid["data"]["lines"][0]["unit_price_minor"] == a["price_minor"]
    assert paid["data"]["lines"][0]["total_minor"] == a["price_minor"] * 2
    assert paid["data"]["status"] == "paid" and placed["data"]["status"] == "placed"
    # the stock went down
    assert c.get(sim.url + f"/api/products/{a['id']}").json()["stock"] == a["stock"] - 2
    # refund one line from the order page (form, decimal amount)
    oid = paid["data"]["order_id"]
    r = c.post(sim.url + f"/orders/{oid}/refund", data={"line_id": "L2", "amount": "1.50"})
    assert r.status_code == 303
    wait_for(lambda: len(receiver.accepted) >= 3, what="refund postback")
    refund = receiver.accepted[2]
    assert refund["type"] == "order.refunded"
    assert refund["data"]["refund"]["amount_minor"] == 150
    assert refund["data"]["refund"]["lines"][0]["line_id"] == "L2"


def test_html_is_escaped_and_bad_input_is_refused(sim: Sim) -> None:
    r = sim.client.get(sim.url + "/cart/add", params={"items": "<script>:1"})
    assert r.status_code == 400 and "<script>" not in r.text
    p = sim.first_products(1)[0]
    r = sim.client.get(p["url"], params={"sw_click": "<x>"})
    assert "sw_click" not in r.cookies  # invalid tracking ids are ignored
    r = sim.client.post(sim.url + "/checkout", data={"buyer_name": "x"})
    assert r.status_code == 422  # empty cart
