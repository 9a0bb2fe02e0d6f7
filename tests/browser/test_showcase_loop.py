"""The whole core loop in real Chromium against real servers (PRODUCT.md, "The core loop").

A partner simulator and the platform each run under uvicorn in a thread; the simulator is
registered as a partner and posts signed postbacks to the platform. In the browser:
creator publishes from a simulator product link (preview → reason → publish) → a following
fan sees the product card in the home feed → middle page → bookmark → add to cart → cart
checkout hands off to the simulator with the tracking id → the fan pays there → the signed
postback books the commission → the creator's /earnings shows it pending → past the return
window the settlement makes it available. Screenshots go to test-artifacts/screenshots/
(prefix ``loop-``). SQLite only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shopwindow.accounts import actions as accounts
from shopwindow.core.clock import clock
from shopwindow.core.money import Money
from shopwindow.ledger import queries as ledger_q
from shopwindow.ledger import rules as ledger_rules
from shopwindow.partners import actions as partners
from shopwindow.partnersim import SimConfig, build_app
from shopwindow.partnersim.signing import generate_secret
from shopwindow.social import actions as social
from shopwindow.tracking import actions as tracking
from shopwindow.tracking.models import Order
from tests.browser.test_social_flow import PASSWORD, Shots, browser  # noqa: F401
from tests.partnersim.conftest import ServerThread, wait_for

pytestmark = pytest.mark.browser

SLUG = "lumen"
ADMIN = "loop-admin-token"
RATE_BPS = 1000  # 10 %
RETURN_DAYS = 7


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only (overrides the SQLite/PostgreSQL parametrisation)."""
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def servers(app: Any) -> Iterator[tuple[ServerThread, ServerThread, str]]:
    """(platform, simulator, postback secret), both serving."""
    clock.reset()
    platform = ServerThread(app).start()
    secret = generate_secret()
    sim = ServerThread(build_app(SimConfig(
        name="Lumen Mall", seed=1, products=40, admin_token=ADMIN, secret=secret,
        postback_url=f"{platform.url}/partners/{SLUG}/postbacks",
        retry_base=0.05, retry_cap=0.5, timeout=5.0))).start()
    yield platform, sim, secret
    sim.stop()
    platform.stop()
    clock.reset()


def _watch_errors(page: Any, errors: list[str], platform: str) -> None:
    """Console errors, uncaught exceptions and failed responses of the platform's pages
    (the simulator is an outside shop: its missing favicon is not our concern)."""
    def ours() -> bool:
        return bool(page.url.startswith(platform))

    page.on("console", lambda m: errors.append(f"console: {m.text} ({page.url})")
            if m.type == "error" and ours() else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.url.startswith(platform) else None)


def _sign_in(ctx: Any, username: str) -> Any:
    page = ctx.new_page()
    page.goto("/auth/sign_in")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))
    return page


def test_publish_buy_postback_settle(servers: tuple[ServerThread, ServerThread, str],
                                     browser: Any, uow: Any, db: Any,  # noqa: F811
                                     settings: Any, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    platform, sim, secret = servers
    base = platform.url
    shot = Shots("loop-" + request.node.name)
    errors: list[str] = []

    # --- Set-up through the real actions: the partner, a creator and a following fan.
    with uow() as s:
        partner_id = partners.register_partner(
            s, slug=SLUG, name="Lumen Mall", domains=[f"127.0.0.1:{sim.port}"],
            cart_url_template=f"{sim.url}/cart/add?items={{items}}",
            default_rate_bps=RATE_BPS, postback_secret=secret, attribution_window_days=7,
            return_window_days=RETURN_DAYS).id
        creator = accounts.register_account(s, username="maya", email="maya@example.com",
                                            password=PASSWORD, role="creator")
        fan = accounts.register_account(s, username="finn", email="finn@example.com",
                                        password=PASSWORD, role="fan")
        creator_id, fan_id = creator.id, fan.id
    with uow() as s:
        social.follow(s, fan_id, creator_id)
    with httpx.Client(timeout=10) as http:
        items = http.get(f"{sim.url}/api/products?per_page=100").json()["items"]
    product = next(p for p in items if p["availability"] == "InStock")
    product_url = f"{sim.url}/p/{product['id']}"

    # --- The creator publishes from the simulator's product page.
    ctx_c = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900},
                                locale="en-US")
    c = _sign_in(ctx_c, "maya")
    _watch_errors(c, errors, base)
    c.goto("/publish")
    c.get_by_label("Partner product link").fill(product_url)
    shot(c, "creator-paste-link")
    c.get_by_role("button", name="Read product", exact=True).last.click()
    expect(c.locator("fieldset.draft")).to_have_count(1)
    expect(c.locator("fieldset.draft legend").first).to_contain_text("Lumen Mall")
    expect(c.get_by_label("Title")).to_have_value(product["title"])
    c.get_by_label("Why do you recommend it?").fill(
        "I have used it every day for a month and it still looks new.")
    shot(c, "creator-preview-reason")
    c.get_by_role("button", name="Publish").click()
    c.wait_for_url(re.compile(r".*/r/\d+$"))
    rec_id = int(c.url.rsplit("/", 1)[1])
    expect(c.locator("h1.middle-title")).to_have_text(product["title"])
    shot(c, "creator-published")

    # --- The fan sees the product card in the home feed and opens the middle page.
    # The fan browses like a person: a headless browser's own user agent ("HeadlessChrome")
    # is a bot marker, and bot clicks are never attributed.
    ua = (f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
          f"Chrome/{browser.version} Mobile Safari/537.36")
    ctx_f = browser.new_context(base_url=base, viewport={"width": 375, "height": 812},
                                locale="en-US", device_scale_factor=1, user_agent=ua)
    f = _sign_in(ctx_f, "finn")
    _watch_errors(f, errors, base)
    card = f.locator("li.product-card", has_text=product["title"])
    expect(card).to_be_visible()
    shot(f, "fan-home-feed")
    card.locator("a.product-card-link").click()
    f.wait_for_url(re.compile(rf".*/r/{rec_id}$"))
    expect(f.locator("blockquote.reason-text")).to_contain_text("every day for a month")
    shot(f, "fan-middle-page")

    f.get_by_role("button", name="Bookmark").click()
    expect(f.get_by_role("button", name="Bookmarked")).to_have_attribute("aria-pressed", "true")
    shot(f, "fan-bookmarked")
    f.get_by_role("button", name="Add to cart").click()
    f.wait_for_url(f"{base}/cart")
    expect(f.locator("li.cart-line")).to_have_count(1)
    shot(f, "fan-cart")

    # --- Cart checkout: hand-off to the simulator carrying the tracking id.
    f.get_by_role("button", name="Checkout at Lumen Mall").click()
    # The partner's cart URL template puts the whole cart into the shop's cart at once.
    f.wait_for_url(f"{sim.url}/cart")
    found = re.search(r"Referral 推广追踪: ([A-Za-z0-9_-]+)", f.locator("body").inner_text())
    assert found, f.locator("body").inner_text()
    token = found.group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{30}", token), token
    expect(f.locator("body")).to_contain_text(product["title"])
    shot(f, "shop-cart")
    f.get_by_role("button", name="Pay now 立即支付").click()
    f.wait_for_url(re.compile(rf"^{re.escape(sim.url)}/orders/"))
    shot(f, "shop-order-paid")

    # --- The signed postbacks arrive and book the commission (pending).
    def paid_order() -> Order | None:
        with db.read_sessions() as s:
            o = s.scalar(select(Order).where(Order.partner_id == partner_id))
            return o if o is not None and o.status == "paid" and o.commission_minor else None

    try:
        order = wait_for(paid_order, 15, "the paid order's postback")
    except AssertionError:
        with httpx.Client(timeout=10) as http:
            d = http.get(f"{sim.url}/_admin/deliveries",
                         headers={"authorization": f"Bearer {ADMIN}"}).json()
        with db.read_sessions() as s:
            o = s.scalar(select(Order).where(Order.partner_id == partner_id))
        raise AssertionError(f"no paid order: {o and vars(o)}; deliveries: {d}") from None
    assert order.attribution == "attributed" and order.creator_id == creator_id
    commission = order.commission_minor
    assert abs(commission - product["price_minor"] * RATE_BPS / 10000) <= 1, commission
    creator_share, _platform = ledger_rules.split_commission(
        commission, settings.platform_take_rate_bps)
    with db.read_sessions() as s:
        bal = ledger_q.creator_balances(s, creator_id)["CNY"]
    assert (bal.pending.amount, bal.available.amount) == (creator_share, 0)
    zero = Money(0, "CNY").format()
    share = Money(creator_share, "CNY").format()

    c.goto("/earnings")
    row = c.locator(".earnings-balances tbody tr", has_text="CNY")
    expect(row.locator("td").nth(0)).to_have_text(share)
    expect(row.locator("td").nth(1)).to_have_text(zero)
    expect(c.locator("li.order-trail")).to_contain_text(order.external_order_id)
    shot(c, "creator-earnings-pending")

    # --- Past the return window the settlement makes it available.
    with uow() as s:
        assert tracking.settle_now(s) == []
    clock.advance(timedelta(days=RETURN_DAYS + 1))
    with uow() as s:
        assert len(tracking.settle_now(s)) == 1
    c.reload()
    row = c.locator(".earnings-balances tbody tr", has_text="CNY")
    expect(row.locator("td").nth(0)).to_have_text(zero)
    expect(row.locator("td").nth(1)).to_have_text(share)
    shot(c, "creator-earnings-available")

    with db.read_sessions() as s:
        assert all(v == 0 for v in ledger_q.trial_balance(s).values()), \
            ledger_q.trial_balance(s)
        assert ledger_q.unbalanced_entries(s) == []
    ctx_c.close()
    ctx_f.close()
    assert not errors, errors
