"""Social actions against a real database: stored state and emitted events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopwindow.core.errors import Forbidden, Invalid, NotFound
from shopwindow.core.pagination import Page
from shopwindow.notifications.models import Notification
from shopwindow.outbox.events import OutboxEvent, emitted
from shopwindow.social import actions, queries, timelines
from shopwindow.social.models import AccountStats, HomeEntry
from tests.helpers import make_account


def test_follow_is_idempotent_and_counts(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        assert actions.follow(s, a, b) is True
        assert [e.type for e in emitted(s)] == ["social.followed"]
    with uow() as s:
        assert actions.follow(s, a, b) is False
        assert emitted(s) == []
    st = {x.account_id: x for x in session.scalars(select(AccountStats))}
    assert st[a].following_count == 1 and st[b].followers_count == 1
    n = session.scalars(select(Notification)).all()
    assert [(x.account_id, x.type, x.from_account_id) for x in n] == [(b, "follow", a)]


def test_cannot_follow_self_or_missing(uow):
    a = make_account(uow, "alice")
    with uow() as s, pytest.raises(Invalid) as e:
        actions.follow(s, a, a)
    assert e.value.field == "id" and e.value.rule == "not_self"
    with uow() as s, pytest.raises(NotFound):
        actions.follow(s, a, 12345)


def test_block_removes_follows_and_forbids_follow(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        actions.follow(s, a, b)
        actions.follow(s, b, a)
    with uow() as s:
        actions.block(s, a, b)
    assert not queries.is_following(session, a, b) and not queries.is_following(session, b, a)
    with uow() as s, pytest.raises(Forbidden):
        actions.follow(s, b, a)


def test_post_fans_out_to_followers_home(uow, session):
    a, b, c = (make_account(uow, n) for n in ("alice", "bob", "carol"))
    with uow() as s:
        actions.follow(s, b, a)
    with uow() as s:
        post = actions.create_post(s, a, text="Hello #Spring @carol https://example.com/x.")
        pid = post.id
    entries = session.scalars(select(HomeEntry).where(HomeEntry.post_id == pid)).all()
    assert {e.owner_id for e in entries} == {b}
    assert [p.id for p in timelines.home(session, b, Page())] == [pid]
    assert [p.id for p in timelines.home(session, a, Page())] == [pid]  # own post merged
    assert timelines.home(session, c, Page()) == []
    p = queries.get_post(session, pid)
    assert 'href="http://testserver/tags/spring"' in p.html
    assert 'href="http://testserver/@carol"' in p.html
    assert '<a href="https://example.com/x"' in p.html
    notes = session.scalars(select(Notification).where(Notification.account_id == c)).all()
    assert [x.type for x in notes] == ["mention"]
    types = [e.type for e in session.scalars(select(OutboxEvent))]
    assert "social.post_created" in types


def test_text_is_escaped(uow, session):
    a = make_account(uow, "alice")
    with uow() as s:
        pid = actions.create_post(s, a, text='<script>alert(1)</script> <img src=x onerror=y>').id
    html = queries.get_post(session, pid).html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_private_post_visibility(uow, session):
    a, b, c = (make_account(uow, n) for n in ("alice", "bob", "carol"))
    with uow() as s:
        actions.follow(s, b, a)
    with uow() as s:
        pid = actions.create_post(s, a, text="followers only", visibility="private").id
    assert queries.find_visible_post(session, pid, b) is not None
    assert queries.find_visible_post(session, pid, c) is None
    assert queries.find_visible_post(session, pid, None) is None
    with uow() as s, pytest.raises(Forbidden):
        actions.reblog(s, b, pid)


def test_unfollow_purges_home_and_delete_removes(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        pid = actions.create_post(s, a, text="first").id
    with uow() as s:
        actions.follow(s, b, a)  # backfill
    assert [p.id for p in timelines.home(session, b, Page())] == [pid]
    with uow() as s:
        actions.unfollow(s, b, a)
    assert timelines.home(session, b, Page()) == []
    with uow() as s:
        actions.follow(s, b, a)
    with uow() as s:
        actions.delete_post(s, a, pid)
    assert timelines.home(session, b, Page()) == []
    with uow() as s, pytest.raises(NotFound):
        actions.delete_post(s, a, pid)


def test_only_owner_deletes(uow):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        pid = actions.create_post(s, a, text="mine").id
    with uow() as s, pytest.raises(Forbidden):
        actions.delete_post(s, b, pid)


def test_like_reblog_bookmark_idempotent_with_notifications(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        pid = actions.create_post(s, a, text="like me").id
    for _ in range(2):
        with uow() as s:
            actions.favourite(s, b, pid)
            actions.reblog(s, b, pid)
            actions.bookmark(s, b, pid)
    p = queries.get_post(session, pid)
    session.refresh(p)
    assert (p.favourites_count, p.reblogs_count) == (1, 1)
    types = sorted(n.type for n in session.scalars(
        select(Notification).where(Notification.account_id == a)))
    assert types == ["favourite", "reblog"]
    with uow() as s:
        actions.unfavourite(s, b, pid)
        actions.unreblog(s, b, pid)
    session.refresh(p)
    assert (p.favourites_count, p.reblogs_count) == (0, 0)


def test_reply_threads_and_context(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        root = actions.create_post(s, a, text="root").id
    with uow() as s:
        r1 = actions.create_post(s, b, text="reply", in_reply_to_id=root).id
    with uow() as s:
        r2 = actions.create_post(s, a, text="reply 2", in_reply_to_id=r1).id
    post = queries.get_post(session, r1)
    anc, desc = queries.context(session, post, a)
    assert [p.id for p in anc] == [root] and [p.id for p in desc] == [r2]
    assert queries.get_post(session, root).replies_count == 1
    notes = session.scalars(select(Notification).where(Notification.account_id == a)).all()
    assert [n.type for n in notes] == ["mention"]


def test_post_validation_names_field(uow):
    a = make_account(uow, "alice")
    with uow() as s, pytest.raises(Invalid) as e:
        actions.create_post(s, a, text="")
    assert e.value.field == "status"
    with uow() as s, pytest.raises(Invalid) as e:
        actions.create_post(s, a, text="x", visibility="direct")
    assert e.value.field == "visibility"
    with uow() as s, pytest.raises(Invalid) as e:
        actions.create_post(s, a, text="x" * 5000)
    assert e.value.rule.startswith("max_length")


def test_undo_actions_emit_events_only_when_something_changed(uow):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    with uow() as s:
        pid = actions.create_post(s, a, text="x").id
        actions.block(s, b, a)
        actions.mute(s, a, b)
    with uow() as s:
        actions.unblock(s, b, a)
        actions.unmute(s, a, b)
        actions.bookmark(s, b, pid)
        actions.unbookmark(s, b, pid)
        types = [e.type for e in emitted(s)]
    assert types == ["social.unblocked", "social.unmuted", "social.bookmarked",
                     "social.unbookmarked"]
    with uow() as s:
        actions.unblock(s, b, a)
        actions.unmute(s, a, b)
        actions.unbookmark(s, b, pid)
        assert emitted(s) == []


def test_replies_reach_home_only_if_viewer_follows_both(uow, session, app):
    """Mastodon's rule, through both the database path and the cached fast path."""
    from fastapi.testclient import TestClient

    from tests.helpers import token_for

    a, b, c, v = (make_account(uow, n) for n in ("alice", "bob", "carol", "viewer"))
    with uow() as s:
        actions.follow(s, v, a)
        actions.follow(s, v, c)
    with uow() as s:
        to_b = actions.create_post(s, b, text="bob's post").id
        to_c = actions.create_post(s, c, text="carol's post").id
    with uow() as s:
        r_b = actions.create_post(s, a, text="reply to bob", in_reply_to_id=to_b).id
        r_c = actions.create_post(s, a, text="reply to carol", in_reply_to_id=to_c).id
        own = actions.create_post(s, a, text="top level").id
    ids = [p.id for p in timelines.home(session, v, Page())]
    assert r_b not in ids and r_c in ids and own in ids
    h = {"Authorization": f"Bearer {token_for(uow, v)}"}
    with TestClient(app) as c_:
        for _ in range(2):  # cold, then cached
            got = [int(x["id"]) for x in c_.get("/api/v1/timelines/home", headers=h).json()]
            assert r_b not in got and r_c in got and own in got
        with uow() as s:
            actions.follow(s, v, b)
        got = [int(x["id"]) for x in c_.get("/api/v1/timelines/home", headers=h).json()]
        assert r_b in got
