"""Operator partner pages: register through the form, inline errors, 403 for others,
suspend/activate, the postback secret shown only once."""

from __future__ import annotations

import re

from shopwindow.partners import queries as partners_q
from tests.helpers import make_account
from tests.web.pages.util import HTML, page_csrf, sign_in

FORM = {"slug": "lumen", "name": "Lumen Mall", "domains": "lumenmall.com\n127.0.0.1:8101",
        "allow_subdomains": "1", "tracking_param": "sw_click", "product_source": "markup",
        "api_base_url": "", "cart_url_template": "https://lumenmall.com/cart/add?items={items}",
        "default_rate": "12.5", "category_rates": "beauty=15%\nbooks = 3",
        "attribution_window_days": "7", "return_window_days": "15", "currency": "CNY"}
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def _operator(client, uow):
    make_account(uow, "op", role="operator")
    sign_in(client, "op")
    return page_csrf(client, "/operator/partners/new")


def _create(client, tok, **kw):
    return client.post("/operator/partners/new", data={**FORM, "csrf_token": tok, **kw},
                       headers=HTML, follow_redirects=False)


def test_operator_registers_a_partner_and_sees_the_secret_once(client, uow):
    tok = _operator(client, uow)
    posted = _create(client, tok)
    # POST/redirect/GET: the form answers 303, the page it leads to shows the secret once.
    assert posted.status_code == 303, (posted.status_code, posted.text[:2000])
    assert not SECRET.findall(posted.text) and not SECRET.findall(str(posted.headers))
    r = client.get(posted.headers["location"], headers=HTML)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secrets = SECRET.findall(r.text)
    assert len(set(secrets)) == 1 and "shown only once" in r.text
    assert "The partner is registered." in r.text
    # Reloading the page it redirected to shows (and resubmits) nothing.
    assert not SECRET.findall(client.get(posted.headers["location"], headers=HTML).text)
    with uow() as s:
        p = partners_q.get_by_slug(s, "lumen")
        assert p.postback_secret == secrets[0]
        assert (p.default_rate_bps, p.category_rates) == (1250, {"beauty": 1500, "books": 300})
        assert p.cart_url_template == FORM["cart_url_template"]
        assert sorted((d.host, d.port, d.allow_subdomains) for d in p.domains) == [
            ("127.0.0.1", 8101, False), ("lumenmall.com", 0, True)]
        pid = p.id
    page = client.get(f"/operator/partners/{pid}", headers=HTML)
    assert page.status_code == 200 and secrets[0] not in page.text
    assert 'value="12.5"' in page.text and "beauty=15%" in page.text
    listing = client.get("/operator/partners", headers=HTML).text
    assert f'href="/operator/partners/{pid}"' in listing and secrets[0] not in listing
    # Rotation (POST → 303 → GET) shows the new secret once.
    r = client.post(f"/operator/partners/{pid}/rotate-secret", data={"csrf_token": tok},
                    headers=HTML)
    new = SECRET.findall(r.text)
    assert r.status_code == 200 and r.history and r.history[0].status_code == 303
    assert new and new[0] != secrets[0]
    assert new[0] not in client.get(f"/operator/partners/{pid}", headers=HTML).text
    with uow() as s:
        assert partners_q.get_partner(s, pid).postback_secret == new[0]


def test_validation_errors_are_inline_and_keep_values(client, uow):
    tok = _operator(client, uow)
    r = _create(client, tok, default_rate="abc")
    assert r.status_code == 422
    assert 'id="f-default_rate-error"' in r.text and "per cent" in r.text
    assert 'value="Lumen Mall"' in r.text and "beauty=15%" in r.text
    r = _create(client, tok, cart_url_template="https://evil.example/c?i={items}")
    assert r.status_code == 422 and 'id="f-cart_url_template-error"' in r.text
    r = _create(client, tok, domains="com")
    assert r.status_code == 422 and 'id="f-domains-error"' in r.text
    with uow() as s:
        assert partners_q.list_partners(s) == []
    r = _create(client, "nope")
    assert r.status_code == 403


def test_non_operators_get_403(client, uow):
    make_account(uow, "fan1")
    sign_in(client, "fan1")
    tok = page_csrf(client, "/")
    for path in ("/operator/partners", "/operator/partners/new", "/operator/partners/1"):
        r = client.get(path, headers=HTML)
        assert r.status_code == 403 and "<html" in r.text
    r = client.post("/operator/partners/new", data={**FORM, "csrf_token": tok}, headers=HTML)
    assert r.status_code == 403


def test_suspend_activate_and_domains(client, uow):
    tok = _operator(client, uow)
    assert _create(client, tok).status_code == 303
    with uow() as s:
        pid = partners_q.get_by_slug(s, "lumen").id
    r = client.post(f"/operator/partners/{pid}/suspend", data={"csrf_token": tok},
                    headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    with uow() as s:
        assert partners_q.get_partner(s, pid).status == "suspended"
    page = client.get(r.headers["location"], headers=HTML).text
    assert f'action="/operator/partners/{pid}/activate"' in page
    client.post(f"/operator/partners/{pid}/activate", data={"csrf_token": tok}, headers=HTML)
    with uow() as s:
        assert partners_q.get_partner(s, pid).status == "active"
    assert client.post(f"/operator/partners/{pid}/suspend", data={"csrf_token": "x"},
                       headers=HTML).status_code == 403
    r = client.post(f"/operator/partners/{pid}/domains",
                    data={"csrf_token": tok, "domain": "co.uk"}, headers=HTML)
    assert r.status_code == 422 and 'id="f-domain-error"' in r.text
    client.post(f"/operator/partners/{pid}/domains",
                data={"csrf_token": tok, "domain": "lumen-cdn.com"}, headers=HTML)
    with uow() as s:
        d = next(d for d in partners_q.get_partner(s, pid).domains
                 if d.host == "lumen-cdn.com")
        assert d.allow_subdomains is False
    client.post(f"/operator/partners/{pid}/domains/{d.id}/remove", data={"csrf_token": tok},
                headers=HTML)
    with uow() as s:
        assert "lumen-cdn.com" not in [x.host for x in partners_q.get_partner(s, pid).domains]
    # Terms edit with an error, then a good one.
    terms = {k: v for k, v in FORM.items() if k not in ("slug", "domains")}
    r = client.post(f"/operator/partners/{pid}", data={**terms, "csrf_token": tok,
                                                       "return_window_days": "x"}, headers=HTML)
    assert r.status_code == 422 and 'id="f-return_window_days-error"' in r.text
    r = client.post(f"/operator/partners/{pid}", data={**terms, "csrf_token": tok,
                                                       "default_rate": "8"}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303
    with uow() as s:
        assert partners_q.get_partner(s, pid).default_rate_bps == 800
