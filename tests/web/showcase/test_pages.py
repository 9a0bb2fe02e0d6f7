"""Showcase pages driven like a browser: publisher, showcase, middle page, bookmarks, cart."""

from __future__ import annotations

import re

from tests.helpers import make_account
from tests.web.pages.util import HTML, csrf_of, field_error, post_form, sign_in
from tests.web.showcase.conftest import REASON, publish


def rec_links(html):
    return [int(x) for x in re.findall(r'href="/r/(\d+)"', html)]


def test_publisher_flow(new_client, uow, sim, partner_id, creator, in_stock):
    c = new_client()
    sign_in(c, "ada")
    p = in_stock[0]
    r = c.get("/publish", headers=HTML)
    assert r.status_code == 200 and 'name="new_url"' in r.text
    tok = csrf_of(r.text)
    r = c.post("/publish", data={"csrf_token": tok, "op": "add", "count": "0",
                                 "new_url": f"{sim.url}/p/{p['id']}"})
    assert r.status_code == 200, r.text[:500]
    assert 'name="url_0"' in r.text and p["images"][0] in r.text
    assert "Test Mall" in r.text
    # a stuffed title is refused next to the title field, a missing reason next to its own
    form = {"csrf_token": tok, "op": "publish", "count": "1", "url_0": f"{sim.url}/p/{p['id']}",
            "title_0": "Dress | Summer | Beach | Party", "reason_0": REASON,
            "images_0": p["images"][:1], "visibility": "public"}
    r = c.post("/publish", data=form)
    assert r.status_code == 422
    assert "separators" in (field_error(r.text, "f-title-0") or "")
    r = c.post("/publish", data={**form, "title_0": "Linen dress", "reason_0": ""})
    assert r.status_code == 422 and field_error(r.text, "f-reason-0")
    r = c.post("/publish", data={**form, "title_0": "Linen dress",
                                 "reason_0": "<script>alert(1)</script> really good"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/r/")
    page = c.get(r.headers["location"], headers=HTML).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; really good" in page
    assert "<script>alert(1)" not in page
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    assert f'href="/go/{rid}?s=middle_page"' in page
    # the post carries a product card in the feed and on the profile
    for path in ("/", "/@ada"):
        html = c.get(path, headers=HTML).text
        assert 'class="product-cards"' in html and rid in rec_links(html)
    assert 'href="/@ada/showcase"' in c.get("/@ada", headers=HTML).text


def test_publisher_refuses_fans_and_foreign_links(new_client, uow, sim, partner_id, creator):
    make_account(uow, "fan")
    f = new_client()
    sign_in(f, "fan")
    assert f.get("/publish", headers=HTML).status_code == 403
    c = new_client()
    sign_in(c, "ada")
    r = post_form(c, "/publish", {"op": "add", "count": "0",
                                  "new_url": "https://evil.example/p/1"}, csrf_page="/publish")
    assert r.status_code == 422
    assert "registered partner" in (field_error(r.text, "f-new-url") or "")
    assert new_client().get("/publish", follow_redirects=False).status_code == 303


def test_showcase_page_filters(new_client, uow, sim, partner_id, creator, in_stock):
    cat = in_stock[0]["category"]
    same = [p for p in in_stock if p["category"] == cat][:2]
    other = next(p for p in in_stock if p["category"] != cat)
    ids = publish(uow, sim, creator, [*same, other])
    c = new_client()
    html = c.get("/@ada/showcase", headers=HTML).text
    assert set(rec_links(html)) == set(ids)
    assert f'href="/@ada/showcase?category={cat}"' in html
    html = c.get(f"/@ada/showcase?category={cat}", headers=HTML).text
    assert set(rec_links(html)) == set(ids[:2])
    html = c.get("/@ada/showcase?sort=price_desc", headers=HTML).text
    by_price = sorted(zip([*same, other], ids, strict=True),
                      key=lambda t: (-t[0]["price_minor"], -t[1]))
    assert rec_links(html) == [i for _p, i in by_price]
    word = other["title"].split()[0]
    html = c.get("/@ada/showcase", params={"q": word}, headers=HTML).text
    assert ids[2] in rec_links(html)
    assert c.get("/@nobody/showcase", headers=HTML).status_code == 404


def test_bookmarks_and_cart_pages(new_client, uow, sim, partner_id, creator, in_stock):
    ids = publish(uow, sim, creator, in_stock[:2])
    make_account(uow, "fan")
    make_account(uow, "eve")
    fan, eve = new_client(), new_client()
    sign_in(fan, "fan")
    sign_in(eve, "eve")
    mid = f"/r/{ids[0]}"
    assert post_form(fan, f"{mid}/bookmark", csrf_page=mid).status_code == 303
    assert ids[0] in rec_links(fan.get("/bookmarks/products", headers=HTML).text)
    assert rec_links(eve.get("/bookmarks/products", headers=HTML).text) == []
    assert 'aria-pressed="true"' in fan.get(mid, headers=HTML).text
    r = post_form(fan, f"{mid}/cart", {"quantity": "2"}, csrf_page=mid)
    assert r.status_code == 303 and r.headers["location"] == "/cart"
    post_form(fan, f"/r/{ids[1]}/cart", csrf_page=mid)
    html = fan.get("/cart", headers=HTML).text
    assert html.count('class="card cart-group"') == 1
    assert f'action="/cart/checkout/{partner_id}"' in html and "Checkout at Test Mall" in html
    assert re.search(rf'id="q-{ids[0]}"[^>]*value="2"', html)
    assert post_form(fan, f"/cart/{ids[0]}/quantity", {"quantity": "5"},
                     csrf_page="/cart").status_code == 303
    assert re.search(rf'id="q-{ids[0]}"[^>]*value="5"', fan.get("/cart", headers=HTML).text)
    # eve cannot see or change fan's lines
    assert "cart-group" not in eve.get("/cart", headers=HTML).text
    assert post_form(eve, f"/cart/{ids[0]}/quantity", {"quantity": "9"},
                     csrf_page="/cart").status_code == 404
    assert post_form(eve, f"/cart/{ids[0]}/remove", csrf_page="/cart").status_code == 404
    assert post_form(fan, f"/cart/{ids[0]}/quantity", {"quantity": "0"},
                     csrf_page="/cart").status_code == 422
    assert post_form(fan, f"/cart/{ids[0]}/remove", csrf_page="/cart").status_code == 303
    assert ids[0] not in rec_links(fan.get("/cart", headers=HTML).text)
    # forms need the CSRF token
    assert fan.post(f"{mid}/bookmark", data={}, follow_redirects=False).status_code == 403


def test_deleting_someone_elses_recommendation(new_client, uow, sim, partner_id, creator,
                                               in_stock):
    rid = publish(uow, sim, creator, in_stock[:1])[0]
    make_account(uow, "bo", role="creator")
    bo = new_client()
    sign_in(bo, "bo")
    assert post_form(bo, f"/r/{rid}/delete", csrf_page=f"/r/{rid}").status_code == 403
    report_link = f'href="/reports/recommendations/{rid}"'
    assert report_link not in bo.get(f"/r/{rid}", headers=HTML).text
    ada = new_client()
    sign_in(ada, "ada")
    assert report_link in ada.get(f"/r/{rid}", headers=HTML).text  # only the owner's page
    assert ada.get(f"/reports/recommendations/{rid}", headers=HTML).status_code == 200
    assert bo.get(f"/reports/recommendations/{rid}", headers=HTML).status_code == 404
    assert post_form(ada, f"/r/{rid}/delete", csrf_page=f"/r/{rid}").status_code == 303
    assert ada.get(f"/r/{rid}", headers=HTML).status_code == 404


def test_middle_page_shows_other_creators_and_chinese(new_client, uow, sim, partner_id,
                                                      creator, in_stock):
    rid = publish(uow, sim, creator, in_stock[:1])[0]
    bo = make_account(uow, "bo", role="brand")
    other = publish(uow, sim, bo, in_stock[:1], reason="我们自己的品牌，欢迎试用")[0]
    c = new_client()
    html = c.get(f"/r/{rid}", headers=HTML).text
    assert f'href="/r/{other}"' in html and "欢迎试用" in html
    html = c.get(f"/r/{rid}", headers={**HTML, "Accept-Language": "zh-CN"}).text
    assert "也推荐了它的人" in html and "购买" in html


def test_product_images_are_relayed_same_origin(new_client, uow, sim, partner_id, creator,
                                               in_stock):
    import html as htmllib

    rid = publish(uow, sim, creator, in_stock[:1])[0]
    c = new_client()
    page = c.get(f"/r/{rid}", headers=HTML).text
    srcs = [htmllib.unescape(s) for s in re.findall(r'src="(/showcase/img\?[^"]+)"', page)]
    assert srcs and in_stock[0]["images"][0] not in re.findall(r'src="([^"]+)"', page)
    r = c.get(srcs[0])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    # the signature covers partner and URL: no open relay
    forged = srcs[0].replace("%2Fimages%2F", "%2Fother%2F")
    assert c.get(forged, headers=HTML).status_code == 404
    bad = "/showcase/img?" + "p=1&u=http%3A%2F%2Fevil.example%2Fx.png&s=00"
    assert c.get(bad, headers=HTML).status_code == 404
