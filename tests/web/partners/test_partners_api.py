"""Partners API: operator-only management, creators resolve links, RFC 9457 problems."""

from __future__ import annotations

from tests.helpers import make_account, token_for

P = "/api/sw/v1/partners"


def auth(uow, username, role, scopes="read write follow"):
    aid = make_account(uow, username, role=role)
    return {"Authorization": f"Bearer {token_for(uow, aid, scopes=scopes)}"}


def create(client, h, **kw):
    body = {"slug": "tmall", "name": "Tmall", "domains": ["tmall.com"], "default_rate_bps": 500,
            "category_rates": {"beauty": 800}, "currency": "CNY"}
    body.update(kw)
    return client.post(P, headers=h, json=body)


def test_operator_manages_partners(client, uow):
    op = auth(uow, "op", "operator")
    r = create(client, op)
    assert r.status_code == 201, r.text
    body = r.json()
    pid, secret = body["id"], body["postback_secret"]
    assert secret.startswith("whsec_") and body["status"] == "active"
    assert body["domains"][0]["host"] == "tmall.com" and body["domains"][0]["port"] is None
    got = client.get(f"{P}/{pid}", headers=op).json()
    assert "postback_secret" not in got and got["category_rates"] == {"beauty": 800}
    assert secret not in client.get(P, headers=op).text
    r = client.patch(f"{P}/{pid}", headers=op, json={"default_rate_bps": 650,
                                                    "return_window_days": 30})
    assert r.status_code == 200 and r.json()["default_rate_bps"] == 650
    assert r.json()["return_window_days"] == 30
    r = client.post(f"{P}/{pid}/suspend", headers=op)
    assert r.json()["status"] == "suspended" and r.json()["suspended_at"]
    assert [p["slug"] for p in client.get(P, headers=op,
                                          params={"status": "suspended"}).json()["items"]] == \
        ["tmall"]
    assert client.post(f"{P}/{pid}/activate", headers=op).json()["status"] == "active"
    r = client.post(f"{P}/{pid}/rotate-secret", headers=op)
    assert r.status_code == 200 and r.json()["postback_secret"] not in (secret, None)
    r = client.post(f"{P}/{pid}/domains", headers=op,
                    json={"domain": "127.0.0.1:8101", "allow_subdomains": True})
    assert r.status_code == 201 and r.json()["port"] == 8101
    assert r.json()["allow_subdomains"] is False
    did = r.json()["id"]
    assert len(client.get(f"{P}/{pid}/domains", headers=op).json()) == 2
    assert client.delete(f"{P}/{pid}/domains/{did}", headers=op).status_code == 204
    assert client.delete(f"{P}/{pid}/domains/{did}", headers=op).status_code == 404
    assert client.get(f"{P}/999", headers=op).status_code == 404
    assert client.get(f"{P}/abc", headers=op).status_code == 404


def test_only_operators(client, uow):
    op = auth(uow, "op", "operator")
    pid = create(client, op).json()["id"]
    for role in ("fan", "creator", "brand"):
        h = auth(uow, f"u_{role}", role)
        for method, path, body in [("POST", P, {"slug": "x", "name": "X"}), ("GET", P, None),
                                   ("GET", f"{P}/{pid}", None),
                                   ("PATCH", f"{P}/{pid}", {"name": "Y"}),
                                   ("POST", f"{P}/{pid}/suspend", None),
                                   ("POST", f"{P}/{pid}/rotate-secret", None),
                                   ("POST", f"{P}/{pid}/domains", {"domain": "x.com"})]:
            r = client.request(method, path, headers=h, json=body)
            assert r.status_code == 403, (role, method, path)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "forbidden" and r.json()["errors"][0]["field"] == "role"
    assert client.get(P).status_code == 401
    ro = auth(uow, "op_ro", "operator", scopes="read")
    assert client.get(P, headers=ro).status_code == 200
    assert client.post(f"{P}/{pid}/suspend", headers=ro).status_code == 403


def test_problem_details_name_the_field(client, uow):
    op = auth(uow, "op", "operator")
    assert create(client, op).status_code == 201
    cases = [
        (dict(slug="tmall"), 409, "slug", "unique"),
        (dict(slug="Bad Slug"), 422, "slug", "string_pattern_mismatch"),
        (dict(slug="b", domains=["co.uk"]), 422, "domain", "public_suffix"),
        (dict(slug="b", domains=["shop.tmall.com"]), 409, "domain", "unique_registrable"),
        (dict(slug="b", domains=["https://b.com/x"]), 422, "domain", "host_only"),
        (dict(slug="b", default_rate_bps=10_001), 422, "default_rate_bps", "less_than_equal"),
        (dict(slug="b", category_rates={"beauty": -1}), 422, "category_rates.beauty",
         "bps_range"),
        (dict(slug="b", product_source="feed"), 422, "product_source", "literal_error"),
        (dict(slug="b", product_source="api"), 422, "api_base_url", "required_for_api"),
        (dict(slug="b", postback_secret="hunter2"), 422, "postback_secret", "secret_format"),
        (dict(slug="b", status="active"), 422, "status", "extra_forbidden"),
    ]
    for kw, status, field, rule in cases:
        r = create(client, op, **kw)
        assert r.status_code == status, (kw, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        err = r.json()["errors"][0]
        assert (err["field"], err["rule"]) == (field, rule), kw
    pid = client.get(P, headers=op).json()["items"][0]["id"]
    r = client.patch(f"{P}/{pid}", headers=op, json={"postback_secret": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "postback_secret"


def test_resolve(client, uow, sim):
    op = auth(uow, "op", "operator")
    r = create(client, op, slug="sim", name="Sim", domains=[f"127.0.0.1:{sim.port}"],
               category_rates={"beauty": 800, "digital": 300})
    pid = r.json()["id"]
    creator = auth(uow, "alice", "creator")
    want = sim.products()[0]
    r = client.post(f"{P}/resolve", headers=creator, json={"url": f"{sim.url}/p/{want['id']}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partner"] == {"id": pid, "slug": "sim", "name": "Sim"}
    assert body["url"] == f"{sim.url}/p/{want['id']}"
    assert body["product"]["title"] == want["title"]
    assert body["product"]["price_minor"] == want["price_minor"]
    assert body["product"]["commission_rate_bps"] == {"beauty": 800, "digital": 300}.get(
        want["category"], 500)
    for url, rule in [("https://tmall.com.evil.cn/x", "partner_domain"),
                      ("https://evil.com\\@tmall.com", "backslash"),
                      (f"{sim.url}/p/99999999", "gone")]:
        r = client.post(f"{P}/resolve", headers=creator, json={"url": url})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["rule"]) == ("url", rule)
    client.post(f"{P}/{pid}/suspend", headers=op)
    r = client.post(f"{P}/resolve", headers=creator, json={"url": f"{sim.url}/p/{want['id']}"})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "partner_active"
    fan = auth(uow, "bob", "fan")
    r = client.post(f"{P}/resolve", headers=fan, json={"url": f"{sim.url}/p/1"})
    assert r.status_code == 403
    r = client.post(f"{P}/resolve", headers=creator, json={})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"


def test_cart_url_template_must_be_on_the_partners_domains(client, uow):
    op = auth(uow, "op", "operator")
    r = create(client, op, cart_url_template="https://evil.example/cart?items={items}")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cart_url_template"
    r = create(client, op, cart_url_template="https://tmall.com/cart/add")
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "cart_template"
    r = create(client, op, cart_url_template="https://cart.tmall.com/add?items={items}")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["cart_url_template"] == "https://cart.tmall.com/add?items={items}"
    r = client.patch(f"{P}/{pid}", headers=op,
                     json={"cart_url_template": "http://127.0.0.1:9/c?i={items}"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cart_url_template"
    r = client.patch(f"{P}/{pid}", headers=op, json={"cart_url_template": None})
    assert r.status_code == 200 and r.json()["cart_url_template"] is None
