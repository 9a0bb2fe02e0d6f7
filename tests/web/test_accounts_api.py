"""Platform accounts API: RFC 9457 problem details naming the field and the rule."""

from __future__ import annotations

from tests.helpers import make_account, token_for


def test_get_and_patch_me(client, uow):
    aid = make_account(uow, "alice", role="creator")
    h = {"Authorization": f"Bearer {token_for(uow, aid)}"}
    r = client.get("/api/sw/v1/me", headers=h)
    assert r.status_code == 200 and r.json()["role"] == "creator" and r.json()["id"] == str(aid)
    r = client.patch("/api/sw/v1/me", headers=h, json={"region": "上海", "languages": ["zh", "en"]})
    assert r.status_code == 200 and r.json()["region"] == "上海"
    assert client.get("/api/sw/v1/me", headers=h).json()["languages"] == ["zh", "en"]


def test_patch_validation_is_problem_json(client, uow):
    aid = make_account(uow, "alice")
    h = {"Authorization": f"Bearer {token_for(uow, aid)}"}
    r = client.patch("/api/sw/v1/me", headers=h, json={"bio": "x" * 501})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["errors"][0]["field"] == "bio"
    assert "string_too_long" in body["errors"][0]["rule"]
    r = client.patch("/api/sw/v1/me", headers=h, json={"role": "operator"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
    assert client.get("/api/sw/v1/me", headers=h).json()["role"] == "fan"


def test_scope_and_auth_required(client, uow):
    aid = make_account(uow, "alice")
    ro = {"Authorization": f"Bearer {token_for(uow, aid, scopes='read')}"}
    r = client.patch("/api/sw/v1/me", headers=ro, json={"region": "x"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.get("/api/sw/v1/me")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


def test_delete_me_requires_password_and_revokes(client, uow):
    aid = make_account(uow, "alice")
    h = {"Authorization": f"Bearer {token_for(uow, aid)}"}
    r = client.post("/api/sw/v1/me/delete", headers=h, json={"password": "nope nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    r = client.post("/api/sw/v1/me/delete", headers=h, json={"password": "correct horse battery"})
    assert r.status_code == 204
    assert client.get("/api/sw/v1/me", headers=h).status_code == 401


def test_password_change(client, uow):
    aid = make_account(uow, "alice")
    h = {"Authorization": f"Bearer {token_for(uow, aid)}"}
    r = client.post("/api/sw/v1/me/password", headers=h,
                    json={"current_password": "correct horse battery", "new_password": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_password"
    r = client.post("/api/sw/v1/me/password", headers=h,
                    json={"current_password": "correct horse battery",
                          "new_password": "a much better one"})
    assert r.status_code == 204
    assert client.get("/api/sw/v1/me", headers=h).status_code == 401  # tokens revoked
