"""Product data from markup (JSON-LD variants, OpenGraph) and from an API answer."""

from __future__ import annotations

import json

import pytest

from shopwindow.partners.fetch import FetchError, PartnerTarget, parse_api_product, parse_markup
from shopwindow.partners.rules import DomainRule, normalize_product_url

T = PartnerTarget(1, "Shop", "active", "markup", None, "/p/{id}", "CNY",
                  (DomainRule("shop.example", True),))
PAGE = normalize_product_url("https://www.shop.example/p/42?utm=x")


def page(*ld, head=""):
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(x)}</script>' for x in ld)
    return f"<html><head>{scripts}{head}</head><body></body></html>"


def test_graph_list_types_offer_list_and_relative_images():
    doc = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "page"},
        {"@type": ["Thing", "Product"], "name": "  Linen   Dress ",
         "image": [{"@type": "ImageObject", "url": "/i/1.png"}, "https://cdn.example/2.png",
                   "javascript:alert(1)", "/i/1.png"],
         "brand": "Maple", "gtin": "6914039610571", "url": "https://evil.example/p/42",
         "offers": [{"@type": "Offer", "price": 199, "priceCurrency": "usd",
                     "availability": "http://schema.org/PreOrder",
                     "inventoryLevel": {"value": "12"}}]}]}
    d = parse_markup(T, PAGE, page({"@type": "BreadcrumbList"}, doc))
    assert d.title == "Linen Dress" and d.price_minor == 19900 and d.currency == "USD"
    assert d.images == ["https://www.shop.example/i/1.png", "https://cdn.example/2.png"]
    assert d.brand == "Maple" and d.gtin == "6914039610571" and d.stock == 12
    assert d.availability == "preorder"
    # The JSON-LD url points off the partner: the page URL is kept as canonical.
    assert d.canonical_url == PAGE.url and d.external_id == "42"


def test_aggregate_offer_price_specification_and_canonical_link():
    agg = {"@type": "Product", "name": "A", "offers": {"@type": "AggregateOffer",
                                                       "lowPrice": "9.90"}}
    d = parse_markup(T, PAGE, page(agg, head='<link rel="canonical" href="/p/43">'))
    assert d.price_minor == 990 and d.currency == "CNY"
    assert d.canonical_url == "https://www.shop.example/p/43" and d.external_id == "43"
    spec = {"@type": "Product", "name": "B", "sku": "S1", "offers": {
        "@type": "Offer", "priceSpecification": {"price": "5", "priceCurrency": "JPY"}}}
    d = parse_markup(T, normalize_product_url("https://shop.example/item"), page(spec))
    assert (d.price_minor, d.currency, d.external_id) == (5, "JPY", "S1")


def test_broken_json_ld_falls_back_to_open_graph():
    html = ('<script type="application/ld+json">{not json</script>'
            '<meta property="og:title" content="OG">'
            '<meta property="product:price:amount" content="1.5">')
    d = parse_markup(T, PAGE, html)
    assert (d.title, d.price_minor, d.availability) == ("OG", 150, "unknown")


@pytest.mark.parametrize("html,rule", [
    ("<html></html>", "no_product_data"),
    (page({"@type": "Product", "name": "x"}), "no_price"),
    (page({"@type": "Product", "offers": {"price": "1"}}), "no_product_data"),
    (page({"@type": "Product", "name": "x", "offers": {"price": "1.001"}}), "price_format"),
    (page({"@type": "Product", "name": "x", "offers": {"price": "-3"}}), "price_format"),
    (page({"@type": "Product", "name": "x",
           "offers": {"price": "1", "priceCurrency": "€"}}), "price_format"),
])
def test_missing_or_bad_data(html, rule):
    with pytest.raises(FetchError) as ei:
        parse_markup(T, PAGE, html)
    assert (ei.value.field, ei.value.rule) == ("url", rule)


def test_api_answer():
    data = {"id": "42", "title": "T", "price": "166.90", "price_minor": 1, "currency": "CNY",
            "available": False, "stock": 0, "images": ["/i.png"], "gtin": "6914039610571"}
    d = parse_api_product(T, PAGE, data, "42")
    assert (d.price_minor, d.availability, d.stock, d.images[0]) == \
        (16690, "out_of_stock", 0, "https://www.shop.example/i.png")
    d = parse_api_product(T, PAGE, {"name": "N", "price_minor": 500}, "42")
    assert (d.price_minor, d.currency, d.external_id) == (500, "CNY", "42")
    with pytest.raises(FetchError):
        parse_api_product(T, PAGE, {"title": "T"}, "42")
