"""Shoppers for the demo: fans follow recommendations to the partner shops and some buy.

Everything goes over real HTTP, as a browser would: the platform's hand-off
(`GET /go/{recommendation}`: a recorded click and a redirect carrying the tracking id), the
shop's product page, cart and checkout, and a refund of some orders on the shop's order
page; the shop then reports each order to the platform with signed postbacks, which
attribute it, book the commission in the ledger and feed the reports. Nothing is written
to the platform's tables from here, so the demo's reports and earnings show the money loop
exactly as real traffic would make it (`activity.py` adds only page views and reads).

The demo runs this once, in the background, after the server has started, when the
platform has no buy click yet.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import queries as analytics_q
from shopwindow.core.errors import NotFound
from shopwindow.db.engine import Database
from shopwindow.demo import data
from shopwindow.showcase import queries as showcase_q

AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
)
# where the Buy button was (the hand-off's `s` values; reports show feed as home)
SURFACES = ("showcase", "showcase", "middle_page", "middle_page", "feed", "search")
_PRODUCT_PATH = re.compile(r"/p/([A-Za-z0-9_-]{1,64})")


@dataclass
class Shopped:
    """What the shoppers did."""

    clicks: int = 0
    orders: int = 0
    refunds: int = 0
    failed: int = 0


def shop(base_url: str, recommendation_ids: Sequence[int], *, visits: int = 60,
         buy_rate: float = 0.4, refund_rate: float = 0.15, tracking_param: str = "sw_click",
         seed: int = 2015, timeout: float = 10.0) -> Shopped:
    """`visits` anonymous visitors each follow one recommendation through the platform's
    hand-off; about `buy_rate` of them buy it (one or two) at the shop, and about
    `refund_rate` of the buyers get a refund there."""
    r = random.Random(seed)
    out = Shopped()
    base = base_url.rstrip("/")
    recs = list(recommendation_ids)
    for _ in range(visits if recs else 0):
        rec = r.choice(recs)
        headers = {"user-agent": r.choice(AGENTS)}
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as c:
            try:
                go = c.get(f"{base}/go/{rec}", params={"s": r.choice(SURFACES)})
                if go.status_code != 302:
                    out.failed += 1
                    continue
                out.clicks += 1
                if r.random() >= buy_rate:
                    continue
                order_url = _buy(c, go.headers["location"], tracking_param, r)
                if order_url is None:
                    out.failed += 1
                    continue
                out.orders += 1
                # the whole order refunded on the shop's order page, as its buyer asked
                if r.random() < refund_rate and \
                        c.post(f"{order_url}/refund").status_code == 303:
                    out.refunds += 1
            except httpx.HTTPError:
                out.failed += 1
    return out


def _buy(c: httpx.Client, landing: str, tracking_param: str,
         r: random.Random) -> str | None:
    """Product page, cart and checkout at the shop the hand-off led to; the order's page
    URL, or None when no order came of it."""
    parts = urlsplit(landing)
    shop_url = f"{parts.scheme}://{parts.netloc}"
    token = (parse_qs(parts.query).get(tracking_param) or [""])[0]
    found = _PRODUCT_PATH.fullmatch(parts.path)
    if found is None or not token:
        return None
    c.get(landing)
    c.get(f"{shop_url}/cart/add", params={"items": f"{found.group(1)}:{r.choice((1, 1, 2))}",
                                          tracking_param: token})
    done = c.post(f"{shop_url}/checkout", data={"tracking_id": token,
                                                "buyer_name": "Demo Buyer"})
    location = done.headers.get("location", "")
    if done.status_code != 303 or not location.startswith("/orders/"):
        return None
    return f"{shop_url}{location}"


def wait_until_up(base_url: str, timeout: float = 60.0) -> bool:
    """Whether the platform answers /healthz within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url.rstrip('/')}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def platform_has_clicks(db: Database) -> bool:
    """Whether any buy click was ever counted (then the demo sends no shoppers)."""
    with db.read_sessions() as s:
        return analytics_q.rollup_total(s, "platform", 0, "clicks") > 0


def recommendation_ids(db: Database) -> list[int]:
    """The demo creators' public recommendations (what the shoppers follow)."""
    with db.read_sessions() as s:
        ids: list[int] = []
        for c in data.CREATORS:
            try:
                account = accounts_q.get_by_username(s, c.username)
            except NotFound:
                continue  # a smaller demo has fewer creators
            ids += [int(v.rec.id) for v in
                    showcase_q.recommendations_of_creator(s, int(account.id), limit=50)]
    return ids
