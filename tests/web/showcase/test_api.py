"""Showcase platform API: publisher, showcase, middle page data, bookmarks, cart, IDOR."""

from __future__ import annotations

from tests.helpers import make_account, token_for
from tests.web.showcase.conftest import REASON, publish


def bearer(uow, account_id):
    return {"authorization": f"Bearer {token_for(uow, account_id)}"}


def test_preview_and_publish(client, uow, sim, partner_id, creator, in_stock):
    h = bearer(uow, creator)
    p = in_stock[0]
    r = client.post("/api/sw/v1/showcase/preview", json={"url": f"{sim.url}/p/{p['id']}"},
                    headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["price"]["amount_minor"], body["stock"], body["partner_name"]) \
        == (p["title"], p["price_minor"], p["stock"], "Test Mall")
    r = client.post("/api/sw/v1/showcase/recommendations", headers=h, json={
        "items": [{"url": f"{sim.url}/p/{p['id']}", "reason": REASON, "title": "Linen dress",
                   "images": p["images"][:1]}], "text": "Summer", "visibility": "public"})
    assert r.status_code == 201, r.text
    rec = r.json()["recommendations"][0]
    assert (rec["title"], rec["reason"], rec["images"]) == ("Linen dress", REASON,
                                                           p["images"][:1])
    r = client.get(f"/api/sw/v1/recommendations/{rec['id']}")
    assert r.status_code == 200 and r.json()["product"]["price"]["amount_minor"] == \
        p["price_minor"]
    assert "bookmarked" in r.json() and r.json()["bookmarked"] is None


def test_publisher_errors_name_fields(client, uow, sim, partner_id, creator, in_stock):
    h = bearer(uow, creator)
    r = client.post("/api/sw/v1/showcase/preview", json={"url": "https://evil.example/p/1"},
                    headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "url"
    r = client.post("/api/sw/v1/showcase/recommendations", headers=h, json={"items": [
        {"url": f"{sim.url}/p/{in_stock[0]['id']}", "reason": REASON,
         "title": "连衣裙女 夏季连衣裙 新款连衣裙"}]})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert (err["field"], err["rule"]) == ("items.0.title", "title_repeated_word")
    r = client.post("/api/sw/v1/showcase/recommendations", headers=h, json={"items": [
        {"url": f"{sim.url}/p/{in_stock[0]['id']}", "reason": REASON}] * 10})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items"


def test_fans_cannot_publish(client, uow, sim, partner_id, in_stock):
    fan = make_account(uow, "fan")
    h = bearer(uow, fan)
    url = f"{sim.url}/p/{in_stock[0]['id']}"
    r = client.post("/api/sw/v1/showcase/preview", json={"url": url}, headers=h)
    assert r.status_code == 403
    r = client.post("/api/sw/v1/showcase/recommendations", headers=h,
                    json={"items": [{"url": url, "reason": REASON}]})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "role"


def test_showcase_search_sort_category(client, uow, sim, partner_id, creator, in_stock):
    cats: dict[str, list] = {}
    for p in in_stock:
        cats.setdefault(p["category"], []).append(p)
    cat, group = max(cats.items(), key=lambda kv: len(kv[1]))
    picks = [*group[:3], next(p for p in in_stock if p["category"] != cat)]
    publish(uow, sim, creator, picks)
    base = f"/api/sw/v1/accounts/{creator}/showcase"
    r = client.get(base).json()
    assert r["total"] == 4 and {c["category"]: c["count"] for c in r["categories"]}[cat] == 3
    prices = [i["product"]["price"]["amount_minor"] for i in
              client.get(base, params={"sort": "price_asc"}).json()["items"]]
    assert prices == sorted(prices)
    prices = [i["product"]["price"]["amount_minor"] for i in
              client.get(base, params={"sort": "price_desc"}).json()["items"]]
    assert prices == sorted(prices, reverse=True)
    r = client.get(base, params={"category": cat}).json()
    assert r["total"] == 3 and all(i["product"]["category"] == cat for i in r["items"])
    word = picks[0]["title"].split()[0]
    r = client.get(base, params={"q": word}).json()
    assert r["total"] >= 1 and all(word.lower() in i["title"].lower()
                                   or word.lower() in (i["product"]["brand"] or "").lower()
                                   for i in r["items"])
    assert r["share_url"].startswith("http://testserver/@ada/showcase?q=")
    assert client.get(base, params={"sort": "bogus"}).status_code == 422


def test_bookmarks_and_cart_are_private(client, uow, sim, partner_id, creator, in_stock):
    recs = publish(uow, sim, creator, in_stock[:2])
    fan, other = make_account(uow, "fan"), make_account(uow, "eve")
    hf, ho = bearer(uow, fan), bearer(uow, other)
    assert client.post("/api/sw/v1/me/product_bookmarks",
                       json={"recommendation_id": str(recs[0])}, headers=hf).status_code == 201
    assert client.post("/api/sw/v1/me/product_bookmarks",
                       json={"recommendation_id": str(recs[0])}, headers=hf).status_code == 200
    r = client.post("/api/sw/v1/me/cart/items",
                    json={"recommendation_id": str(recs[0]), "quantity": 2}, headers=hf)
    assert r.status_code == 201 and r.json()["quantity"] == 2
    client.post("/api/sw/v1/me/cart/items", json={"recommendation_id": str(recs[1])},
                headers=hf)
    cart = client.get("/api/sw/v1/me/cart", headers=hf).json()
    assert len(cart["groups"]) == 1 and cart["groups"][0]["partner_name"] == "Test Mall"
    assert cart["groups"][0]["checkout_path"] == f"/cart/checkout/{partner_id}"
    assert cart["totals"][0]["amount_minor"] == 2 * in_stock[0]["price_minor"] + \
        in_stock[1]["price_minor"]
    # the other account sees nothing and changes nothing
    assert client.get("/api/sw/v1/me/cart", headers=ho).json()["groups"] == []
    assert client.get("/api/sw/v1/me/product_bookmarks", headers=ho).json()["items"] == []
    r = client.patch(f"/api/sw/v1/me/cart/items/{recs[0]}", json={"quantity": 5}, headers=ho)
    assert r.status_code == 404
    assert client.delete(f"/api/sw/v1/me/cart/items/{recs[0]}", headers=ho).status_code == 404
    r = client.patch(f"/api/sw/v1/me/cart/items/{recs[0]}", json={"quantity": 100}, headers=hf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantity"
    r = client.patch(f"/api/sw/v1/me/cart/items/{recs[0]}", json={"quantity": 7}, headers=hf)
    assert r.json()["groups"][0]["lines"][0]["quantity"] == 7
    assert client.get("/api/sw/v1/me/cart").status_code == 401
    d = client.get(f"/api/sw/v1/recommendations/{recs[0]}", headers=hf).json()
    assert (d["bookmarked"], d["in_cart"]) == (True, 7)


def test_delete_someone_elses_recommendation(client, uow, sim, partner_id, creator, in_stock):
    rid = publish(uow, sim, creator, in_stock[:1])[0]
    other = make_account(uow, "bo", role="creator")
    r = client.delete(f"/api/sw/v1/recommendations/{rid}", headers=bearer(uow, other))
    assert r.status_code == 403
    assert client.delete(f"/api/sw/v1/recommendations/{rid}",
                         headers=bearer(uow, creator)).status_code == 204
    assert client.get(f"/api/sw/v1/recommendations/{rid}").status_code == 404
    assert client.get("/api/sw/v1/recommendations/abc").status_code == 404


def test_followers_only_recommendations_stay_off_public_shelves(client, uow, sim, partner_id,
                                                                creator, in_stock):
    rid = publish(uow, sim, creator, in_stock[:1], visibility="private")[0]
    assert client.get(f"/api/sw/v1/recommendations/{rid}").status_code == 404
    assert client.get(f"/api/sw/v1/accounts/{creator}/showcase").json()["total"] == 0
    r = client.get(f"/api/sw/v1/accounts/{creator}/showcase", headers=bearer(uow, creator))
    assert r.json()["total"] == 1
