"""Partner shops for the demo: partner simulators beside the platform, registered as partners.

`start_shops` runs a few partner simulators (`shopwindow.partnersim`, fictional shops) on
uvicorn servers in background threads, each with its own `whsec_` postback secret and admin
token, its data (stock, orders, postback outbox) under `<data_dir>/shops/`, and postbacks
going to the platform's `/partners/{slug}/postbacks`. Each shop is registered as an active
partner on `127.0.0.1:<port>` through the partners actions; on later runs the stored partner
is reused (its secret read from the partner row) and its terms and domain are brought up to
date, so orders placed in an earlier run still verify.

`seed_recommendations` lets the demo creators publish a few dozen recommendations of the
shops' products through `showcase.actions.publish` (the real product pages are read), once:
nothing is published when recommendations exist already.
"""

from __future__ import annotations

import random
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from shopwindow.accounts.models import Account
from shopwindow.config import Settings
from shopwindow.core.errors import DomainError, NotFound
from shopwindow.db.engine import Database
from shopwindow.db.uow import unit_of_work
from shopwindow.demo import data
from shopwindow.outbox import set_publisher
from shopwindow.partners import actions as partners
from shopwindow.partners import queries as partners_q
from shopwindow.partners import rules as partners_rules
from shopwindow.partnersim import SimConfig, build_app
from shopwindow.partnersim.config import slugify
from shopwindow.showcase import actions as showcase
from shopwindow.showcase.models import Recommendation

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ShopSpec:
    name: str
    seed: int
    port: int  # preferred; a free port is used when it is taken
    default_rate_bps: int
    category_rates: dict[str, int]
    return_window_days: int = 7

    @property
    def slug(self) -> str:
        return slugify(self.name)


SHOPS: tuple[ShopSpec, ...] = (
    ShopSpec("Lumen Mall", 1, 8101, 1000, {"beauty": 1500, "fashion": 1200}),
    ShopSpec("Bamboo Market", 2, 8102, 800, {"food": 600, "home": 1000}),
    ShopSpec("Pine & Co", 3, 8103, 1200, {"digital": 500, "books": 1500}),
)


@dataclass
class DemoShop:
    spec: ShopSpec
    port: int
    partner_id: int
    admin_token: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _ensure_partner(db: Database, spec: ShopSpec, port: int) -> tuple[int, str]:
    """Register the shop as a partner, or reuse and update the stored one: (id, secret)."""
    domain = f"{HOST}:{port}"
    terms: dict[str, Any] = dict(
        default_rate_bps=spec.default_rate_bps, category_rates=spec.category_rates,
        return_window_days=spec.return_window_days,
        # the simulator's cart takes every item of a cart in one hand-off
        cart_url_template=f"http://{domain}/cart/add?items={{items}}")
    with unit_of_work(db) as s:
        try:
            p = partners_q.get_by_slug(s, spec.slug)
        except NotFound:
            p = partners.register_partner(
                s, slug=spec.slug, name=spec.name, domains=[domain],
                postback_secret=partners_rules.generate_secret(), **terms)
            return p.id, p.postback_secret
        # the domain first: the cart URL template must be on it
        if not any(d.host == HOST and d.port == port for d in p.domains):
            partners.add_domain(s, p, domain)
        partners.update_partner(s, p, name=spec.name, **terms)
        if p.status != "active":
            partners.activate_partner(s, p)
        return p.id, p.postback_secret


def _serve(app: Any, port: int, name: str) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"shop-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"partner shop {name} did not start on port {port}")
        time.sleep(0.02)
    return server, thread


def start_shops(settings: Settings, *, count: int = len(SHOPS), products: int = 150,
                fixed_ports: bool = True) -> list[DemoShop]:
    """Start `count` simulators (threads) and register them as partners; see the module."""
    db = Database(settings.database_url, pool_size=2)
    platform = settings.base_url.rstrip("/")
    root = settings.data_dir / "shops"
    root.mkdir(parents=True, exist_ok=True)
    started: list[DemoShop] = []
    try:
        for spec in SHOPS[:count]:
            port = spec.port if fixed_ports and _port_free(spec.port) else _free_port()
            partner_id, secret = _ensure_partner(db, spec, port)
            token = f"demo-{secrets.token_urlsafe(12)}"
            app = build_app(SimConfig(
                name=spec.name, seed=spec.seed, products=products, admin_token=token,
                secret=secret, postback_url=f"{platform}/partners/{spec.slug}/postbacks",
                data_dir=root))
            server, thread = _serve(app, port, spec.slug)
            started.append(DemoShop(spec, port, partner_id, token, server, thread))
    except BaseException:
        stop_shops(started)
        raise
    finally:
        db.dispose()
    return started


def stop_shops(shops: list[DemoShop]) -> None:
    for shop in shops:
        shop.stop()


# ------------------------------------------------------------------ recommendations

EN_REASONS = (
    "I have used it every day for a month and it still feels new.",
    "Bought it with my own money after comparing three others; this is the one I kept.",
    "Great value for the price, and the quality is better than I expected.",
    "My second one already: it does exactly what it promises, nothing fancy.",
    "Small thing, big difference in my routine. Friends keep asking where I got it.",
    "Honest pick: solid build, fair price. Only wish it came in more colours.",
)
ZH_REASONS = (
    "自己花钱买的，用了一个月，做工扎实，真心推荐。",
    "已经回购第二次了，品质稳定，性价比很高。",
    "对比了好几家才选的它，细节做得很用心。",
    "日常高频使用，没有翻车，朋友用了也说好。",
    "价格不贵但是质感在线，新手入门首选。",
    "用下来最大的感受是省心，唯一的缺点是颜色选择少。",
)


def _catalogue(http: httpx.Client, shop: DemoShop) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = f"{shop.url}/api/products?per_page=100"
    while url and len(items) < 1000:
        body = http.get(url).json()
        items.extend(body["items"])
        url = body.get("next")
    return [p for p in items if p.get("availability") == "InStock"]


def _recommendation_count(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Recommendation)) or 0)


def seed_recommendations(settings: Settings, shops: list[DemoShop], *, total: int = 36,
                         seed: int = 20151121) -> int:
    """Publish about `total` recommendations by the demo creators (posts of 1–2 products)
    from the shops' product pages, unless recommendations exist; returns how many."""
    from shopwindow.jobs import runtime

    if not shops:
        return 0
    db = Database(settings.database_url, pool_size=2)
    prev_settings, prev_db = runtime.rt.settings, runtime.rt.db
    try:
        if _recommendation_count(db) > 0:
            return 0
        by_name = {c.username: c for c in data.CREATORS}
        with unit_of_work(db, write=False) as s:
            creators = [(a.id, by_name[a.username]) for a in s.scalars(
                select(Account).where(Account.username.in_(list(by_name)),
                                      Account.role.in_(("creator", "brand")))
                .order_by(Account.id))]
        if not creators:
            return 0
        with httpx.Client(timeout=10) as http:
            stock = {shop.spec.slug: _catalogue(http, shop) for shop in shops}
        # Fan-out to home timelines and notifications run as the seed's do: immediately.
        runtime.configure(settings.model_copy(update={"jobs_mode": "immediate"}), db)
        r = random.Random(seed)
        made = 0
        turn = 0
        while made < total and turn < total * 3:
            creator_id, persona = creators[turn % len(creators)]
            shop = shops[turn % len(shops)]
            turn += 1
            pool = stock[shop.spec.slug]
            liked = [p for p in pool if p.get("category") in persona.verticals] or pool
            if not liked:
                continue
            picks = r.sample(liked, k=min(len(liked), r.choice((1, 1, 2)), total - made))
            reasons = ZH_REASONS if persona.lang == "zh" else EN_REASONS
            items: list[Any] = [
                {"url": f"{shop.url}/p/{p['id']}", "reason": r.choice(reasons)} for p in picks]
            try:
                with unit_of_work(db) as s:
                    out = showcase.publish(s, creator_id, items)
                    made += len(out.recommendations)
            except DomainError:  # a product page the rules refuse (e.g. a stuffed title)
                continue
        return made
    finally:
        if prev_db is not None and prev_settings is not None:
            runtime.configure(prev_settings, prev_db)
        else:
            set_publisher(None)
            runtime.rt.db = None
        db.dispose()
