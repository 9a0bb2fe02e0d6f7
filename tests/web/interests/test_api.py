"""Interests API and the Mastodon suggestions façade."""

from __future__ import annotations

from typing import Any

from shopwindow.social import actions as social
from tests.helpers import make_account, token_for


def _auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_mastodon_suggestions_shape_exclusions_and_dismiss(client: Any, uow: Any,
                                                           world: Any) -> None:
    a = world.fans["fan_a"]
    with uow() as s:
        social.follow(s, a, world.creators["bella"])
        social.follow(s, world.fans["fan_b"], world.creators["tess"])
        social.follow(s, a, world.fans["fan_b"])
        social.block(s, a, world.creators["pip"])
    tok = token_for(uow, a, "read write")
    r = client.get("/api/v2/suggestions", headers=_auth(tok))
    assert r.status_code == 200
    body = r.json()
    ids = [e["account"]["id"] for e in body]
    assert str(world.creators["tess"]) == ids[0]
    first = body[0]
    assert set(first) >= {"source", "sources", "account"}
    assert first["sources"] == ["friends_of_friends"] and first["source"] == "past_interactions"
    assert first["account"]["username"] == "tess" and "followers_count" in first["account"]
    for gone in (a, world.creators["bella"], world.creators["pip"], world.fans["fan_b"]):
        assert str(gone) not in ids
    v1 = client.get("/api/v1/suggestions", headers=_auth(tok)).json()
    assert [acct["id"] for acct in v1] == ids
    r = client.delete(f"/api/v1/suggestions/{world.creators['tess']}", headers=_auth(tok))
    assert r.status_code == 200 and r.json() == {}
    ids = [e["account"]["id"] for e in client.get("/api/v2/suggestions",
                                                  headers=_auth(tok)).json()]
    assert str(world.creators["tess"]) not in ids
    assert client.get("/api/v2/suggestions").status_code == 401
    assert client.delete("/api/v1/suggestions/abc", headers=_auth(tok)).status_code == 404


def test_platform_api_interests_products_and_reasons_in_chinese(client: Any, uow: Any,
                                                                world: Any) -> None:
    newbie = world.fans["newbie"]
    tok = token_for(uow, newbie, "read write")
    r = client.put("/api/sw/v1/interests", json={"verticals": ["pets"]}, headers=_auth(tok))
    assert r.status_code == 200 and r.json() == {"verticals": ["pets"], "ranked_home": False}
    r = client.get("/api/sw/v1/recommendations/products?limit=2",
                   headers={**_auth(tok), "Accept-Language": "zh-CN"})
    assert r.status_code == 200
    items = r.json()
    assert {i["product_id"] for i in items} == {str(world.products[n]) for n in (21, 22)}
    assert items[0]["reason"] == {"code": "picked", "text": "你关注的领域：萌宠", "count": 0,
                                  "name": "萌宠"}
    assert items[0]["recommendation"]["url"].startswith("/r/")
    r = client.put("/api/sw/v1/interests", json={"verticals": ["pets", "no-such"]},
                   headers=_auth(tok))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "verticals"
    r = client.post("/api/sw/v1/recommendations/dismissals",
                    json={"kind": "product", "id": str(world.products[21])}, headers=_auth(tok))
    assert r.status_code == 204
    ids = [i["product_id"] for i in client.get("/api/sw/v1/recommendations/products",
                                               headers=_auth(tok)).json()]
    assert str(world.products[21]) not in ids
    r = client.delete(f"/api/sw/v1/recommendations/dismissals/product/{world.products[21]}",
                      headers=_auth(tok))
    assert r.status_code == 204
    ids = [i["product_id"] for i in client.get("/api/sw/v1/recommendations/products",
                                               headers=_auth(tok)).json()]
    assert str(world.products[21]) in ids
    r = client.delete("/api/sw/v1/recommendations/dismissals/planet/1", headers=_auth(tok))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_show_less_of_a_topic_through_the_api(client: Any, uow: Any, world: Any,
                                              session: Any) -> None:
    from shopwindow.interests import queries

    tok = token_for(uow, world.fans["newbie"], "read write")
    vid = str(queries.find_vertical_by_slug(session, "pets").id)
    url = "/api/sw/v1/recommendations/dismissals"
    r = client.post(url, json={"kind": "vertical", "id": vid}, headers=_auth(tok))
    assert r.status_code == 204
    ids = {i["product_id"] for i in client.get(
        "/api/sw/v1/recommendations/products?limit=20", headers=_auth(tok)).json()}
    assert ids and not ids & {str(world.products[n]) for n in (21, 22)}
    r = client.post(url, json={"kind": "vertical", "id": "4242"}, headers=_auth(tok))
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"] == "id", r.json()
    r = client.post(url, json={"kind": "planet", "id": vid}, headers=_auth(tok))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = client.delete(f"{url}/vertical/{vid}", headers=_auth(tok))
    assert r.status_code == 204
    ids = {i["product_id"] for i in client.get(
        "/api/sw/v1/recommendations/products?limit=20", headers=_auth(tok)).json()}
    assert ids & {str(world.products[n]) for n in (21, 22)}


def test_product_discovery_pages_with_offset(client: Any, uow: Any, world: Any) -> None:
    tok = token_for(uow, world.fans["newbie"], "read")
    url = "/api/sw/v1/recommendations/products"
    whole = [i["product_id"] for i in client.get(f"{url}?limit=9", headers=_auth(tok)).json()]
    assert len(whole) == len(set(whole)) == 9
    pages = [[i["product_id"] for i in client.get(f"{url}?limit=4&offset={o}",
                                                  headers=_auth(tok)).json()]
             for o in (0, 4, 8, 12)]
    assert pages[0] + pages[1] + pages[2] == whole and pages[3] == []
    for bad in ("-1", "181", "x"):
        r = client.get(f"{url}?offset={bad}", headers=_auth(tok))
        assert r.status_code == 422, bad
        assert r.json()["errors"][0]["field"] == "offset"


def test_vertical_api_is_operator_only(client: Any, uow: Any, world: Any) -> None:
    fan_tok = token_for(uow, world.fans["fan_a"], "read write")
    body = {"slug": "tea", "name_en": "Tea", "name_zh": "茶"}
    r = client.post("/api/sw/v1/verticals", json=body, headers=_auth(fan_tok))
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "role:operator"
    ops_tok = token_for(uow, make_account(uow, "ops", role="operator"), "read write")
    r = client.post("/api/sw/v1/verticals", json=body, headers=_auth(ops_tok))
    assert r.status_code == 201
    vid = r.json()["id"]
    assert client.post("/api/sw/v1/verticals", json=body,
                       headers=_auth(ops_tok)).status_code == 409
    r = client.patch(f"/api/sw/v1/verticals/{vid}", json={"name_en": "Tea & coffee",
                                                          "active": False},
                     headers=_auth(ops_tok))
    assert r.status_code == 200 and r.json()["active"] is False
    slugs = [v["slug"] for v in client.get("/api/sw/v1/verticals").json()]
    assert "tea" not in slugs and "fashion" in slugs
    r = client.patch(f"/api/sw/v1/verticals/{vid}", json={"name_zh": ""},
                     headers=_auth(ops_tok))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name_zh"
    for bad in ({"slug": "big", "name_en": "B", "name_zh": "B", "position": 10**30},
                {"slug": "x" * 101, "name_en": "B", "name_zh": "B"},
                {"slug": "ok-slug", "name_en": "B"}):
        r = client.post("/api/sw/v1/verticals", json=bad, headers=_auth(ops_tok))
        assert r.status_code == 422, (bad, r.text)
    assert client.patch("/api/sw/v1/verticals/12345678901234567890", json={},
                        headers=_auth(ops_tok)).status_code == 404


def test_profile_shows_decayed_interest_shares(client: Any, uow: Any, world: Any) -> None:
    from shopwindow.showcase import actions as showcase

    a = world.fans["fan_a"]
    with uow() as s:
        social.follow(s, a, world.creators["pip"])
        showcase.bookmark_product(s, a, world.recs[1])
        showcase.bookmark_product(s, a, world.recs[2])
    tok = token_for(uow, a, "read")
    body = client.get("/api/sw/v1/interests/profile", headers=_auth(tok)).json()
    # two beauty bookmarks (3 each) outweigh one follow of a pets creator (3)
    assert [v["slug"] for v in body["verticals"]] == ["beauty", "pets"]
    assert body["verticals"][0]["share"] == 0.6667 and body["verticals"][0]["name"] == "Beauty"
    assert {c["account"]["username"] for c in body["creators"]} == {"bella", "pip"}
    assert {p["product_id"] for p in body["products"]} == {
        str(world.products[1]), str(world.products[2])}
    zh = client.get("/api/sw/v1/interests/profile",
                    headers={**_auth(tok), "Accept-Language": "zh-CN"}).json()
    assert zh["verticals"][0]["name"] == "美妆护肤"
