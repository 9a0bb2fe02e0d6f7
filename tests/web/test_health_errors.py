"""Health check, error shapes, security headers, rate limits."""

from __future__ import annotations

from typing import Any

from shopwindow.config import Settings
from shopwindow.db.engine import Database


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path, settings):
    from fastapi.testclient import TestClient

    from shopwindow.app import create_app

    bad = Settings(**{**settings.model_dump(), "database_url":
                      "postgresql://nobody@127.0.0.1:1/none"})
    app = create_app(bad, db=Database(bad.database_url))
    with TestClient(app) as c:
        r = c.get("/healthz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"


def test_security_headers(client):
    r = client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_mastodon_error_shape_for_missing_token(client):
    r = client.get("/api/v1/timelines/home")
    assert r.status_code == 401 and "error" in r.json()


def _app_token(client: Any) -> str:
    app = client.post("/api/v1/apps", data={"client_name": "t", "redirect_uris":
                                            "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
    a = app.json()
    t = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id":
                                          a["client_id"], "client_secret": a["client_secret"],
                                          "scope": "read write"})
    return t.json()["access_token"]


def test_registration_validation_names_field(client):
    h = {"Authorization": f"Bearer {_app_token(client)}"}
    r = client.post("/api/v1/accounts", headers=h, json={
        "username": "bad name!", "email": "a@example.com", "password": "long password",
        "agreement": True})
    assert r.status_code == 422
    assert "username" in r.json()["details"]


def test_registration_rate_limited(settings, db):
    from fastapi.testclient import TestClient

    from shopwindow.app import create_app

    app = create_app(settings.model_copy(update={"signup_rate_limit": "2/minute"}), db=db)
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {_app_token(c)}"}
        codes = [c.post("/api/v1/accounts", headers=h, json={
            "username": f"user{i}", "email": f"u{i}@example.com", "password": "long password",
            "agreement": True}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_invalid_json_body_is_422_not_500(client):
    h = {"Authorization": f"Bearer {_app_token(client)}", "Content-Type": "application/json"}
    r = client.post("/api/v1/accounts", headers=h, content=b"{not json")
    assert r.status_code == 422


def test_openapi_lists_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/apps", "/api/v1/accounts", "/api/v1/statuses", "/api/v1/timelines/home",
              "/oauth/token", "/healthz"):
        assert p in paths
