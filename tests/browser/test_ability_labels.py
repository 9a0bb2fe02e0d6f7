"""Ability labels in a real browser: a creator's bootstrap label on the profile, an operator
corrects it on /operator/labels (set one vertical, remove the model's), and a Chinese visitor
sees the corrected label in Chinese. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shopwindow.interests import actions as interests
from shopwindow.interests import labels_train
from shopwindow.social import actions as social
from tests.browser.test_social_flow import (  # noqa: F401 (browser, live_server: fixtures)
    PASSWORD,
    Shots,
    _watch_errors,
    browser,
    live_server,
)
from tests.helpers import make_account

pytestmark = pytest.mark.browser


def test_operator_corrects_a_creators_labels(live_server: str, browser: Any,  # noqa: F811
                                             db: Any, uow: Any, settings: Any,
                                             request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    with uow() as s:
        interests.ensure_default_verticals(s)
    bella = make_account(uow, "bella", role="creator")
    make_account(uow, "olga", role="operator")
    with uow() as s:
        for text in ("今天试了三支口红，哑光唇釉很显白", "敏感肌护肤：精华、面霜、防晒霜",
                     "my skincare routine with serum and sunscreen"):
            social.create_post(s, bella, text=text)
    labels_train.train(db, settings.data_dir)
    assert labels_train.apply(db, settings.data_dir)[bella][0] == "beauty"

    shot = Shots(request.node.name)
    errors: list[str] = []
    ctx = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                              locale="en-US")
    page = ctx.new_page()
    _watch_errors(page, errors)
    page.goto("/auth/sign_in")
    page.get_by_label("Username or e-mail").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(onboarding/interests)?$"))

    page.goto("/@bella")
    tags = page.get_by_role("list", name="Ability labels")
    expect(tags.get_by_text("Beauty", exact=True)).to_be_visible()
    shot(page, "profile-model-label")
    page.get_by_role("link", name="Edit ability labels").click()
    page.wait_for_url(re.compile(r".*/operator/labels\?u=bella$"))
    page.get_by_label("Add a label").select_option("pets")
    page.get_by_role("button", name="Set label").click()
    expect(page.get_by_role("status")).to_contain_text("The label is set")
    page.locator('tr[data-vertical="beauty"]').get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text("The label is removed")
    expect(page.locator('tr[data-vertical="beauty"]')).to_contain_text("Removed by an operator")
    shot(page, "operator-corrected")

    page.goto("/@bella")
    expect(tags.get_by_text("Pets", exact=True)).to_be_visible()
    expect(tags.get_by_text("Beauty", exact=True)).to_have_count(0)

    zh = browser.new_context(base_url=live_server, locale="zh-CN",
                             viewport={"width": 375, "height": 812})
    visitor = zh.new_page()
    _watch_errors(visitor, errors)
    visitor.goto("/@bella")
    zh_tags = visitor.get_by_role("list", name="能力标签")
    expect(zh_tags.get_by_text("萌宠", exact=True)).to_be_visible()
    expect(zh_tags.locator("li")).to_have_count(1)
    shot(visitor, "profile-zh")
    ctx.close()
    zh.close()
    assert errors == []
