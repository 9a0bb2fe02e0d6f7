"""Real browser (headless Debian Chromium via Playwright) against the real app under uvicorn.

Flow: A signs up and posts a picture (mobile viewport, English) → B signs up in a second
context (desktop viewport, Chinese via Accept-Language) → B follows A → B sees A's post in
the home feed → B likes it (JS-enhanced form) → A reloads notifications and sees B's like.
Screenshots of every step go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.helpers import png_bytes

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
ON_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                 if Path(p).is_file()), None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served by uvicorn in a background thread on a free port."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if ON_CI:
            pytest.fail("CI=true but no chromium binary at /usr/lib/chromium/chromium or "
                        "/usr/bin/chromium (apt-get install chromium)")
        pytest.skip("no chromium binary (/usr/lib/chromium/chromium or /usr/bin/chromium)")
    if ON_CI:
        from playwright.sync_api import sync_playwright
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
        sync_playwright = sync_api.sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Shots:
    """Numbered screenshots per test run."""

    def __init__(self, prefix: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", prefix)
        self.n = 0

    def __call__(self, page: Any, name: str) -> None:
        self.n += 1
        # Full-page shots of a scrolled page draw the sticky header mid-page: go to the top.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{self.prefix}-{self.n:02d}-{name}.png"),
                        full_page=True)


def _watch_errors(page: Any, errors: list[str]) -> None:
    """Collect console errors (CSP violations included) and uncaught exceptions."""
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400
            else None)


def test_follow_post_like_notify(live_server: str, browser: Any, tmp_path: Path,
                                 request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    shot = Shots(request.node.name)
    errors: list[str] = []
    image = tmp_path / "lipstick.png"
    image.write_bytes(png_bytes(640, 480, (190, 40, 60)))

    # --- A: phone-sized, English.
    ctx_a = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 812},
                                locale="en-US", device_scale_factor=1)
    a = ctx_a.new_page()
    _watch_errors(a, errors)
    a.goto("/auth/sign_up")
    expect(a.locator("html")).to_have_attribute("lang", "en")
    a.get_by_label("Username", exact=True).fill("alice")
    a.get_by_label("E-mail").fill("alice@example.com")
    a.get_by_label("Password").fill(PASSWORD)
    shot(a, "a-sign-up")
    a.get_by_role("button", name="Sign up").click()
    a.wait_for_url(re.compile(r".*/onboarding/interests"))
    a.get_by_role("button", name="Skip for now").click()
    a.wait_for_url(f"{live_server}/")

    a.get_by_label("What would you recommend today?").fill(
        "My favourite lipstick this spring #beauty")
    a.get_by_label("Images (up to 9)").set_input_files(str(image))
    a.get_by_role("button", name="Post", exact=True).click()
    a.wait_for_url(re.compile(r".*/\?posted=1$"))
    card = a.locator("article.post").first
    expect(card).to_contain_text("My favourite lipstick this spring")
    thumb = card.locator(".media-grid img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("alt", "Image 1 of 1 posted by alice")
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(a, "a-posted-with-image")

    # --- B: desktop-sized, Chinese (Accept-Language negotiation).
    ctx_b = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                                locale="zh-CN")
    b = ctx_b.new_page()
    _watch_errors(b, errors)
    b.goto("/auth/sign_up")
    expect(b.locator("html")).to_have_attribute("lang", "zh-CN")
    b.get_by_label("用户名", exact=True).fill("bob")
    b.get_by_label("电子邮箱").fill("bob@example.com")
    b.get_by_label("密码").fill(PASSWORD)
    b.get_by_role("button", name="注册").click()
    b.wait_for_url(re.compile(r".*/onboarding/interests"))
    b.get_by_role("button", name="暂时跳过").click()
    b.wait_for_url(f"{live_server}/")

    b.goto("/@alice")
    follow = b.locator(".profile-buttons").get_by_role("button", name="关注")
    shot(b, "b-profile-before-follow")
    follow.click()
    b.wait_for_url(f"{live_server}/@alice")
    following = b.locator(".profile-buttons").get_by_role("button", name="已关注")
    expect(following).to_have_attribute("aria-pressed", "true")
    shot(b, "b-following")

    b.goto("/")
    post = b.locator("article.post", has_text="My favourite lipstick this spring")
    expect(post).to_be_visible()
    shot(b, "b-home-feed")

    like = post.locator("button.act-favourite")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    # The enhanced form swaps in the updated buttons without leaving the page.
    expect(post.locator("button.act-favourite")).to_have_attribute("aria-pressed", "true")
    expect(post.locator("button.act-favourite .act-count")).to_have_text("1")
    assert "#post-" not in b.url, "the like fell back to a full page submission"
    shot(b, "b-liked")

    # --- A sees the like in the notifications.
    expect(a.locator(".site-nav .badge")).to_have_count(0)
    a.reload()
    expect(a.locator(".site-nav .badge")).to_contain_text("2")  # follow + like
    a.get_by_role("link", name=re.compile("Notifications")).click()
    a.wait_for_url(f"{live_server}/notifications")
    items = a.locator("li.notification")
    expect(items.filter(has_text="liked your post")).to_have_count(1)
    expect(items.filter(has_text="followed you")).to_have_count(1)
    expect(items.filter(has_text="liked your post").get_by_role("link", name="bob")).to_be_visible()
    shot(a, "a-notifications")

    # The desktop layout, for the record.
    b.goto("/@alice")
    shot(b, "b-profile-desktop")

    ctx_a.close()
    ctx_b.close()
    assert not errors, errors
