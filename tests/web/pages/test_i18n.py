"""Locale negotiation, the language switch, Babel formatting, and catalog freshness."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from shopwindow.core.clock import utcnow
from shopwindow.web import templating
from tests.helpers import make_account
from tests.web.pages.util import HTML, compose, post_form, sign_in, sign_up

ROOT = Path(__file__).resolve().parents[3]
LOCALE_DIR = ROOT / "src" / "shopwindow" / "locale"
CATALOGS = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"))


# ------------------------------------------------------------------ negotiation (pure)


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-TW", "zh-CN"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR, de;q=0.8", None),
    ("fr;q=1, zh-CN;q=0.5", "zh-CN"),
    ("en;q=0.1, zh-CN;q=0.9", "zh-CN"),
    ("zh-CN;q=0, en", "en"),
    ("", None),
    ("*", None),
])
def test_accept_language_negotiation(header, expected):
    assert templating.negotiate(header) == expected


def test_relative_time_and_numbers_use_babel():
    past = utcnow() - timedelta(minutes=3)
    assert templating.reltime(past, "en") == "3 minutes ago"
    assert templating.reltime(past, "zh-CN") == "3分钟前"
    assert templating.number(12345, "en") == "12,345"
    assert templating.number(12345, "zh-CN") == "12,345"
    old = utcnow() - timedelta(days=90)
    assert str(old.year) in templating.reltime(old, "zh-CN")


# ------------------------------------------------------------------ pages


def test_default_is_english(client):
    r = client.get("/", headers=HTML)
    assert '<html lang="en"' in r.text and "Sign up" in r.text


def test_accept_language_zh_cn_renders_chinese(client):
    r = client.get("/auth/sign_in", headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 200
    assert '<html lang="zh-CN"' in r.text
    assert "用户名或电子邮箱" in r.text and "登录" in r.text
    assert "Username or e-mail" not in r.text


def test_cookie_switch_beats_accept_language_and_is_offered_on_every_page(client):
    r = client.get("/public", headers={**HTML, "Accept-Language": "en"})
    assert 'href="/locale/zh-CN?next=/public"' in r.text
    r = client.get("/locale/zh-CN", params={"next": "/public"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/public"
    assert "sw_locale=zh-CN" in r.headers["set-cookie"]
    r = client.get("/public", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="zh-CN"' in r.text and "发现" in r.text
    client.get("/locale/en", follow_redirects=False)
    assert '<html lang="en"' in client.get("/public", headers=HTML).text


def test_locale_switch_refuses_open_redirect_and_unknown_locale(client):
    r = client.get("/locale/zh-CN", params={"next": "//evil.example"}, follow_redirects=False)
    assert r.headers["location"] == "/"
    assert client.get("/locale/xx-YY", headers=HTML).status_code == 404


def test_signed_in_account_locale_is_used_without_cookie(client, uow):
    make_account(uow, "lin", locale="zh-CN")
    sign_in(client, "lin")
    r = client.get("/", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="zh-CN"' in r.text and "今天想推荐点什么？" in r.text


def test_sign_up_stores_the_page_locale(client, session):
    from sqlalchemy import select

    from shopwindow.accounts.models import Account

    client.get("/locale/zh-CN")
    sign_up(client, "wei")
    assert session.scalar(select(Account.locale).where(Account.username_key == "wei")) == "zh-CN"


def test_chinese_errors_and_relative_times(client, uow):
    client.get("/locale/zh-CN")
    sign_up(client, "mei")
    compose(client, "你好")
    r = client.get("/", headers=HTML)
    assert "秒钟前" in r.text or "分钟前" in r.text
    r = post_form(client, "/compose", {"text": "", "visibility": "public"})
    assert r.status_code == 422 and "帖子需要文字或至少一张图片" in r.text


# ------------------------------------------------------------------ catalogs


def test_there_are_catalogs_for_en_and_zh_cn():
    names = {p.parts[-3] for p in CATALOGS}
    assert {"en", "zh_CN"} <= names


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_compiled_mo_is_up_to_date(po_path):
    # Compare translations, not bytes: the .mo header names the Babel version that wrote it.
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=po_path.parts[-3])
    with po_path.with_suffix(".mo").open("rb") as f:
        compiled = read_mo(f)

    def pairs(cat):
        return {(m.id if isinstance(m.id, str) else tuple(m.id),
                 m.string if isinstance(m.string, str) else tuple(m.string))
                for m in cat if m.id and m.string and not m.fuzzy}

    assert pairs(catalog) == pairs(compiled), (
        f"{po_path.with_suffix('.mo')} is stale: run `pybabel compile -d src/shopwindow/locale`")


def _extracted_ids() -> set[str | tuple[str, str]]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    out: set[str | tuple[str, str]] = set()
    for _file, _line, msg, _comments, ctx in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        mid = msg[0] if isinstance(msg, tuple) else msg
        out.add((ctx, mid) if ctx else mid)
    return out


def test_every_page_string_is_translated_to_chinese():
    extracted = _extracted_ids()
    assert "Sign in" in extracted and "Username or e-mail" in extracted
    po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    translated = {((m.context, m.id) if m.context else m.id) for m in catalog
                  if m.id and m.string and not m.fuzzy}
    missing = sorted(map(str, extracted - translated))
    assert not missing, (
        "untranslated strings (run the pybabel commands in babel.cfg and translate): "
        f"{missing}")


def test_error_pages_are_localised(client):
    r = client.get("/no/such/page", headers={**HTML, "Accept-Language": "zh-CN"})
    assert r.status_code == 404 and '<html lang="zh-CN"' in r.text and "找不到页面" in r.text
    r = client.get("/@nobody", headers={**HTML, "Accept-Language": "zh-CN"})
    assert r.status_code == 404 and "找不到该账号" in r.text
