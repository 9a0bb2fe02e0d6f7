"""Ownership / IDOR: another account is refused (403/404) and nothing changes in storage."""

from __future__ import annotations

from sqlalchemy import func, select

from shopwindow.accounts.models import Account
from shopwindow.media.models import MediaAttachment
from shopwindow.notifications.models import Notification
from shopwindow.social.models import Bookmark, Like, Post
from tests.helpers import png_bytes


def _post(api, text="hello", **kw):
    r = api.post("/api/v1/statuses", data={"status": text, **kw})
    assert r.status_code == 200, r.text
    return r.json()


def _upload(api, **kw):
    r = api.post("/api/v2/media", files={"file": ("a.png", png_bytes(), "image/png")},
                 data=kw)
    assert r.status_code == 200, r.text
    return r.json()


def _count(session, model, *where):
    session.rollback()  # read the latest commit
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_delete_someone_elses_status_is_404_and_keeps_it(users, session):
    alice, bob = users("alice"), users("bob")
    st = _post(alice, "mine")
    r = bob.delete(f"/api/v1/statuses/{st['id']}")
    assert r.status_code == 404 and "error" in r.json()
    session.rollback()
    post = session.get(Post, int(st["id"]))
    assert post is not None and post.deleted_at is None
    assert alice.get(f"/api/v1/statuses/{st['id']}").status_code == 200
    # The owner can delete it.
    assert alice.delete(f"/api/v1/statuses/{st['id']}").status_code == 200
    assert alice.delete(f"/api/v1/statuses/{st['id']}").status_code == 404


def test_media_get_and_put_are_owner_only(users, session):
    alice, bob = users("alice"), users("bob")
    m = _upload(alice, description="original")
    assert bob.get(f"/api/v1/media/{m['id']}").status_code == 404
    r = bob.put(f"/api/v1/media/{m['id']}", data={"description": "hijacked", "focus": "1,1"})
    assert r.status_code == 404
    session.rollback()
    row = session.get(MediaAttachment, int(m["id"]))
    assert row.description == "original" and (row.focus_x, row.focus_y) == (0.0, 0.0)
    # Nor can Bob attach Alice's upload to his own status.
    r = bob.post("/api/v1/statuses", data={"status": "stolen", "media_ids[]": m["id"]})
    assert r.status_code == 422 and "media_ids" in r.json()["details"]
    session.rollback()
    assert session.get(MediaAttachment, int(m["id"])).post_id is None
    # The owner can.
    r = alice.put(f"/api/v1/media/{m['id']}", data={"description": "updated", "focus": "0.5,0"})
    assert r.status_code == 200 and r.json()["description"] == "updated"
    assert alice.get(f"/api/v1/media/{m['id']}").json()["meta"]["focus"] == {"x": 0.5, "y": 0.0}


def test_notifications_get_and_dismiss_are_owner_only(users, session):
    alice, bob = users("alice"), users("bob")
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    notes = alice.get("/api/v1/notifications").json()
    assert [n["type"] for n in notes] == ["follow"]
    nid = notes[0]["id"]
    assert bob.get(f"/api/v1/notifications/{nid}").status_code == 404
    assert bob.post(f"/api/v1/notifications/{nid}/dismiss").status_code == 404
    assert bob.post("/api/v1/notifications/dismiss", data={"id": nid}).status_code == 404
    assert bob.post("/api/v1/notifications/clear").status_code == 200
    assert _count(session, Notification, Notification.id == int(nid)) == 1
    assert bob.get("/api/v1/notifications").json() == []
    assert alice.get(f"/api/v1/notifications/{nid}").json()["id"] == nid
    assert alice.post(f"/api/v1/notifications/{nid}/dismiss").status_code == 200
    assert _count(session, Notification, Notification.id == int(nid)) == 0


def test_update_credentials_only_changes_the_caller(users, session):
    alice, bob = users("alice"), users("bob")
    r = bob.patch("/api/v1/accounts/update_credentials",
                  data={"display_name": "Bob B.", "id": str(alice.id), "username": "alice",
                        "note": "hi"})
    assert r.status_code == 200 and r.json()["id"] == str(bob.id)
    session.rollback()
    a = session.get(Account, alice.id)
    b = session.get(Account, bob.id)
    assert (a.display_name, a.bio) == ("alice", "")
    assert (b.display_name, b.bio, b.username) == ("Bob B.", "hi", "bob")


def test_private_status_is_invisible_to_non_followers(users, session):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    assert carol.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    st = _post(alice, "followers only", visibility="private")
    sid = st["id"]
    for method, path in [
        ("get", f"/api/v1/statuses/{sid}"),
        ("get", f"/api/v1/statuses/{sid}/context"),
        ("get", f"/api/v1/statuses/{sid}/favourited_by"),
        ("get", f"/api/v1/statuses/{sid}/reblogged_by"),
        ("post", f"/api/v1/statuses/{sid}/favourite"),
        ("post", f"/api/v1/statuses/{sid}/unfavourite"),
        ("post", f"/api/v1/statuses/{sid}/reblog"),
        ("post", f"/api/v1/statuses/{sid}/unreblog"),
        ("post", f"/api/v1/statuses/{sid}/bookmark"),
        ("post", f"/api/v1/statuses/{sid}/unbookmark"),
    ]:
        r = getattr(bob, method)(path)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.json()["error"]
    # Replying to it is refused without saying whether it exists.
    r = bob.post("/api/v1/statuses", data={"status": "hi", "in_reply_to_id": sid})
    assert r.status_code == 422 and "in_reply_to_id" in r.json()["details"]
    assert _count(session, Like, Like.post_id == int(sid)) == 0
    assert _count(session, Bookmark, Bookmark.post_id == int(sid)) == 0
    assert _count(session, Post, Post.reblog_of_id == int(sid)) == 0
    assert _count(session, Post, Post.in_reply_to_id == int(sid)) == 0
    assert bob.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
    # A follower sees it and may favourite it, but followers-only posts cannot be boosted.
    assert carol.get(f"/api/v1/statuses/{sid}").status_code == 200
    assert carol.post(f"/api/v1/statuses/{sid}/favourite").json()["favourited"] is True
    assert carol.post(f"/api/v1/statuses/{sid}/reblog").status_code == 403
    assert [s["id"] for s in carol.get(f"/api/v1/accounts/{alice.id}/statuses").json()] == [sid]
    # Signed out it does not exist either.
    assert alice.c.get(f"/api/v1/statuses/{sid}").status_code == 404


def test_bookmark_and_favourite_lists_show_only_the_callers(users):
    alice, bob = users("alice"), users("bob")
    st = _post(alice, "public")
    assert alice.post(f"/api/v1/statuses/{st['id']}/bookmark").status_code == 200
    assert alice.post(f"/api/v1/statuses/{st['id']}/favourite").status_code == 200
    assert [s["id"] for s in alice.get("/api/v1/bookmarks").json()] == [st["id"]]
    assert [s["id"] for s in alice.get("/api/v1/favourites").json()] == [st["id"]]
    assert bob.get("/api/v1/bookmarks").json() == []
    assert bob.get("/api/v1/favourites").json() == []
    # Flags on the status are per viewer.
    assert bob.get(f"/api/v1/statuses/{st['id']}").json()["bookmarked"] is False
    # Bob's unbookmark/unfavourite do not touch Alice's rows.
    assert bob.post(f"/api/v1/statuses/{st['id']}/unbookmark").status_code == 200
    assert bob.post(f"/api/v1/statuses/{st['id']}/unfavourite").status_code == 200
    assert len(alice.get("/api/v1/bookmarks").json()) == 1
    assert alice.get(f"/api/v1/statuses/{st['id']}").json()["favourites_count"] == 1


def test_bookmarked_status_hidden_after_losing_access(users):
    alice, bob = users("alice"), users("bob")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    st = _post(alice, "followers only", visibility="private")
    assert bob.post(f"/api/v1/statuses/{st['id']}/bookmark").status_code == 200
    assert len(bob.get("/api/v1/bookmarks").json()) == 1
    bob.post(f"/api/v1/accounts/{alice.id}/unfollow")
    assert bob.get("/api/v1/bookmarks").json() == []


def test_unreblog_and_relationship_routes_act_only_for_the_caller(users, session):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    st = _post(alice, "boost me")
    rb = carol.post(f"/api/v1/statuses/{st['id']}/reblog").json()
    # Bob cannot delete or undo Carol's reblog.
    assert bob.delete(f"/api/v1/statuses/{rb['id']}").status_code == 404
    assert bob.post(f"/api/v1/statuses/{st['id']}/unreblog").json()["reblogged"] is False
    assert _count(session, Post, Post.reblog_of_id == int(st["id"]),
                  Post.deleted_at.is_(None)) == 1
    # remove_from_followers only removes a follower of the caller.
    assert carol.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    r = bob.post(f"/api/v1/accounts/{alice.id}/remove_from_followers")
    assert r.status_code == 200 and r.json()["followed_by"] is False
    rel = carol.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()
    assert rel[0]["following"] is True
