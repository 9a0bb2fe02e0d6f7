"""Jinja2 rendering with per-request locale (Babel catalogs), CSRF token and page context.

One Jinja2 environment per supported locale (built lazily, then shared): gettext callables
are installed once per environment, so rendering is thread-safe and needs no per-request
mutation of a shared environment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel import negotiate_locale
from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.numbers import format_decimal
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shopwindow.core.clock import as_utc, utcnow

TEMPLATES = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "messages"

# Public locale tags (html lang, cookie, account.locale) and the Babel/gettext directory names.
SUPPORTED_LOCALES: dict[str, str] = {"en": "en", "zh-CN": "zh_CN"}
LOCALE_NAMES: dict[str, str] = {"en": "English", "zh-CN": "简体中文"}
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "sw_locale"
ANON_CSRF_COOKIE = "sw_csrf"


def normalise_locale(tag: str | None) -> str | None:
    """Map 'zh', 'zh_CN', 'zh-cn', 'en-US' … to a supported tag, or None."""
    if not tag:
        return None
    t = tag.strip().replace("_", "-").lower()
    for known in SUPPORTED_LOCALES:
        if t == known.lower():
            return known
    if t == "zh" or t.startswith("zh-"):
        return "zh-CN"
    if t == "en" or t.startswith("en-"):
        return "en"
    return None


def parse_accept_language(header: str) -> list[str]:
    """Language ranges of an Accept-Language header, best first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        bits = part.strip().split(";")
        tag = bits[0].strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        q = 1.0
        for b in bits[1:]:
            k, _, v = b.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, tag))
    return [t for _q, _i, t in sorted(ranked)]


def negotiate(header: str | None) -> str | None:
    """Babel negotiation of an Accept-Language header against our catalogs."""
    if not header:
        return None
    preferred = [t.replace("-", "_") for t in parse_accept_language(header)]
    # 'zh' is listed so that zh, zh_TW, zh_Hans_CN … fall back to our Chinese catalog.
    found = negotiate_locale(preferred, ["en", "zh_CN", "zh"])
    return normalise_locale(found)


def request_locale(request: Request) -> str:
    """Cookie choice, else the signed-in account's locale, else Accept-Language, else en."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return str(cached)
    loc = normalise_locale(request.cookies.get(LOCALE_COOKIE))
    if loc is None:
        auth = getattr(request.state, "auth", None)
        acct = getattr(auth, "account", None) if auth is not None else None
        if acct is not None and getattr(auth, "via", "") == "cookie":
            loc = normalise_locale(acct.locale)
    if loc is None:
        loc = negotiate(request.headers.get("accept-language"))
    if loc is None:
        settings = getattr(request.app.state, "settings", None)
        loc = normalise_locale(getattr(settings, "default_locale", None)) or DEFAULT_LOCALE
    request.state.locale = loc
    return loc


@lru_cache
def translations(locale: str) -> Translations:
    """Compiled catalog for a supported locale tag."""
    t = Translations.load(str(LOCALE_DIR), [SUPPORTED_LOCALES.get(locale, "en")], domain=DOMAIN)
    return t if isinstance(t, Translations) else Translations()


def translate(locale: str, message: str) -> str:
    """Plain-text translation of a runtime string (e.g. a domain error's detail).

    Unlike the template `_()` this returns an ordinary str, so autoescaping still applies
    to messages that may echo user input.
    """
    return str(translations(locale).gettext(message)) if message else message


def reltime(dt: datetime | None, locale: str) -> str:
    """'3 minutes ago' / '3分钟前'; dates for anything older than a month."""
    if dt is None:
        return ""
    delta = as_utc(dt) - utcnow()
    if -delta > timedelta(days=30):
        return format_date(as_utc(dt), "medium", locale=SUPPORTED_LOCALES[locale])
    if abs(delta) < timedelta(seconds=1):
        delta = timedelta(seconds=-1)
    return format_timedelta(delta, add_direction=True, threshold=1.0,
                            locale=SUPPORTED_LOCALES[locale])


def fulltime(dt: datetime | None, locale: str) -> str:
    if dt is None:
        return ""
    return format_datetime(as_utc(dt), "medium", tzinfo=UTC,
                           locale=SUPPORTED_LOCALES[locale]) + " UTC"


def monthyear(dt: datetime | None, locale: str) -> str:
    """'Nov 2026' / '2026年11月'."""
    if dt is None:
        return ""
    return format_skeleton("yMMM", as_utc(dt), locale=SUPPORTED_LOCALES[locale])


def isotime(dt: datetime | None) -> str:
    return as_utc(dt).isoformat(timespec="seconds") if dt is not None else ""


def number(n: int | float | None, locale: str) -> str:
    return format_decimal(n or 0, locale=SUPPORTED_LOCALES[locale])


def _bind(fn: Callable[..., str], locale: str) -> Callable[[Any], str]:
    def bound(v: Any) -> str:
        return fn(v, locale)

    return bound


def avatar_url(acct: Any) -> str:
    """Relative URL of an account's avatar (the bundled default when none is set)."""
    key = getattr(acct, "avatar_key", None)
    return f"/media/{key}" if key else "/static/img/avatar.png"


def header_url(acct: Any) -> str:
    key = getattr(acct, "header_key", None)
    return f"/media/{key}" if key else "/static/img/header.png"


def _base_env() -> Environment:
    e = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters["urlpart"] = lambda s: quote(str(s), safe="")
    e.filters["iso"] = isotime
    e.globals["avatar_url"] = avatar_url
    e.globals["header_url"] = header_url
    return e


@lru_cache
def env_for(locale: str) -> Environment:
    """The Jinja2 environment rendering in `locale` (gettext + Babel formatters bound)."""
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    e = _base_env()
    e.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    e.filters["reltime"] = _bind(reltime, locale)
    e.filters["fulltime"] = _bind(fulltime, locale)
    e.filters["number"] = _bind(number, locale)
    e.filters["monthyear"] = _bind(monthyear, locale)
    e.filters["tr"] = _bind(lambda s, loc: translate(loc, str(s)), locale)
    e.globals["locale"] = locale
    e.globals["locale_names"] = LOCALE_NAMES
    return e


# Kept for code that wants the default-locale environment directly.
env = env_for(DEFAULT_LOCALE)


# ------------------------------------------------------------------ CSRF for signed-out forms


def _anon_signature(secret: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), b"sw-anon-csrf:" + nonce.encode(), hashlib.sha256)
    return mac.hexdigest()


def anon_csrf_token(request: Request) -> str:
    """Signed double-submit token for forms shown before sign-in.

    The cookie holds a random nonce; the form carries HMAC(secret_key, nonce). A forged
    cross-site POST has neither the cookie's value nor the key to sign a nonce of its own.
    """
    nonce = request.cookies.get(ANON_CSRF_COOKIE) or getattr(request.state, "new_anon_csrf", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.new_anon_csrf = nonce
    return _anon_signature(request.app.state.settings.secret_key, nonce)


def check_anon_csrf(request: Request, token: str) -> bool:
    nonce = request.cookies.get(ANON_CSRF_COOKIE)
    if not nonce or not token:
        return False
    expected = _anon_signature(request.app.state.settings.secret_key, nonce)
    return hmac.compare_digest(expected, token)


def request_csrf_token(request: Request) -> str:
    """The token forms must echo: the session's for signed-in users, else the signed one."""
    auth = getattr(request.state, "auth", None)
    if auth is not None and getattr(auth, "via", "") == "cookie" and auth.csrf_token:
        return str(auth.csrf_token)
    return anon_csrf_token(request)


def current_account(request: Request) -> Any:
    """The signed-in (cookie) account of this request, if any."""
    auth = getattr(request.state, "auth", None)
    if auth is not None and getattr(auth, "via", "") == "cookie":
        return auth.account
    return None


# ------------------------------------------------------------------ rendering


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render a page template in the request's locale."""
    locale = request_locale(request)
    ctx.setdefault("csrf_token", request_csrf_token(request))
    ctx.setdefault("me", current_account(request))
    if not ctx.get("current_url"):
        ctx["current_url"] = request.url.path + (f"?{request.url.query}"
                                                 if request.url.query else "")
    html = env_for(locale).get_template(template).render(request=request, **ctx)
    response = HTMLResponse(html, status_code=status)
    finish(request, response)
    return response


def finish(request: Request, response: Any) -> None:
    """Set cookies decided while rendering (the signed-out CSRF nonce) and cache policy."""
    nonce = getattr(request.state, "new_anon_csrf", None)
    if nonce and not request.cookies.get(ANON_CSRF_COOKIE):
        settings = request.app.state.settings
        response.set_cookie(ANON_CSRF_COOKIE, nonce, max_age=7 * 24 * 3600, httponly=True,
                            samesite="lax", secure=settings.cookie_secure, path="/")
    # Pages carry per-user content and CSRF tokens: never store them in shared caches.
    response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers.setdefault("Vary", "Cookie, Accept-Language")


def render_error(request: Request, status: int, detail: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, detail=detail)
