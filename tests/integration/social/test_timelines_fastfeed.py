"""GET /api/v1/timelines/home through the fast path (`web.fastfeed`) against the FastAPI
route it stands in front of: same JSON, same Link header, same errors; served from caches
without touching the database on a hit; fresh after deletes, blocks, likes, revocations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.app import create_app
from shopwindow.social import actions, timeline_cache
from shopwindow.web import fastfeed
from tests.helpers import make_account, token_for
from tests.integration.social.test_timelines_support import follow, post

HOME = "/api/v1/timelines/home"


@pytest.fixture
def fast(settings: Any, db: Any) -> Iterator[TestClient]:
    timeline_cache.clear()
    fastfeed.clear()
    app = create_app(settings, db=db)
    fastfeed.install(app)
    with TestClient(app) as c:
        yield c
    timeline_cache.clear()
    fastfeed.clear()


@pytest.fixture
def slow(settings: Any, db: Any) -> Iterator[TestClient]:
    app = create_app(settings, db=db)
    app.user_middleware = [m for m in app.user_middleware
                           if m.cls is not fastfeed.FastHomeTimeline]
    with TestClient(app) as c:
        yield c


def _get(c: TestClient, token: str, **params: Any) -> Any:
    return c.get(HOME, params=params, headers={"Authorization": f"Bearer {token}"})


def _same(fast: TestClient, slow: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    a, b = _get(fast, token, **params), _get(slow, token, **params)
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert a.headers.get("link") == b.headers.get("link")
    assert a.headers["content-type"] == b.headers["content-type"]
    return a.json()  # type: ignore[no-any-return]


@pytest.fixture
def world(uow: Any) -> dict[str, Any]:
    bob, alice, carol, dave = (make_account(uow, n) for n in ("bob", "alice", "carol", "dave"))
    for x in (alice, dave):
        follow(uow, bob, x)
    follow(uow, alice, bob)
    p1 = post(uow, alice, "hello @bob #Spring https://example.com/a 你好")
    p2 = post(uow, alice, "followers only", visibility="private")
    p3 = post(uow, carol, "carol's original")
    with uow() as s:
        rb = actions.reblog(s, dave, p3).id
        actions.favourite(s, bob, p1)
        actions.bookmark(s, bob, p3)
        actions.reblog(s, bob, p1)
    mine = post(uow, bob, "my own <b>text</b>")
    return {"bob": bob, "alice": alice, "carol": carol, "dave": dave, "p1": p1, "p2": p2,
            "p3": p3, "rb": rb, "mine": mine, "token": token_for(uow, bob)}


def test_same_json_and_links_as_the_route(fast, slow, world):
    tok = world["token"]
    for _ in range(2):  # cold (loads) and warm (cache hit)
        got = _same(fast, slow, tok)
    ids = [int(s["id"]) for s in got]
    assert world["mine"] in ids and world["rb"] in ids and world["p2"] in ids
    by_id = {int(s["id"]): s for s in got}
    mine = by_id[world["mine"]]
    assert mine["text"] == "my own <b>text</b>" and mine["pinned"] is False
    assert by_id[world["p1"]]["favourited"] is True and by_id[world["p1"]]["text"] is None
    assert by_id[world["rb"]]["reblog"]["bookmarked"] is True
    _same(fast, slow, tok, limit=2)
    _same(fast, slow, tok, limit=2, max_id=ids[1])
    _same(fast, slow, tok, min_id=ids[-1], limit=2)
    _same(fast, slow, tok, since_id=ids[-2])
    _same(fast, slow, tok, limit=3, only_media="false")  # other parameters kept in links


def test_a_hit_runs_no_query(fast, world, db):
    tok = world["token"]
    assert _get(fast, tok).status_code == 200
    statements: list[str] = []

    def count(conn: Any, cursor: Any, stmt: str, *a: Any) -> None:
        # The analytics aggregator folds in the background on its own thread (events of
        # the world's set-up may still be waiting): not the request's queries.
        if threading.current_thread().name != "analytics-aggregator":
            statements.append(stmt)

    for eng in {db.engine, db.read_engine}:
        event.listen(eng, "before_cursor_execute", count)
    try:
        r = _get(fast, tok)
    finally:
        for eng in {db.engine, db.read_engine}:
            event.remove(eng, "before_cursor_execute", count)
    assert r.status_code == 200 and len(r.json()) == 5
    assert statements == []


def test_errors_match_the_route(fast, slow, uow, world):
    for c in (fast, slow):
        assert c.get(HOME).status_code == 401
        assert _get(c, "not-a-token").status_code == 401
    write_only = token_for(uow, world["bob"], scopes="write")
    assert _get(fast, write_only).status_code == _get(slow, write_only).status_code == 403
    bad = _get(fast, world["token"], limit="ten")
    assert bad.status_code == _get(slow, world["token"], limit="ten").status_code


def test_changes_show_immediately(fast, slow, uow, world):
    tok, bob = world["token"], world["bob"]
    _get(fast, tok)  # warm
    with uow() as s:
        actions.delete_post(s, world["alice"], world["p2"])
    assert world["p2"] not in [int(s["id"]) for s in _get(fast, tok).json()]
    new = post(uow, bob, "just now")
    assert int(_get(fast, tok).json()[0]["id"]) == new
    with uow() as s:
        actions.unfavourite(s, bob, world["p1"])
    st = {int(s["id"]): s for s in _get(fast, tok).json()}
    assert st[world["p1"]]["favourited"] is False
    with uow() as s:
        actions.block(s, bob, world["carol"])  # reposts of carol's posts go too
    ids = [int(s["id"]) for s in _get(fast, tok).json()]
    assert world["rb"] not in ids
    with uow() as s:
        actions.unfollow(s, bob, world["dave"])
    assert all(s["account"]["id"] != str(world["dave"]) for s in _get(fast, tok).json())
    # Counts refresh in the background right after the change; then both paths agree.
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if _get(fast, tok).json() == _get(slow, tok).json():
            break
        time.sleep(0.05)
    _same(fast, slow, tok)


def test_like_count_refreshes(fast, slow, uow, world):
    tok = world["token"]
    _get(fast, tok)
    with uow() as s:
        actions.favourite(s, world["dave"], world["p1"])
    end = time.monotonic() + 5
    count = None
    while time.monotonic() < end:
        st = {int(s["id"]): s for s in _get(fast, tok).json()}
        count = st[world["p1"]]["favourites_count"]
        if count == 2:
            break
        time.sleep(0.05)
    assert count == 2


def test_revoked_token_stops_working(fast, uow, world, monkeypatch):
    monkeypatch.setattr(fastfeed, "TOKEN_TTL", 0.3)
    monkeypatch.setattr(fastfeed, "TOKEN_REFRESH_AHEAD", 0.1)
    tok = world["token"]
    assert _get(fast, tok).status_code == 200
    with uow() as s:
        acct = accounts_q.get_account(s, world["bob"])
        for t, _app in accounts_q.list_tokens(s, acct.id):
            accounts.revoke_token_by_id(s, account=acct, token_id=t.id)
    time.sleep(0.4)
    assert _get(fast, tok).status_code == 401


def test_deep_pages_fall_back_to_the_route(fast, slow, uow):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    follow(uow, b, a)
    for i in range(90):
        post(uow, a, f"post {i}")
    tok = token_for(uow, b)
    first = _same(fast, slow, tok, limit=40)
    second = _same(fast, slow, tok, limit=40, max_id=first[-1]["id"])
    third = _same(fast, slow, tok, limit=40, max_id=second[-1]["id"])
    assert len(first) == len(second) == 40 and len(third) == 10
