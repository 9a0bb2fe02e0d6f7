"""A small platform for the recommenders: a partner, creators with products, fans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from shopwindow.interests import actions as interests
from shopwindow.partners import actions as partners
from shopwindow.partners.fetch import PartnerTarget, ProductData
from shopwindow.showcase import actions as showcase
from tests.helpers import make_account

DOMAIN = "shop.example.com"
# (creator, category, product numbers): beauty and digital creators, one pet creator.
CATALOGUE = {
    "bella": ("beauty", [1, 2, 3, 4]),
    "tess": ("digital", [11, 12, 13]),
    "pip": ("pets", [21, 22]),
}


def fake_fetch(target: PartnerTarget, url: str) -> ProductData:
    """The partner shop's product page, as the publisher would read it (external system)."""
    n = int(url.rstrip("/").rsplit("/", 1)[1])
    cat = "beauty" if n < 10 else "digital" if n < 20 else "pets"
    return ProductData(title=f"{cat.title()} thing {n}", price_minor=1000 + n, currency="CNY",
                       availability="in_stock", canonical_url=url, category=cat,
                       external_id=str(n), images=[f"https://{DOMAIN}/img/{n}.png"])


@dataclass
class World:
    creators: dict[str, int] = field(default_factory=dict)
    fans: dict[str, int] = field(default_factory=dict)
    recs: dict[int, int] = field(default_factory=dict)  # product number -> recommendation id
    products: dict[int, int] = field(default_factory=dict)  # product number -> product id
    creator_of: dict[int, int] = field(default_factory=dict)  # product number -> creator id
    partner_id: int = 0


@pytest.fixture
def world(uow: Any) -> World:
    w = World()
    with uow() as s:
        interests.ensure_default_verticals(s)
        w.partner_id = int(partners.register_partner(s, slug="shop", name="Shop",
                                                     domains=[DOMAIN]).id)
    for name in CATALOGUE:
        w.creators[name] = make_account(uow, name, role="creator")
    for name in ("fan_a", "fan_b", "fan_c", "newbie"):
        w.fans[name] = make_account(uow, name)
    with uow() as s:
        for name, (_cat, numbers) in CATALOGUE.items():  # one post per creator
            out = showcase.publish(s, w.creators[name], [
                {"url": f"https://{DOMAIN}/p/{n}", "reason": "Really good, used it daily"}
                for n in numbers], fetcher=fake_fetch)
            for n, rec in zip(numbers, out.recommendations, strict=True):
                w.recs[n], w.products[n] = rec.id, rec.product_id
                w.creator_of[n] = w.creators[name]
    return w
