"""Home timelines on both stores (SQL table, Redis sorted sets) and both databases.

Every read is checked twice: the database truth (`timelines.home_ids`) and the in-process
cache the fast route serves from (`timeline_cache`) must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shopwindow.social import actions, timeline_cache, timelines
from tests.helpers import make_account
from tests.integration.social.test_timelines_support import (
    count,
    follow,
    home,
    post,
    stored,
    use_backend,
)


@pytest.fixture(params=["sql", "redis"])
def backend(request: pytest.FixtureRequest, db: Any, monkeypatch: pytest.MonkeyPatch,
            ) -> Iterator[Any]:
    yield from use_backend(request.param, monkeypatch)


@pytest.fixture(params=["sql", "redis"])
def small_backend(request: pytest.FixtureRequest, db: Any,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Big accounts start above 2 followers; timelines keep 5 entries."""
    yield from use_backend(request.param, monkeypatch, fanout_max_followers=2,
                           home_timeline_size=5)


def test_fan_out_on_write(backend, uow, db):
    a, b, c = (make_account(uow, n) for n in ("alice", "bob", "carol"))
    follow(uow, b, a)
    pid = post(uow, a, "to my followers")
    assert stored(db, b, pid) and not stored(db, c, pid)
    assert not stored(db, a, pid)  # own posts are merged on read, not stored
    assert home(db, b) == [pid]
    assert home(db, a) == [pid]
    assert home(db, c) == []


def test_private_posts_reach_followers_only(backend, uow, db):
    a, b, c = (make_account(uow, n) for n in ("alice", "bob", "carol"))
    follow(uow, b, a)
    pid = post(uow, a, "followers only", visibility="private")
    assert home(db, b) == [pid]
    assert home(db, c) == []


def test_big_account_is_merged_on_read(small_backend, uow, db):
    star = make_account(uow, "star")
    mid = make_account(uow, "mid")
    fans = [make_account(uow, f"fan{i}") for i in range(3)]
    for f in fans:
        follow(uow, f, star)
    follow(uow, fans[0], mid)
    follow(uow, fans[1], mid)
    p_star = post(uow, star, "to a crowd")
    p_mid = post(uow, mid, "two followers: fanned out, and merged too")
    assert not any(stored(db, f, p_star) for f in fans)  # above the limit: not copied
    assert stored(db, fans[0], p_mid)
    assert home(db, fans[0]) == [p_mid, p_star]  # no duplicate from merging mid as well
    assert home(db, fans[2]) == [p_star]
    # A new follower of the big account sees its posts at once (no backfill needed).
    late = make_account(uow, "late")
    follow(uow, late, star)
    assert home(db, late) == [p_star]
    with db.read_sessions() as s:
        assert timelines.backfill(s, late, star) == 0


def test_unfollow_purges_and_filters_before_purge(backend, uow, db):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    follow(uow, b, a)
    pid = post(uow, a, "soon gone")
    assert home(db, b) == [pid]
    with uow() as s:
        actions.unfollow(s, b, a)
    assert not stored(db, b, pid)
    assert home(db, b) == []
    # Entries the purge job has not removed yet are filtered on read.
    with uow() as s:
        backend.add(s, [b], pid, a)
    assert stored(db, b, pid)
    assert home(db, b) == []


def test_block_and_mute_filtering(backend, uow, db):
    bob, alice, carol, dave = (make_account(uow, n) for n in ("bob", "alice", "carol", "dave"))
    for x in (alice, carol, dave):
        follow(uow, bob, x)
    p_alice = post(uow, alice, "alice")
    p_carol = post(uow, carol, "carol")
    with uow() as s:
        rb = actions.reblog(s, dave, p_carol).id
    p_dave = post(uow, dave, "dave")
    assert home(db, bob) == [p_dave, rb, p_carol, p_alice]
    with uow() as s:
        actions.mute(s, bob, alice)
    assert home(db, bob) == [p_dave, rb, p_carol]
    with uow() as s:
        actions.block(s, carol, bob)  # carol blocks bob: her posts and reposts of them go
    assert home(db, bob) == [p_dave]
    with uow() as s:
        actions.unmute(s, bob, alice)
    timeline_cache.clear()  # unmute emits no event: the cache catches up on its TTL
    assert home(db, bob) == [p_dave, p_alice]


def test_muted_author_reposted_by_followee_is_hidden(backend, uow, db):
    bob, alice, dave = (make_account(uow, n) for n in ("bob", "alice", "dave"))
    follow(uow, bob, dave)
    p = post(uow, alice, "original")
    with uow() as s:
        rb = actions.reblog(s, dave, p).id
    assert home(db, bob) == [rb]
    with uow() as s:
        actions.mute(s, bob, alice)
    assert home(db, bob) == []


def test_deleted_posts_disappear(backend, uow, db):
    a, b, c = (make_account(uow, n) for n in ("alice", "bob", "carol"))
    follow(uow, b, a)
    follow(uow, c, b)
    p1 = post(uow, a, "one")
    p2 = post(uow, a, "two")
    with uow() as s:
        rb = actions.reblog(s, b, p1).id
    assert home(db, b) == [rb, p2, p1]
    assert home(db, c) == [rb]
    with uow() as s:
        actions.delete_post(s, a, p1)  # the repost goes with it
    assert not stored(db, b, p1) and not stored(db, c, rb)
    assert home(db, b) == [p2]
    assert home(db, c) == []
    # A stale entry left behind (job not run yet) is filtered on read.
    with uow() as s:
        timelines.store().add(s, [b], p1, a)
    assert home(db, b) == [p2]


def test_own_posts_visible_immediately(backend, uow, db):
    a = make_account(uow, "alice")
    assert home(db, a) == []
    p = post(uow, a, "mine")
    assert home(db, a) == [p]
    with uow() as s:
        actions.delete_post(s, a, p)
    assert home(db, a) == []


def test_pagination_max_min_since(backend, uow, db):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    follow(uow, b, a)
    ids = []
    for i in range(30):
        ids.append(post(uow, a if i % 3 else b, f"post {i}"))  # b's own posts interleave
    newest = sorted(ids, reverse=True)
    assert home(db, b) == newest[:20]
    assert home(db, b, limit=5) == newest[:5]
    assert home(db, b, max_id=newest[4], limit=5) == newest[5:10]
    assert home(db, b, max_id=newest[19]) == newest[20:]
    assert home(db, b, since_id=newest[3]) == newest[:3]
    assert home(db, b, since_id=newest[25], limit=40) == newest[:25]
    # min_id: the page just above the cursor, newest first.
    assert home(db, b, min_id=newest[10], limit=5) == newest[5:10]
    assert home(db, b, min_id=newest[2], limit=5) == newest[:2]
    assert home(db, b, max_id=newest[5], since_id=newest[9]) == newest[6:9]
    assert home(db, b, max_id=newest[-1]) == []


def test_pagination_merges_big_account_pages(small_backend, uow, db):
    star, mid = make_account(uow, "star"), make_account(uow, "mid")
    fans = [make_account(uow, f"fan{i}") for i in range(3)]
    for f in fans:
        follow(uow, f, star)
    follow(uow, fans[0], mid)
    ids = [post(uow, star if i % 2 else mid, f"p{i}") for i in range(14)]
    newest = sorted(ids, reverse=True)
    assert home(db, fans[0], limit=4) == newest[:4]
    assert home(db, fans[0], max_id=newest[3], limit=4) == newest[4:8]
    assert home(db, fans[0], max_id=newest[7], limit=40) == newest[8:]
    assert home(db, fans[0], min_id=newest[9], limit=3) == newest[6:9]


def test_trimming_keeps_the_newest(small_backend, uow, db):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    follow(uow, b, a)
    ids = [post(uow, a, f"p{i}") for i in range(12)]
    with uow() as s:
        timelines.trim(s, b)
    assert count(db, b) == 5
    assert all(stored(db, b, i) for i in ids[-5:])
    assert not any(stored(db, b, i) for i in ids[:-5])
    newest = list(reversed(ids))
    # Pages below the trimmed store come from the database: nothing is lost to trimming.
    assert home(db, b, limit=40) == newest
    assert home(db, b, max_id=newest[3], limit=4) == newest[4:8]
    assert home(db, b, min_id=newest[10], limit=3) == newest[7:10]
    if small_backend.name == "redis":
        more = post(uow, a, "one more")  # Redis trims on every insert
        assert count(db, b) == 5 and stored(db, b, more)


def test_rebuild_from_follows_and_posts(small_backend, uow, db):
    star, a, b = make_account(uow, "star"), make_account(uow, "alice"), make_account(uow, "bob")
    for i in range(3):
        follow(uow, make_account(uow, f"fan{i}"), star)
    follow(uow, b, a)
    follow(uow, b, star)
    mine = [post(uow, a, f"a{i}") for i in range(3)]
    p_star = post(uow, star, "big")
    with uow() as s:
        timelines.store().clear(s, b)
    assert count(db, b) == 0
    # Losing the cache changes no page: below the (missing) entries the database answers.
    assert home(db, b) == [p_star, *reversed(mine)]
    with uow() as s:
        n = timelines.rebuild_home(s, b)
    assert n == 3 and count(db, b) == 3
    assert not stored(db, b, p_star)  # the big account is never copied
    assert home(db, b) == [p_star, *reversed(mine)]


def test_follow_backfills_recent_posts(backend, uow, db):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    old = [post(uow, a, f"old {i}") for i in range(3)]
    assert home(db, b) == []
    follow(uow, b, a)
    assert all(stored(db, b, i) for i in old)
    assert home(db, b) == list(reversed(old))
