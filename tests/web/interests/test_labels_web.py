"""Ability labels over HTTP: the public read API, operator-only corrections and examples
(problem+json errors), creators' declared verticals, the operator page and the profile."""

from __future__ import annotations

import pytest

from shopwindow.interests import actions as interests
from shopwindow.interests import labels_queries as labels_q
from tests.helpers import make_account, token_for
from tests.web.pages.util import HTML, csrf_of, page_csrf, sign_in

PROBLEM = "application/problem+json"


@pytest.fixture
def lw(uow):
    with uow() as s:
        interests.ensure_default_verticals(s)
    ids = {"bella": make_account(uow, "bella", role="creator"),
           "olga": make_account(uow, "olga", role="operator"),
           "fan": make_account(uow, "fan")}
    return ids


def _auth(uow, account_id):
    return {"Authorization": f"Bearer {token_for(uow, account_id)}"}


def test_operator_corrects_labels_and_anyone_reads_them(client, uow, session, lw):
    bella = lw["bella"]
    op = _auth(uow, lw["olga"])
    r = client.put(f"/api/sw/v1/accounts/{bella}/labels/pets", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["labels"][0]["vertical"] == "pets"
    r = client.put(f"/api/sw/v1/accounts/{bella}/labels/beauty", headers=op)
    r = client.delete(f"/api/sw/v1/accounts/{bella}/labels/pets", headers=op)
    assert r.status_code == 200
    public = client.get(f"/api/sw/v1/accounts/{bella}/labels")
    assert public.status_code == 200
    body = public.json()
    assert body["account_id"] == str(bella)
    assert [(x["vertical"], x["source"], x["confidence"]) for x in body["labels"]] == [
        ("beauty", "operator", 1.0)]
    assert body["labels"][0]["name_zh"] == "美妆护肤"
    r = client.post("/api/sw/v1/labels/examples", headers=op,
                    json={"text": "猫砂 猫粮 推荐", "vertical": "pets"})
    assert r.status_code == 201 and r.json() == {"added": True}
    assert [e.text for e in labels_q.list_examples(session, source="operator")] == [
        "猫砂 猫粮 推荐"]


def test_non_operators_cannot_correct_and_errors_are_problem_json(client, uow, session, lw):
    bella = lw["bella"]
    for who in ("bella", "fan"):
        h = _auth(uow, lw[who])
        for r in (client.put(f"/api/sw/v1/accounts/{bella}/labels/beauty", headers=h),
                  client.delete(f"/api/sw/v1/accounts/{bella}/labels/beauty", headers=h),
                  client.post("/api/sw/v1/labels/examples", headers=h,
                              json={"text": "x", "vertical": "beauty"})):
            assert r.status_code == 403, r.text
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["errors"][0]["field"] == "role"
    assert client.put(f"/api/sw/v1/accounts/{bella}/labels/beauty").status_code == 401
    assert labels_q.account_labels(session, bella) == []
    op = _auth(uow, lw["olga"])
    r = client.put(f"/api/sw/v1/accounts/{bella}/labels/astrology", headers=op)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0] == {"field": "vertical", "rule": "known_vertical",
                                     "message": "Choose one of the verticals"}
    for bad in ("999", "abc", "9" * 30):
        r = client.get(f"/api/sw/v1/accounts/{bad}/labels")
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)


def test_creators_declare_their_verticals(client, uow, lw):
    h = _auth(uow, lw["bella"])
    r = client.put("/api/sw/v1/labels/declared", headers=h,
                   json={"verticals": ["beauty", "fashion"]})
    assert r.status_code == 200 and r.json() == {"verticals": ["beauty", "fashion"]}
    assert client.get("/api/sw/v1/labels/declared", headers=h).json() == {
        "verticals": ["beauty", "fashion"]}
    r = client.put("/api/sw/v1/labels/declared", headers=h,
                   json={"verticals": ["beauty", "fashion", "books", "pets"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "verticals"
    r = client.put("/api/sw/v1/labels/declared", headers=_auth(uow, lw["fan"]),
                   json={"verticals": ["beauty"]})
    assert r.status_code == 403


def test_operator_page_sets_labels_shown_on_the_profile_in_both_languages(client, uow, lw):
    sign_in(client, "olga")
    page = client.get("/operator/labels?u=bella", headers=HTML)
    assert page.status_code == 200 and f'data-account="{lw["bella"]}"' in page.text
    tok = csrf_of(page.text)
    r = client.post(f"/operator/labels/{lw['bella']}/set",
                    data={"vertical": "pets", "csrf_token": tok}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/operator/labels?u=bella&saved=set"
    r = client.post(f"/operator/labels/{lw['bella']}/set",
                    data={"vertical": "<script>", "csrf_token": tok}, headers=HTML)
    assert r.status_code == 422 and 'id="f-vertical-error"' in r.text and "<script>" not in r.text
    r = client.post("/operator/labels/examples", data={"text": " ", "vertical": "pets",
                                                       "csrf_token": tok}, headers=HTML)
    assert r.status_code == 422 and 'id="f-text-error"' in r.text
    en = client.get("/@bella", headers={**HTML, "Accept-Language": "en"}).text
    assert 'data-vertical="pets"' in en and ">Pets</li>" in en
    assert 'href="/operator/labels?u=bella"' in en  # operators get the edit link
    client.cookies.clear()
    zh = client.get("/@bella", headers={**HTML, "Accept-Language": "zh-CN"}).text
    assert ">萌宠</li>" in zh and 'aria-label="能力标签"' in zh
    assert "/operator/labels" not in zh


def test_operator_page_is_for_operators_only(client, uow, lw):
    sign_in(client, "fan")
    assert client.get("/operator/labels", headers=HTML).status_code == 403
    tok = page_csrf(client, "/")
    r = client.post(f"/operator/labels/{lw['bella']}/set",
                    data={"vertical": "pets", "csrf_token": tok}, headers=HTML)
    assert r.status_code == 403
