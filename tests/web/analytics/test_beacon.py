"""The event beacon: validation (problem+json), size limits, bots, de-duplication, entity
credit from the server's own records, the follower/device/lang/region dimensions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.analytics import aggregator, ingest, queries
from shopwindow.analytics.models import Event
from shopwindow.db.engine import Database
from shopwindow.social import actions as social
from tests.helpers import make_account

URL = "/api/sw/v1/events"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0 Safari/537.36")
HDRS = {"user-agent": PHONE, "accept-language": "zh-CN,zh;q=0.9,en;q=0.5",
        "content-type": "application/json"}


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    for c in (ingest.objects, ingest.viewers, ingest.followees):
        c.clear()


@pytest.fixture
def world(uow: Any) -> dict[str, int]:
    creator = make_account(uow, "maker", role="creator")
    fan = make_account(uow, "fan1")
    with uow() as s:
        post = social.create_post(s, creator, text="A lamp worth buying").id
        social.follow(s, fan, creator)
    return {"creator": creator, "fan": fan, "post": post}


def _login(client: Any, uow: Any, account_id: int) -> None:
    with uow() as s:
        acct = accounts_q.get_account(s, account_id)
        token = accounts.start_web_session(s, acct, max_age=3600).token
    client.cookies.set("sw_session", token)


def _post(client: Any, events: list[dict[str, Any]], **hdrs: str) -> Any:
    return client.post(URL, content=json.dumps({"events": events}),
                       headers={**HDRS, **hdrs})


def _impr(post: int, surface: str = "home", **kw: Any) -> dict[str, Any]:
    return {"type": "impression", "object_type": "post", "object_id": str(post),
            "surface": surface, **kw}


def test_counts_once_per_window_and_credits_the_author(client: Any, db: Database,
                                                       uow: Any, world: dict[str, int]
                                                       ) -> None:
    _login(client, uow, world["fan"])
    r = _post(client, [_impr(world["post"]), _impr(world["post"]),
                       _impr(world["post"], "profile"),
                       {"type": "read", "object_type": "post", "object_id": world["post"],
                        "surface": "home", "dwell_ms": 4200}])
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 3, "duplicates": 1, "unknown": 0, "dropped": 0}
    # Answered in front of the middleware stack, with the same security headers (once).
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    again = _post(client, [_impr(world["post"])])
    assert again.json()["duplicates"] == 1 and again.json()["accepted"] == 0
    aggregator.drain(db)
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "creator", world["creator"], "impressions") == 2
        assert queries.rollup_total(s, "post", world["post"], "impressions", dim="surface",
                                    dim_value="home") == 1
        assert queries.rollup_total(s, "post", world["post"], "dwell_ms") == 4200
        assert queries.rollup_total(s, "post", world["post"], "impressions", dim="follower",
                                    dim_value="yes") == 2
        assert queries.rollup_total(s, "platform", 0, "reads", dim="device",
                                    dim_value="mobile") == 1
        ev = s.scalars(select(Event).where(Event.type == "read")).one()
        assert (ev.actor_id, ev.creator_id, ev.lang, ev.region) == (
            world["fan"], world["creator"], "zh-CN", "CN")


def test_anonymous_viewers_are_non_followers_and_deduplicated_by_client(
        client: Any, db: Database, world: dict[str, int]) -> None:
    assert _post(client, [_impr(world["post"])]).json()["accepted"] == 1
    assert _post(client, [_impr(world["post"])]).json()["duplicates"] == 1
    # Another browser (user agent) is another viewer.
    assert _post(client, [_impr(world["post"])], **{"user-agent": DESKTOP}
                 ).json()["accepted"] == 1
    aggregator.drain(db)
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "post", world["post"], "impressions", dim="follower",
                                    dim_value="no") == 2
        assert queries.rollup_total(s, "post", world["post"], "impressions", dim="device",
                                    dim_value="desktop") == 1


def test_bots_are_dropped(client: Any, db: Database, world: dict[str, int]) -> None:
    for ua in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0",
               "python-httpx/0.27", ""):
        r = _post(client, [_impr(world["post"])], **{"user-agent": ua})
        assert r.status_code == 202 and r.json()["dropped"] == 1
    with db.read_sessions() as s:
        assert s.scalars(select(Event).where(Event.type == "impression")).all() == []


@pytest.mark.parametrize(("event", "field", "rule"), [
    ({"type": "like", "object_type": "post", "object_id": "1"}, "events[0].type", "one_of"),
    ({"type": "impression", "object_type": "order", "object_id": "1"},
     "events[0].object_type", "one_of"),
    ({"type": "impression", "object_type": "post", "object_id": "-4"},
     "events[0].object_id", "id"),
    ({"type": "impression", "object_type": "post", "object_id": "1", "surface": "moon"},
     "events[0].surface", "one_of"),
    ({"type": "read", "object_type": "post", "object_id": "1", "dwell_ms": -1},
     "events[0].dwell_ms", "range"),
    ({"type": "read", "object_type": "post", "object_id": "1", "t": "yesterday"},
     "events[0].t", "datetime"),
])
def test_invalid_items_are_problems_naming_field_and_rule(
        client: Any, db: Database, event: dict[str, Any], field: str, rule: str) -> None:
    r = client.post(URL, content=json.dumps({"events": [event]}), headers=HDRS)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["x-frame-options"] == "DENY"
    body = r.json()
    assert body["errors"][0]["field"] == field and body["errors"][0]["rule"] == rule
    assert field in body["detail"]
    with db.read_sessions() as s:
        assert queries.event_count(s) == 0


def test_limits_shape_origin_and_unknown_objects(client: Any, db: Database,
                                                 world: dict[str, int]) -> None:
    r = client.post(URL, content=b"{not json", headers=HDRS)
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "json"
    for hostile in (b"[" * 60_000,  # nesting past any parser's depth limit
                    b'{"events": []}\xff'):  # not UTF-8
        r = client.post(URL, content=hostile, headers=HDRS)
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "json", hostile[:30]
    huge = {"type": "impression", "object_type": "post", "surface": "home"}
    r = client.post(URL, content=json.dumps({"events": [huge]})[:-3].encode()
                    + b', "object_id": 1' + b"0" * 40 + b"}]}", headers=HDRS)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "events[0].object_id"
    r = client.post(URL, content=json.dumps([1, 2]), headers=HDRS)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "events"
    r = _post(client, [_impr(world["post"])] * 201)
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "max_items"
    r = client.post(URL, content=b" " * (64 * 1024 + 1), headers=HDRS)
    assert r.status_code == 413
    r = _post(client, [_impr(world["post"])], origin="https://evil.example")
    assert r.status_code == 403
    r = _post(client, [_impr(world["post"])], **{"content-type": "application/xml"})
    assert r.status_code == 415
    r = _post(client, [_impr(999_999_999), _impr(world["post"])])
    assert r.json() == {"accepted": 1, "duplicates": 0, "unknown": 1, "dropped": 0}
    # sendBeacon posts text/plain from the same origin.
    r = _post(client, [{"type": "profile_visit", "object_type": "account",
                        "object_id": str(world["creator"]), "surface": "profile"}],
              **{"content-type": "text/plain;charset=UTF-8",
                 "origin": "http://testserver", "sec-fetch-site": "same-origin"})
    assert r.json()["accepted"] == 1
    aggregator.drain(db)
    with db.read_sessions() as s:
        assert queries.rollup_total(s, "creator", world["creator"], "profile_visits") == 1
