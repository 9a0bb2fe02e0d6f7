"""A creator's report page updates live in real Chromium while a fan buys (SQLite).

The platform and a partner simulator run under uvicorn. The creator (UTC+8, phone-sized)
opens /reports; a fan opens the recommendation's middle page and taps Buy, which records
the click, hands off to the shop, and becomes an analytics event; the aggregator folds it
and the page's SSE stream makes the page fetch fresh figures — the Buy clicks number changes
without a reload. Screenshots go to test-artifacts/screenshots/ (prefix ``reports-``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopwindow.accounts import actions as accounts
from shopwindow.partners import actions as partners
from shopwindow.partnersim import SimConfig, build_app
from shopwindow.partnersim.signing import generate_secret
from shopwindow.showcase import actions as showcase
from shopwindow.social import actions as social
from tests.browser.test_social_flow import PASSWORD, Shots, browser  # noqa: F401
from tests.partnersim.conftest import ServerThread

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only (overrides the SQLite/PostgreSQL parametrisation)."""
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def servers(app: Any) -> Iterator[tuple[ServerThread, ServerThread]]:
    platform = ServerThread(app).start()
    sim = ServerThread(build_app(SimConfig(
        name="Lumen Mall", seed=2, products=20, admin_token="reports-admin",
        secret=generate_secret(), postback_url=f"{platform.url}/partners/lumen/postbacks",
        timeout=5.0))).start()
    yield platform, sim
    sim.stop()
    platform.stop()


def _sign_in(ctx: Any, username: str) -> Any:
    page = ctx.new_page()
    page.goto("/auth/sign_in")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))
    return page


def test_report_updates_live_when_a_fan_taps_buy(
        servers: tuple[ServerThread, ServerThread], browser: Any, uow: Any,  # noqa: F811
        request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    platform, sim = servers
    base = platform.url
    shot = Shots("reports-" + request.node.name)
    errors: list[str] = []
    with uow() as s:
        partners.register_partner(s, slug="lumen", name="Lumen Mall",
                                  domains=[f"127.0.0.1:{sim.port}"])
        maya = accounts.register_account(s, username="maya", email="maya@example.com",
                                         password=PASSWORD, role="creator").id
        finn = accounts.register_account(s, username="finn", email="finn@example.com",
                                         password=PASSWORD, role="fan").id
        accounts.register_account(s, username="olga", email="olga@example.com",
                                  password=PASSWORD, role="operator")
    with uow() as s:
        social.follow(s, finn, maya)
    with httpx.Client(timeout=10) as http:
        items = http.get(f"{sim.url}/api/products?per_page=50").json()["items"]
    product = next(p for p in items if p["availability"] == "InStock")
    with uow() as s:
        rec_id = showcase.publish(s, maya, [{"url": f"{sim.url}/p/{product['id']}",
                                             "reason": "Used it daily for a month."}]
                                  ).recommendations[0].id

    # --- The creator watches the report on a phone, eight hours ahead of UTC.
    ctx_c = browser.new_context(base_url=base, viewport={"width": 390, "height": 844},
                                locale="en-US", timezone_id="Asia/Shanghai")
    c = _sign_in(ctx_c, "maya")
    c.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    c.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error"
         else None)
    c.get_by_role("link", name="Reports").first.click()
    c.wait_for_url(re.compile(r".*/reports$"))
    # The script stores the browser's zone and reloads once; the page then says so.
    expect(c.locator("#report-tz")).to_have_text("Asia/Shanghai")
    c.locator("#r-range").select_option("1h")
    c.get_by_role("button", name="Show").click()
    c.wait_for_url(re.compile(r".*range=1h.*"))
    clicks = c.locator('[data-total="clicks"]')
    expect(clicks).to_have_text("0")
    expect(c.locator("#report")).to_have_attribute("data-live", "on")
    expect(c.locator("#report-chart svg polyline")).to_have_count(1)
    first = c.locator("#report-series tbody tr th time").first
    assert (first.get_attribute("datetime") or "").endswith("+08:00")
    c.evaluate("window.__sameDocument = true")
    shot(c, "creator-report-before")

    # --- A fan taps Buy on the middle page (a phone browser, not a bot user agent).
    ua = (f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
          f"Chrome/{browser.version} Mobile Safari/537.36")
    ctx_f = browser.new_context(base_url=base, viewport={"width": 375, "height": 812},
                                locale="en-US", user_agent=ua)
    f = _sign_in(ctx_f, "finn")
    f.goto(f"/r/{rec_id}")
    f.get_by_role("link", name=re.compile(r"^Buy at Lumen Mall")).click()
    f.wait_for_url(re.compile(rf"^{re.escape(sim.url)}/p/"))

    # --- The creator's page changes by itself, about a second later.
    expect(clicks).to_have_text("1", timeout=10_000)
    assert c.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(c.locator("#report-live")).to_contain_text("Updated")
    # the table (clicks column) was redrawn from the fresh figures too
    column = c.locator("#report-series tbody tr td:nth-child(5)").all_text_contents()
    assert sum(int(x) for x in column) == 1
    shot(c, "creator-report-after-buy")
    ctx_f.close()
    ctx_c.close()

    # --- The operator's platform report (desktop, Chinese) ranks the creator by clicks.
    ctx_o = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900},
                                locale="en-US", timezone_id="Europe/Berlin")
    o = _sign_in(ctx_o, "olga")
    o.goto("/locale/zh-CN?next=/")
    o.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    o.get_by_role("link", name="平台报表").click()
    expect(o.locator("#report-tz")).to_have_text("Europe/Berlin")
    top = o.locator("section.report-top", has_text="点击最多的达人")
    expect(top.locator("tbody tr").first).to_contain_text("@maya")
    expect(o.locator('[data-total="clicks"]')).to_have_text("1")
    shot(o, "operator-platform-report")
    ctx_o.close()
    assert not errors, errors
