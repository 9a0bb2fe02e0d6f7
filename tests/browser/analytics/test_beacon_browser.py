"""beacon.js in real Chromium: a fan scrolls the home feed and reads a post; the
impression and the read (with its dwell time) reach the rollups within about a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import queries
from shopwindow.analytics.models import Event
from shopwindow.db.engine import Database
from shopwindow.social import actions as social
from tests.browser.test_social_flow import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    _watch_errors,
    live_server,
)
from tests.helpers import make_account

pytestmark = pytest.mark.browser
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


def _wait(fn: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium presenting an ordinary desktop user agent and Chinese as its language.

    Headless Chromium says "HeadlessChrome", which the beacon drops as automation; beacons
    sent while a page unloads come from the browser process, so the context's user agent
    and locale do not apply to them: the launch flags set both.
    """
    if CHROMIUM is None:
        pytest.skip("no chromium binary")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=[*CHROMIUM_ARGS, f"--user-agent={CHROME}",
                                     "--lang=zh-CN", "--accept-lang=zh-CN"])
        try:
            yield b
        finally:
            b.close()


def test_feed_impressions_and_reads_reach_rollups(live_server: str, browser: Any,  # noqa: F811
                                                 uow: Any, db: Database) -> None:
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "reader")
    with uow() as s:
        post = social.create_post(s, creator, text="Why this lamp is worth it").id
        social.follow(s, fan, creator)
        token = accounts.start_web_session(s, accounts_q.get_account(s, fan),
                                           max_age=3600).token
    ctx = browser.new_context(base_url=live_server, locale="zh-CN",
                              viewport={"width": 1280, "height": 900})
    host = live_server.split("//", 1)[1].split(":")[0]
    ctx.add_cookies([{"name": "sw_session", "value": token, "domain": host, "path": "/"}])
    page = ctx.new_page()
    errors: list[str] = []
    _watch_errors(page, errors)
    page.goto("/")
    page.locator(f"#post-{post}").wait_for()
    page.wait_for_timeout(300)
    page.evaluate(f"location.href = '/@maker/{post}'")
    page.wait_for_url(f"**/@maker/{post}")
    page.locator("article.post-main").wait_for()
    page.wait_for_timeout(1500)
    page.evaluate("location.href = '/notifications'")
    page.wait_for_load_state()

    def rollups() -> tuple[int, int, int] | None:
        with db.read_sessions() as s:
            got = (queries.rollup_total(s, "post", post, "impressions"),
                   queries.rollup_total(s, "post", post, "reads"),
                   queries.rollup_total(s, "post", post, "dwell_ms"))
        return got if got[0] >= 2 and got[1] else None

    got = _wait(rollups)
    assert got is not None, "no read reached the rollups"
    impressions, reads, dwell = got
    assert impressions == 2  # the feed (surface home) and the post page (other)
    assert reads == 1 and 1400 <= dwell < 60_000
    with db.read_sessions() as s:
        surfaces = set(s.scalars(select(Event.surface).where(Event.type == "impression")))
        lang = s.scalars(select(Event.lang).where(Event.type == "read")).one()
        assert queries.rollup_total(s, "creator", creator, "impressions", dim="follower",
                                    dim_value="yes") == 2
    assert surfaces == {"home", "other"} and lang == "zh-CN"
    assert errors == []
    ctx.close()
