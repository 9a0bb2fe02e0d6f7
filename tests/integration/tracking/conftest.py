"""The whole loop with real servers: shopwindow (uvicorn in a thread) ⇄ the partner
simulator. The simulator posts signed postbacks to the running app; recommendations are
published through showcase actions from the simulator's real product pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from shopwindow.core.clock import clock, utcnow
from shopwindow.ledger import queries as ledger_q
from shopwindow.partners import actions as partners
from shopwindow.partnersim.signing import generate_secret
from shopwindow.showcase import actions as showcase
from shopwindow.tracking import queries, rules
from shopwindow.tracking.models import Order, Postback
from tests.helpers import make_account, token_for
from tests.partnersim.conftest import ServerThread, Sim, make_sim, wait_for  # noqa: F401

BROWSER = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
           "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
SLUG = "testmall"


@dataclass
class World:
    app_server: ServerThread
    sim: Sim
    partner_id: int
    secret: str
    creator_id: int
    recs: list[int]
    products: list[dict[str, Any]]
    http: httpx.Client
    uow: Any
    db: Any

    @property
    def postback_url(self) -> str:
        return f"{self.app_server.url}/partners/{SLUG}/postbacks"

    def go(self, rec: int, *, method: str = "GET", ua: str = BROWSER, s: str = "feed",
           **params: str) -> httpx.Response:
        return self.http.request(method, f"{self.app_server.url}/go/{rec}",
                                 params={"s": s, **params}, headers={"user-agent": ua})

    def click(self, rec: int | None = None, **kw: Any) -> str:
        r = self.go(self.recs[0] if rec is None else rec, **kw)
        assert r.status_code == 302, r.text
        return parse_qs(urlsplit(r.headers["location"]).query)["sw_click"][0]

    def order(self, external_id: str, *, min_sequence: int = 1, timeout: float = 10) -> Order:
        def get() -> Order | None:
            with self.db.read_sessions() as s:
                o = queries.find_order(s, self.partner_id, external_id)
                return o if o is not None and o.last_sequence >= min_sequence else None
        return wait_for(get, timeout, f"order {external_id} at sequence {min_sequence}")

    def buy(self, token: str | None, n: int = 0, qty: int = 1) -> dict[str, Any]:
        o = self.sim.checkout([(self.products[n]["id"], qty)], tracking_id=token)
        self.order(o["order_id"], min_sequence=2)
        return o

    def postbacks(self) -> int:
        with self.db.read_sessions() as s:
            return int(s.scalar(select(func.count()).select_from(Postback)) or 0)

    def post_signed(self, payload: dict[str, Any], *, msg_id: str = "evt_manual_1",
                    secret: str | None = None, at: datetime | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = rules.sign(secret or self.secret, msg_id, at or utcnow(), body)
        return self.http.post(self.postback_url, content=body, headers=headers)


def assert_balanced(db: Any) -> None:
    with db.read_sessions() as s:
        assert all(v == 0 for v in ledger_q.trial_balance(s).values()), \
            ledger_q.trial_balance(s)
        assert ledger_q.unbalanced_entries(s) == []


@pytest.fixture
def world(app: Any, uow: Any, db: Any, make_sim: Callable[..., Sim]) -> Iterator[World]:  # noqa: F811
    clock.reset()
    server = ServerThread(app).start()
    secret = generate_secret()
    sim = make_sim(postback_url=f"{server.url}/partners/{SLUG}/postbacks", secret=secret)
    with uow() as s:
        pid = partners.register_partner(
            s, slug=SLUG, name="Test Mall", domains=[f"127.0.0.1:{sim.server.port}"],
            cart_url_template=f"{sim.url}/cart/add?items={{items}}",
            default_rate_bps=1000, category_rates={"beauty": 1500}, postback_secret=secret,
            attribution_window_days=7, return_window_days=15).id
    creator = make_account(uow, "creator1", role="creator")
    products = sim.first_products(3)
    with uow() as s:
        pub = showcase.publish(s, creator, [
            {"url": f"{sim.url}/p/{p['id']}", "reason": "I use this every day, it holds up."}
            for p in products])
        recs = [r.id for r in pub.recommendations]
    http = httpx.Client(timeout=10, follow_redirects=False)
    yield World(server, sim, pid, secret, creator, recs, products, http, uow, db)
    http.close()
    server.stop()
    clock.reset()


def api(world: World, account_id: int, path: str, scopes: str = "read") -> httpx.Response:
    tok = token_for(world.uow, account_id, scopes)
    return world.http.get(world.app_server.url + path,
                          headers={"authorization": f"Bearer {tok}"})
