"""Sign up / in / out through the HTML forms: cookies, CSRF, inline errors, redirects, limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopwindow.accounts.models import Account, WebSession
from tests.helpers import make_account
from tests.web.pages.util import (
    HTML,
    PASSWORD,
    csrf_of,
    field_error,
    page_csrf,
    post_form,
    sign_in,
    sign_up,
)


def test_sign_up_sets_a_secure_session_cookie_and_signs_in(client, session):
    sign_up(client, "alice")
    acct = session.scalar(select(Account).where(Account.username_key == "alice"))
    assert acct is not None and acct.email == "alice@example.com"
    assert session.scalar(select(WebSession).where(WebSession.account_id == acct.id))
    r = client.get("/", headers=HTML)
    assert r.status_code == 200
    assert 'href="/@alice"' in r.text and 'action="/auth/sign_out"' in r.text


def test_session_cookie_flags(client, app):
    tok = page_csrf(client, "/auth/sign_up")
    r = client.post("/auth/sign_up", data={"username": "bob", "email": "bob@example.com",
                                           "password": PASSWORD, "csrf_token": tok},
                    follow_redirects=False)
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("sw_session="))
    low = cookie.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low
    assert "secure" not in low.replace("samesite", "")  # cookie_secure is off in tests


def test_session_cookie_secure_when_configured(settings, db):
    from shopwindow.app import create_app

    app = create_app(settings.model_copy(update={"cookie_secure": True}), db=db)
    with TestClient(app, base_url="https://testserver") as c:
        tok = page_csrf(c, "/auth/sign_up")
        r = c.post("/auth/sign_up", data={"username": "sec", "email": "sec@example.com",
                                          "password": PASSWORD, "csrf_token": tok},
                   follow_redirects=False)
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("sw_session="))
    assert "; secure" in cookie.lower()


@pytest.mark.parametrize("login", ["carol", "CAROL", "carol@example.com"])
def test_sign_in_with_username_or_email(client, uow, login):
    make_account(uow, "carol")
    sign_in(client, login)
    assert 'href="/@carol"' in client.get("/", headers=HTML).text


def test_wrong_password_is_422_inline_with_login_refilled(client, uow):
    make_account(uow, "dave")
    tok = page_csrf(client, "/auth/sign_in")
    r = client.post("/auth/sign_in", data={"login": "dave", "password": "nope-nope-nope",
                                           "csrf_token": tok})
    assert r.status_code == 422
    assert field_error(r.text, "f-password") == "Wrong username/e-mail or password"
    assert 'id="f-login"' in r.text and 'value="dave"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert "sw_session" not in client.cookies


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "bad name!"}, "f-username",
     "Username must be 1-30 letters, digits or underscores"),
    ({"username": "admin"}, "f-username", "This username is reserved"),
    ({"password": "short"}, "f-password", "Password must be at least 8 characters"),
    ({"email": "not-an-email"}, "f-email", "This e-mail address is not valid."),
])
def test_sign_up_validation_errors_inline(client, data, field, message):
    tok = page_csrf(client, "/auth/sign_up")
    body = {"username": "erin", "email": "erin@example.com", "password": PASSWORD,
            "display_name": "Erin <b>E</b>", "csrf_token": tok, **data}
    r = client.post("/auth/sign_up", data=body)
    assert r.status_code == 422
    assert field_error(r.text, field) == message
    # The form comes back filled in (escaped), except the password.
    assert "Erin &lt;b&gt;E&lt;/b&gt;" in r.text
    assert PASSWORD not in r.text


def test_sign_up_taken_username_and_email(client, uow):
    make_account(uow, "frank")
    tok = page_csrf(client, "/auth/sign_up")
    r = client.post("/auth/sign_up", data={"username": "Frank", "email": "x@example.com",
                                           "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 422 and field_error(r.text, "f-username") == "This username is taken"
    r = client.post("/auth/sign_up", data={"username": "frank2", "email": "FRANK@example.com",
                                           "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 422
    assert field_error(r.text, "f-email") == "This e-mail is already registered"


def test_sign_in_without_or_with_wrong_csrf_is_403(client, uow):
    make_account(uow, "gina")
    r = client.post("/auth/sign_in", data={"login": "gina", "password": PASSWORD})
    assert r.status_code == 403
    assert "This form has expired" in r.text and "sw_session" not in client.cookies
    page_csrf(client, "/auth/sign_in")  # sets the signed-out CSRF cookie
    r = client.post("/auth/sign_in", data={"login": "gina", "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert r.status_code == 403 and "sw_session" not in client.cookies


def test_signed_out_csrf_token_is_bound_to_the_cookie(client, new_client, uow):
    make_account(uow, "hank")
    other = new_client()
    attacker_token = page_csrf(other, "/auth/sign_in")
    page_csrf(client, "/auth/sign_in")
    r = client.post("/auth/sign_in", data={"login": "hank", "password": PASSWORD,
                                           "csrf_token": attacker_token})
    assert r.status_code == 403


def test_sign_up_without_csrf_is_403_and_creates_nothing(client, session):
    r = client.post("/auth/sign_up", data={"username": "ivan", "email": "ivan@example.com",
                                           "password": PASSWORD})
    assert r.status_code == 403 and "This form has expired" in r.text
    assert session.scalar(select(Account).where(Account.username_key == "ivan")) is None


def test_sign_out_requires_post_with_csrf(client, session):
    sign_up(client, "judy")
    r = client.post("/auth/sign_out", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    assert 'href="/@judy"' in client.get("/", headers=HTML).text  # still signed in
    r = post_form(client, "/auth/sign_out")
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert session.scalar(select(WebSession)) is None
    home = client.get("/", headers=HTML).text
    assert 'href="/auth/sign_in"' in home and 'href="/@judy"' not in home
    assert client.get("/auth/sign_out").status_code == 405


@pytest.mark.parametrize("evil", [
    "//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example",
])
def test_next_refuses_open_redirects(client, uow, evil):
    make_account(uow, "kate")
    r = client.get("/auth/sign_in", params={"next": evil}, headers=HTML)
    assert 'name="next" value="/"' in r.text
    r = client.post("/auth/sign_in", data={"login": "kate", "password": PASSWORD,
                                           "csrf_token": csrf_of(r.text), "next": evil},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_next_accepts_local_paths_like_the_oauth_authorize_page(client, uow):
    make_account(uow, "liam")
    nxt = "/oauth/authorize?client_id=abc&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"
    tok = page_csrf(client, f"/auth/sign_in?next={nxt.replace('&', '%26')}")
    r = client.post("/auth/sign_in", data={"login": "liam", "password": PASSWORD,
                                           "csrf_token": tok, "next": nxt},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == nxt


def test_signed_in_user_visiting_sign_in_goes_to_next(client):
    sign_up(client, "mona")
    r = client.get("/auth/sign_in?next=/settings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    r = client.get("/auth/sign_in?next=//evil.example", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_sign_in_rate_limit_shows_429_inline(settings, db, uow):
    from shopwindow.app import create_app

    make_account(uow, "nina")
    app = create_app(settings.model_copy(update={"signin_rate_limit": "2/minute"}), db=db)
    with TestClient(app) as c:
        tok = page_csrf(c, "/auth/sign_in")
        for _ in range(2):
            r = c.post("/auth/sign_in", data={"login": "nina", "password": "wrong-password",
                                              "csrf_token": tok})
            assert r.status_code == 422
        r = c.post("/auth/sign_in", data={"login": "nina", "password": PASSWORD,
                                          "csrf_token": tok})
        assert r.status_code == 429 and "Too many attempts" in r.text
        assert "sw_session" not in c.cookies


def test_sign_up_rate_limit(settings, db):
    from shopwindow.app import create_app

    app = create_app(settings.model_copy(update={"signup_rate_limit": "1/minute"}), db=db)
    with TestClient(app) as c:
        sign_up(c, "olga")
        c.cookies.clear()
        tok = page_csrf(c, "/auth/sign_up")
        r = c.post("/auth/sign_up", data={"username": "olga2", "email": "o2@example.com",
                                          "password": PASSWORD, "csrf_token": tok})
        assert r.status_code == 429 and "Too many attempts" in r.text


def test_registrations_closed(settings, db):
    from shopwindow.app import create_app

    app = create_app(settings.model_copy(update={"registrations_open": False}), db=db)
    with TestClient(app) as c:
        r = c.get("/auth/sign_up")
        assert r.status_code == 403 and "Registrations are closed" in r.text
        assert 'action="/auth/sign_up"' not in r.text


def test_oauth_authorize_sends_visitors_through_sign_in_and_back(client, uow):
    from urllib.parse import parse_qs, urlsplit

    from shopwindow.accounts import actions as accounts

    make_account(uow, "oauthy", locale="zh-CN")  # the account's language wins once signed in
    with uow() as s:
        client_id = accounts.create_app(s, name="Phone app", scopes="read write",
                                        redirect_uris="urn:ietf:wg:oauth:2.0:oob").app.client_id
    r = client.get("/oauth/authorize", params={
        "client_id": client_id, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        "response_type": "code", "scope": "read"}, follow_redirects=False)
    assert r.status_code == 303
    login_url = r.headers["location"]
    nxt = parse_qs(urlsplit(login_url).query)["next"][0]
    assert nxt.startswith("/oauth/authorize?")
    page = client.get(login_url, headers=HTML)
    r = client.post("/auth/sign_in", data={"login": "oauthy", "password": PASSWORD,
                                           "csrf_token": csrf_of(page.text), "next": nxt},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == nxt
    consent = client.get(nxt, headers={**HTML, "Accept-Language": "en"})
    assert consent.status_code == 200
    assert "授权 Phone app" in consent.text and 'action="/oauth/authorize"' in consent.text
