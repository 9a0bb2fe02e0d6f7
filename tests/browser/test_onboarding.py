"""Real browser: sign up → onboarding interest picker → suggestions that match → follow one.

SQLite only (the recommenders' storage behaviour is covered on both databases by the
integration and web tests). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shopwindow.accounts import queries as accounts_q
from shopwindow.social import queries as social_q
from tests.browser.test_social_flow import (  # noqa: F401
    PASSWORD,
    Shots,
    browser,
    live_server,
)
from tests.integration.interests.conftest import World, world  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only (overrides the SQLite/PostgreSQL parametrisation)."""
    return f"sqlite:///{tmp_path}/test.db"


def _signed_up(chromium: Any, base_url: str, username: str, picks: list[str],
               shot: Shots | None = None) -> tuple[Any, Any, list[str]]:
    """(context, page, errors) of a new account that signed up and picked `picks`."""
    from playwright.sync_api import expect

    errors: list[str] = []
    ctx = chromium.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                               locale="en-US")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    # Product pictures point at the fictional shop (not reachable here): only our pages count.
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and "/showcase/img" not in r.url else None)
    page.goto("/auth/sign_up")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("E-mail").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r".*/onboarding/interests\?next=%2F$"))
    expect(page.get_by_role("heading", name="What are you into?")).to_be_visible()
    for label in picks:
        page.get_by_label(label).check()
    if shot is not None:
        shot(page, "picker")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base_url}/")
    return ctx, page, errors


def test_sign_up_pick_interests_see_matching_suggestions_follow(
        live_server: str, browser: Any, world: World, session: Any,  # noqa: F811
        request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    shot = Shots(request.node.name)
    ctx, page, errors = _signed_up(browser, live_server, "nova", ["Tech", "Pets"], shot)

    page.goto("/discover")
    people = page.locator(".interest-people .person")
    expect(people.first).to_be_visible()
    names = people.evaluate_all("els => els.map(e => e.dataset.username)")
    assert set(names[:2]) == {"tess", "pip"}, names  # the creators of the picked verticals
    assert "bella" not in names[:2]
    tess = page.locator('.person[data-username="tess"]')
    expect(tess.locator(".interest-reason")).to_have_text("In your interests: Tech")
    titles = page.locator(".interest-grid .rec-tile-title").all_inner_texts()
    assert titles and all(re.match(r"(Digital|Pets) thing", t) for t in titles[:5]), titles
    shot(page, "discover")

    tess.get_by_role("button", name="Follow").click()
    page.wait_for_url(f"{live_server}/discover")
    expect(page.locator('.person[data-username="tess"]')).to_have_count(0)
    shot(page, "followed")
    nova = accounts_q.get_by_username(session, "nova").id
    assert social_q.is_following(session, nova, world.creators["tess"])

    page.goto("/@tess")
    expect(page.locator(".profile-buttons").get_by_role("button", name="Following")) \
        .to_have_attribute("aria-pressed", "true")
    assert errors == [], errors
    ctx.close()


def test_show_less_of_a_topic_and_page_through_discover(
        live_server: str, browser: Any, world: World,  # noqa: F811
        request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    from shopwindow.interests import pages

    monkeypatch.setattr(pages, "DISCOVER_SIZE", 4)  # 9 products: pages of 4, 4 and 1
    shot = Shots(request.node.name)
    ctx, page, errors = _signed_up(browser, live_server, "lumi", ["Beauty", "Pets"])

    def every_page() -> list[str]:
        """The product titles of /discover, following "More products" to the end."""
        page.goto("/discover")
        seen: list[str] = []
        while True:
            seen += page.locator(".interest-grid .rec-tile-title").all_inner_texts()
            more = page.get_by_role("link", name="More products")
            if not more.count():
                return seen
            more.click()
            page.wait_for_load_state()

    seen = every_page()  # every product once, over three pages
    assert len(seen) == len(set(seen)) == 9, seen
    shot(page, "last-page")

    page.goto("/settings/interests")
    beauty = page.locator('.interest-summary li[data-slug="beauty"]')
    beauty.get_by_role("button", name="Show less").click()
    page.wait_for_url(f"{live_server}/settings/interests")
    muted = page.locator(".interest-muted")
    expect(muted.get_by_role("heading", name="Topics you see less of")).to_be_visible()
    expect(muted.locator('li[data-slug="beauty"]')).to_be_visible()
    expect(page.locator('.interest-summary li[data-slug="beauty"]')).to_have_count(0)
    expect(page.get_by_label("Beauty")).not_to_be_checked()  # no longer a picked topic
    shot(page, "muted")

    titles = every_page()
    assert len(titles) == 5 and not any(t.startswith("Beauty") for t in titles), titles
    assert titles[0].startswith("Pets thing"), titles  # the remaining picked topic leads

    page.goto("/settings/interests")
    muted.locator('li[data-slug="beauty"]').get_by_role("button", name="Show again").click()
    page.wait_for_url(f"{live_server}/settings/interests")
    expect(page.locator(".interest-muted")).to_have_count(0)
    titles = every_page()
    assert sum(t.startswith("Beauty thing") for t in titles) == 4, titles
    assert errors == [], errors
    ctx.close()
