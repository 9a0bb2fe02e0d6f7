"""Interest pages: onboarding after sign-up, discovery, who to follow, operator verticals."""

from __future__ import annotations

import re
from typing import Any

from shopwindow.accounts import queries as accounts_q
from shopwindow.interests import queries
from shopwindow.social import queries as social_q
from tests.helpers import make_account
from tests.web.pages.util import HTML, page_csrf, sign_in, sign_up


def _post(client: Any, url: str, data: dict[str, Any], csrf_page: str) -> Any:
    return client.post(url, data={"csrf_token": page_csrf(client, csrf_page), **data},
                       follow_redirects=False)


def test_sign_up_leads_to_the_picker_and_picks_drive_suggestions(
        client: Any, world: Any, session: Any) -> None:
    tok = page_csrf(client, "/auth/sign_up")
    r = client.post("/auth/sign_up", data={"username": "neo", "email": "neo@example.com",
                                           "password": "correct horse battery",
                                           "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/onboarding/interests?next=%2F"
    page = client.get("/onboarding/interests?next=/", headers=HTML).text
    assert 'value="digital"' in page and 'value="beauty"' in page
    r = _post(client, "/onboarding/interests", {"verticals": ["digital"], "next": "/discover"},
              "/onboarding/interests")
    assert r.status_code == 303 and r.headers["location"] == "/discover"
    acct_id = accounts_q.get_by_username(session, "neo").id
    assert queries.picked_slugs(session, acct_id) == ["digital"]
    assert not queries.needs_onboarding(session, acct_id)
    html = client.get("/discover", headers=HTML).text
    # Tess recommends tech: she is suggested, and her products come with the reason.
    assert 'data-username="tess"' in html
    assert "In your interests: Tech" in html
    titles = re.findall(r'class="rec-tile-title">([^<]+)<', html)
    assert titles and all(t.startswith("Digital thing") for t in titles[:3])
    r = _post(client, "/@tess/follow", {"next": "/discover"}, "/discover")
    assert r.status_code == 303
    assert social_q.is_following(session, acct_id, world.creators["tess"])
    assert 'data-username="tess"' not in client.get("/people/suggested", headers=HTML).text


def test_picker_refuses_unknown_verticals_inline(client: Any, world: Any) -> None:
    sign_up(client, "tina")
    r = _post(client, "/onboarding/interests", {"verticals": ["nonsense"]},
              "/onboarding/interests")
    assert r.status_code == 422
    assert 'id="verticals-error"' in r.text and "nonsense" not in r.text.split("<main")[0]


def test_skip_marks_onboarding_done(client: Any, world: Any, session: Any) -> None:
    sign_up(client, "sam")
    r = _post(client, "/onboarding/interests", {"skip": "1", "next": "/"},
              "/onboarding/interests")
    assert r.status_code == 303 and r.headers["location"] == "/"
    sid = accounts_q.get_by_username(session, "sam").id
    assert not queries.needs_onboarding(session, sid) and queries.picked_slugs(session, sid) == []


def test_dismissed_product_disappears_from_discover(client: Any, world: Any) -> None:
    sign_up(client, "dora")
    html = client.get("/discover", headers=HTML).text
    first = re.search(r'data-product-id="(\d+)"', html)
    assert first
    pid = first.group(1)
    r = _post(client, "/recommendations/dismiss", {"kind": "product", "id": pid,
                                                   "next": "/discover"}, "/discover")
    assert r.status_code == 303
    assert f'data-product-id="{pid}"' not in client.get("/discover", headers=HTML).text
    r = _post(client, "/recommendations/dismiss", {"kind": "planet", "id": pid}, "/discover")
    assert r.status_code == 422
    for bad in ("9" * 19, "-1", "x", ""):  # never a 500, whatever the form says
        r = _post(client, "/recommendations/dismiss", {"kind": "product", "id": bad},
                  "/discover")
        assert r.status_code == 404


def test_ranked_home_is_opt_in_and_chronological_stays_default(
        client: Any, world: Any, session: Any) -> None:
    sign_up(client, "rhea")
    rid = accounts_q.get_by_username(session, "rhea").id
    assert queries.ranked_home_enabled(session, rid) is False
    html = client.get("/settings/interests", headers=HTML).text
    assert 'name="ranked_home"' in html and 'value="1" checked' not in html
    r = _post(client, "/settings/interests", {"verticals": ["beauty"], "ranked_home": "1"},
              "/settings/interests")
    assert r.status_code == 303
    session.expire_all()
    assert queries.ranked_home_enabled(session, rid) is True
    r = _post(client, "/settings/interests", {"verticals": ["beauty"]}, "/settings/interests")
    session.expire_all()
    assert queries.ranked_home_enabled(session, rid) is False


def test_only_operators_edit_verticals(client: Any, uow: Any, world: Any, new_client: Any,
                                       session: Any) -> None:
    sign_up(client, "fanny")
    assert client.get("/operator/verticals", headers=HTML).status_code == 403
    make_account(uow, "boss", role="operator")
    ops = new_client()
    sign_in(ops, "boss")
    page = ops.get("/operator/verticals", headers=HTML)
    assert page.status_code == 200 and 'data-slug="fashion"' in page.text
    r = _post(ops, "/operator/verticals", {"op": "create", "slug": "tea",
                                           "name_en": "Tea", "name_zh": "茶"},
              "/operator/verticals")
    assert r.status_code == 303
    r = _post(ops, "/operator/verticals", {"op": "create", "slug": "Bad Slug!",
                                           "name_en": "X", "name_zh": "X"},
              "/operator/verticals")
    assert r.status_code == 422 and "Slug must be" in r.text
    tea = queries.find_vertical_by_slug(session, "tea")
    assert tea is not None and tea.name_zh == "茶"
    r = _post(client, "/operator/verticals", {"op": "deactivate", "id": str(tea.id)},
              "/settings/interests")
    assert r.status_code == 403
    r = _post(ops, "/operator/verticals", {"op": "deactivate", "id": str(tea.id)},
              "/operator/verticals")
    session.expire_all()
    assert "tea" not in {v.slug for v in queries.list_verticals(session)}
    r = _post(ops, "/operator/verticals", {"op": "up", "id": str(tea.id)}, "/operator/verticals")
    session.expire_all()
    order = [v.slug for v in queries.list_verticals(session, include_inactive=True)]
    assert order[-2] == "tea"


def test_ranked_home_puts_the_favourite_creator_first_only_when_opted_in(
        client: Any, uow: Any, world: Any) -> None:
    from shopwindow.showcase import actions as showcase
    from shopwindow.social import actions as social

    sign_up(client, "ria")
    with uow() as s:
        ria = accounts_q.get_by_username(s, "ria").id
        social.follow(s, ria, world.creators["bella"])
        social.follow(s, ria, world.creators["tess"])
        for n in (1, 2):
            showcase.bookmark_product(s, ria, world.recs[n])

    def first_author() -> str:
        html = client.get("/", headers=HTML).text
        m = re.search(r'<article class="post[^"]*".*?href="/@(\w+)"', html, re.S)
        assert m, html[:3000]
        return m.group(1)

    assert first_author() == "tess"  # chronological: tess published after bella
    shares = client.get("/settings/interests", headers=HTML).text
    assert re.search(r'<li data-slug="beauty">Beauty <span class="muted">\d+%</span>', shares)
    r = _post(client, "/settings/interests", {"ranked_home": "1"}, "/settings/interests")
    assert r.status_code == 303
    assert first_author() == "bella"  # ranked: the creator whose products ria saves


def test_discover_speaks_chinese(client: Any, world: Any) -> None:
    sign_up(client, "xiaoyu")
    r = _post(client, "/onboarding/interests", {"verticals": ["digital"]},
              "/onboarding/interests")
    assert r.status_code == 303
    client.get("/locale/zh-CN", follow_redirects=False)  # the language switch (cookie)
    html = client.get("/discover", headers=HTML).text
    assert "推荐关注" in html and "你关注的领域：数码科技" in html and "不感兴趣" in html
    picker = client.get("/onboarding/interests", headers=HTML).text
    assert "你对什么感兴趣？" in picker and "萌宠" in picker


def test_middle_page_and_profile_show_recommendation_blocks(client: Any, uow: Any,
                                                           world: Any) -> None:
    from shopwindow.interests import training
    from shopwindow.showcase import actions as showcase
    from shopwindow.social import actions as social

    with uow() as s:
        for name in ("fan_a", "fan_b"):
            fan = world.fans[name]
            social.follow(s, fan, world.creators["pip"])
            for n in (21, 3):
                showcase.bookmark_product(s, fan, world.recs[n])
        training.run_training(s)
    middle = client.get(f"/r/{world.recs[21]}", headers=HTML).text
    block = middle.split('id="similar-title"', 1)[1]
    assert "Similar products" in middle and "Beauty thing 3" in block
    assert "Similar to Pets thing 21" in block
    profile = client.get("/@pip", headers=HTML).text
    fans = profile.split('id="fans-also-title"', 1)[1]
    assert "Fans of pip also like" in profile and "Beauty thing 3" in fans
    assert "Pets thing" not in fans  # pip's own products are not "also"
    assert 'id="fans-also-title"' not in client.get("/@fan_a", headers=HTML).text


def test_discover_pages_on_without_repeating_products(client: Any, world: Any,
                                                      monkeypatch: Any) -> None:
    from shopwindow.interests import pages

    monkeypatch.setattr(pages, "DISCOVER_SIZE", 4)
    sign_up(client, "paige")
    seen: list[str] = []
    url = "/discover"
    for number in (1, 2, 3):
        html = client.get(url, headers=HTML).text
        ids = re.findall(r'data-product-id="(\d+)"', html)
        assert ids and not set(ids) & set(seen), (url, ids, seen)
        seen += ids
        # "Not interested" brings the reader back to the page they were on
        here = "/discover" if number == 1 else f"/discover?page={number}"
        assert f'name="next" value="{here}"' in html
        if number > 1:  # accounts to follow head the first page only
            assert "People to follow" not in html
        more = re.search(r'<a class="btn" href="(/discover\?page=\d+)" rel="next">', html)
        if len(ids) < 4:
            assert more is None
            break
        assert more and more.group(1) == f"/discover?page={number + 1}"
        url = more.group(1)
    assert len(seen) == len(set(seen)) == len(world.products)  # all 9, each once
    html = client.get("/discover?page=4", headers=HTML).text
    assert "That is all for now" in html and 'data-product-id="' not in html
    for bad in ("0", "-3", "x", "99999999999999999999"):  # clamped, never an error
        assert client.get(f"/discover?page={bad}", headers=HTML).status_code == 200


def test_show_less_of_a_topic_from_the_interest_settings(client: Any, world: Any) -> None:
    sign_up(client, "tina")
    r = _post(client, "/settings/interests", {"verticals": ["beauty", "pets"]},
              "/settings/interests")
    assert r.status_code == 303
    html = client.get("/settings/interests", headers=HTML).text
    m = re.search(r'<li data-slug="beauty">.*?name="kind" value="vertical">'
                  r'<input type="hidden" name="id" value="(\d+)">', html, re.S)
    assert m, html
    vid = m.group(1)
    assert "Topics you see less of" not in html
    r = _post(client, "/recommendations/dismiss",
              {"kind": "vertical", "id": vid, "next": "/settings/interests"},
              "/settings/interests")
    assert r.status_code == 303 and r.headers["location"] == "/settings/interests"
    html = client.get("/settings/interests", headers=HTML).text
    section = html.split("Topics you see less of", 1)[1]
    assert 'data-slug="beauty"' in section and "Show again" in section
    assert not re.search(r'<li data-slug="beauty">Beauty <span class="muted">', html)
    beauty = {str(world.products[n]) for n in (1, 2, 3, 4)}
    shown = set(re.findall(r'data-product-id="(\d+)"',
                           client.get("/discover", headers=HTML).text))
    assert shown and not shown & beauty
    r = _post(client, "/recommendations/undismiss",
              {"kind": "vertical", "id": vid, "next": "/settings/interests"},
              "/settings/interests")
    assert r.status_code == 303
    assert "Topics you see less of" not in client.get("/settings/interests", headers=HTML).text
    shown = set(re.findall(r'data-product-id="(\d+)"',
                           client.get("/discover", headers=HTML).text))
    assert shown & beauty
    for bad in ({"kind": "vertical", "id": "999"}, {"kind": "vertical", "id": "x"}):
        r = _post(client, "/recommendations/dismiss", bad, "/settings/interests")
        assert r.status_code == 404
