"""Reading products from real servers: the simulator (markup and API) and a hostile shop."""

from __future__ import annotations

import time

import pytest

from shopwindow.partners import actions, queries
from shopwindow.partners.fetch import (
    FetchError,
    FetchLimits,
    PartnerTarget,
    ProductGone,
    fetch_product,
)
from shopwindow.partners.rules import DomainRule


def register(uow, slug, domains, **kw):
    with uow() as s:
        return actions.register_partner(s, slug=slug, name=slug.title(), domains=domains,
                                        **kw).id


def target(session, pid):
    return PartnerTarget.of(queries.get_partner(session, pid))


def test_markup_product_from_the_simulator(uow, session, sim):
    pid = register(uow, "sim", [f"127.0.0.1:{sim.port}"])
    products = sim.products()
    out_of_stock = [p for p in products if p["availability"] != "InStock"]
    for want in [products[0], *out_of_stock[:1]]:
        with session.begin():
            partner, url = actions.resolve_product_url(session, f"{sim.url}/p/{want['id']}")
            t = PartnerTarget.of(partner)
        data = fetch_product(t, url)
        assert data.title == want["title"] and data.price_minor == want["price_minor"]
        assert data.currency == want["currency"] == "CNY"
        assert data.gtin == want["gtin"] and data.sku == want["sku"]
        assert data.brand == want["brand"] and data.category == want["category"]
        assert data.stock == want["stock"]
        assert data.availability == ("in_stock" if want["availability"] == "InStock"
                                     else "out_of_stock")
        assert data.external_id == want["id"]
        assert data.canonical_url == f"{sim.url}/p/{want['id']}"
        assert data.images == want["images"]
    assert pid


def test_api_product_from_the_simulator(uow, session, sim):
    pid = register(uow, "simapi", [f"127.0.0.1:{sim.port}"], product_source="api",
                   api_base_url=f"{sim.url}/api/products/{{id}}")
    want = sim.products()[3]
    data = fetch_product(target(session, pid), f"{sim.url}/p/{want['id']}?sw_click=x")
    assert (data.title, data.price_minor, data.stock, data.gtin, data.external_id) == \
        (want["title"], want["price_minor"], want["stock"], want["gtin"], want["id"])
    with pytest.raises(ProductGone) as ei:
        fetch_product(target(session, pid), f"{sim.url}/p/99999999")
    assert (ei.value.field, ei.value.rule) == ("url", "gone")
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{sim.url}/cart")
    assert ei.value.rule == "product_id"


def test_api_template_off_partner_is_refused(uow, session, sim, shop):
    pid = register(uow, "offapi", [f"127.0.0.1:{shop.port}"], product_source="api",
                   api_base_url=f"{sim.url}/api/products/{{id}}")
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/1")
    assert ei.value.rule == "api_off_partner"


def test_price_change_is_seen_on_refetch(uow, session, sim):
    pid = register(uow, "sim", [f"127.0.0.1:{sim.port}"])
    want = sim.products()[5]
    import httpx

    r = httpx.post(f"{sim.url}/_admin/products/{want['id']}", json={"price_minor": 1234,
                   "stock": 0}, headers={"authorization": "Bearer adm"})
    assert r.status_code == 200, r.text
    data = fetch_product(target(session, pid), f"{sim.url}/p/{want['id']}")
    assert (data.price_minor, data.stock, data.availability) == (1234, 0, "out_of_stock")


@pytest.mark.parametrize("name", ["local", "absolute", "chain1"])
def test_redirects_on_the_partner_are_followed(uow, session, shop, name):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    data = fetch_product(target(session, pid), f"{shop.url}/p/{name}")
    assert data.title == "Real thing" and data.price_minor == 9950
    assert data.images == [f"{shop.url}/img/1.png"]


@pytest.mark.parametrize("name,rule", [
    ("away", "redirect_off_partner"),  # another server (the simulator), not this partner
    ("evil", "redirect_off_partner"),
    ("scheme-relative", "redirect_off_partner"),
    ("backslash", "redirect_off_partner"),
    ("userinfo", "redirect_off_partner"),
    ("file", "redirect_off_partner"),
    ("no-location", "redirect"),
    ("loop", "too_many_redirects"),
    ("chain-too-long", "too_many_redirects"),
    ("big", "too_large"),
    ("big-declared", "too_large"),
    ("gone", "gone"),
    ("broken", "partner_status"),
    ("nothing", "no_product_data"),
])
def test_refusals(uow, session, shop, name, rule):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    before = len(shop.hits)
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/{name}")
    assert (ei.value.field, ei.value.rule) == ("url", rule)
    assert ei.value.code == "fetch_failed" and ei.value.status == 422
    # The foreign host was never contacted: every request went to the shop itself.
    assert len(shop.hits) - before <= 4


def test_redirect_to_another_partner_is_refused(uow, session, shop, sim):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    register(uow, "sim", [f"127.0.0.1:{sim.port}"])
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/away")
    assert ei.value.rule == "redirect_off_partner"


def test_redirect_to_the_same_partners_other_domain_is_followed(uow, session, shop, sim):
    pid = register(uow, "both", [f"127.0.0.1:{shop.port}", f"127.0.0.1:{sim.port}"])
    with pytest.raises(ProductGone):  # followed to the simulator, whose /p/1 does not exist
        fetch_product(target(session, pid), f"{shop.url}/p/away")


def test_timeouts(uow, session, shop):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    t0 = time.monotonic()
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/slow",
                      limits=FetchLimits(read_timeout=0.5))
    assert ei.value.rule == "timeout" and "did not answer" in ei.value.detail
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/trickle",
                      limits=FetchLimits(read_timeout=1, total_timeout=0.5))
    assert ei.value.rule == "timeout"
    assert time.monotonic() - t0 < 3


def test_unreachable_and_open_graph(uow, session, shop):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    data = fetch_product(target(session, pid), f"{shop.url}/p/og")
    assert (data.title, data.price_minor, data.availability, data.images) == \
        ("OG thing", 1230, "out_of_stock", ["https://cdn.example/og.png"])
    closed = PartnerTarget(1, "Closed", "active", "markup", None, "/p/{id}", "CNY",
                           (DomainRule("127.0.0.1", False, 9, True),))
    with pytest.raises(FetchError) as ei:
        fetch_product(closed, "http://127.0.0.1:9/p/1", limits=FetchLimits(connect_timeout=1))
    assert ei.value.rule in ("unreachable", "timeout")


def test_never_fetches_off_partner_or_for_a_suspended_partner(uow, session, shop):
    pid = register(uow, "shop", [f"127.0.0.1:{shop.port}"])
    before = len(shop.hits)
    for url in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.1:{shop.port}@x/p",
                f"http://localhost:{shop.port}/p/real", "http://2130706433/p/real"):
        with pytest.raises(FetchError) as ei:
            fetch_product(target(session, pid), url)
        assert ei.value.rule == "partner_domain"
    with uow() as s:
        actions.suspend_partner(s, queries.get_partner(s, pid))
    session.expire_all()
    with pytest.raises(FetchError) as ei:
        fetch_product(target(session, pid), f"{shop.url}/p/real")
    assert ei.value.rule == "partner_active"
    assert len(shop.hits) == before
