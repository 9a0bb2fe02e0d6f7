"""Helpers for page tests: drive the HTML forms like a browser would (no mocks)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


def page_csrf(client: TestClient, path: str = "/") -> str:
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, r.text[:500]
    return csrf_of(r.text)


def sign_up(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> None:
    tok = page_csrf(client, "/auth/sign_up")
    r = client.post("/auth/sign_up", data={"username": username,
                                           "email": f"{username}@example.com",
                                           "password": password, "csrf_token": tok, **extra},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> None:
    tok = page_csrf(client, "/auth/sign_in")
    r = client.post("/auth/sign_in", data={"login": login, "password": password,
                                           "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]


def post_form(client: TestClient, url: str, data: dict[str, Any] | None = None,
              files: Any = None, csrf_page: str = "/", **kw: Any) -> Any:
    """POST a form with the CSRF token taken from `csrf_page`; redirects are not followed."""
    body = {"csrf_token": page_csrf(client, csrf_page), **(data or {})}
    return client.post(url, data=body, files=files, follow_redirects=False, **kw)


def compose(client: TestClient, text: str, visibility: str = "public", files: Any = None,
            **extra: str) -> Any:
    r = post_form(client, "/compose", {"text": text, "visibility": visibility, **extra},
                  files=files)
    assert r.status_code == 303, r.text[:2000]
    return r


def post_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', html)]


def field_error(html: str, field_id: str) -> str | None:
    """Text of the inline error shown under the field with id `field_id`."""
    m = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html,
                  re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)).replace("⚠", "").strip() if m else None
