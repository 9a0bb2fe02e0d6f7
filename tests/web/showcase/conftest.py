"""Fixtures: the simulator as a registered partner, creators with published products."""

from __future__ import annotations

from typing import Any

import pytest

from shopwindow.partners import actions as partners
from shopwindow.showcase import actions
from tests.helpers import make_account
from tests.integration.partners.conftest import sim  # noqa: F401
from tests.web.pages.conftest import new_client  # noqa: F401

REASON = "Worn all summer, still looks new"


@pytest.fixture
def partner_id(uow: Any, sim: Any) -> int:  # noqa: F811
    with uow() as s:
        return int(partners.register_partner(s, slug="testmall", name="Test Mall",
                                             domains=[f"127.0.0.1:{sim.port}"]).id)


@pytest.fixture
def in_stock(sim: Any) -> list[dict[str, Any]]:  # noqa: F811
    return [p for p in sim.products() if p["availability"] == "InStock"]


def publish(uow: Any, sim: Any, creator: int, products: list[dict[str, Any]],  # noqa: F811
            **kw: Any) -> list[int]:
    with uow() as s:
        out = actions.publish(s, creator, [
            {"url": f"{sim.url}/p/{p['id']}", "reason": kw.pop("reason", REASON),
             **({"title": kw["title"]} if "title" in kw else {})} for p in products],
            text=kw.get("text", ""), visibility=kw.get("visibility"))
        return [r.id for r in out.recommendations]


@pytest.fixture
def creator(uow: Any) -> int:
    return make_account(uow, "ada", role="creator")
