"""Feeds, compose (with images), post cards, threads, profiles, notifications, settings."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shopwindow.accounts.models import Account
from shopwindow.media.models import MediaAttachment
from shopwindow.notifications.models import Notification
from shopwindow.social.models import Bookmark, Follow, Like, Post
from tests.helpers import make_account, png_bytes
from tests.web.pages.util import (
    HTML,
    PASSWORD,
    compose,
    field_error,
    post_form,
    post_ids,
    sign_in,
    sign_up,
)


def _latest_post(session, username: str) -> Post:
    acct = session.scalar(select(Account).where(Account.username_key == username))
    session.expire_all()
    post = session.scalar(select(Post).where(Post.account_id == acct.id)
                          .order_by(Post.id.desc()).limit(1))
    assert post is not None
    return post


def test_signed_out_home_shows_public_timeline_and_sign_up_links(client, new_client):
    alice = new_client()
    sign_up(alice, "alice")
    compose(alice, "public hello")
    compose(alice, "secret for fans", visibility="private")
    r = client.get("/", headers=HTML)
    assert r.status_code == 200
    assert "public hello" in r.text and "secret for fans" not in r.text
    assert 'href="/auth/sign_up"' in r.text and 'href="/auth/sign_in"' in r.text
    assert 'action="/posts/' not in r.text  # no action forms for signed-out visitors


def test_compose_and_home_timeline_with_cursor_pagination(client, session):
    sign_up(client, "writer")
    for i in range(23):
        compose(client, f"note number {i}")
    r = client.get("/", headers=HTML)
    ids = post_ids(r.text)
    assert len(ids) == 20 and ids == sorted(ids, reverse=True)
    m = re.search(r'href="(/\?max_id=(\d+))" rel="next"', r.text)
    assert m and int(m.group(2)) == min(ids)
    older = client.get(m.group(1), headers=HTML)
    rest = post_ids(older.text)
    assert len(rest) == 3 and max(rest) < min(ids)
    assert 'rel="next"' not in older.text


def test_compose_with_images_shows_thumbnails_linking_to_full_size(client, session):
    sign_up(client, "snap")
    files = [("images", (f"p{i}.png", png_bytes(600, 400, (i * 40, 10, 10)), "image/png"))
             for i in range(3)]
    compose(client, "three pictures", files=files)
    post = _latest_post(session, "snap")
    media = list(session.scalars(select(MediaAttachment).where(MediaAttachment.post_id == post.id)
                                 .order_by(MediaAttachment.position)))
    assert len(media) == 3
    html = client.get(f"/@snap/{post.id}", headers=HTML).text
    for m in media:
        assert f'<a href="/media/{m.key}" class="media-link"><img src="/media/{m.thumb_key}"' in html
    assert 'alt="Image 1 of 3 posted by snap"' in html
    assert client.get(f"/media/{media[0].thumb_key}").headers["content-type"] == media[0].mime


def test_compose_image_only_post_and_empty_file_inputs_are_ignored(client, session):
    sign_up(client, "pic")
    compose(client, "", files=[("images", ("a.png", png_bytes(), "image/png")),
                               ("images", ("", b"", "application/octet-stream"))])
    post = _latest_post(session, "pic")
    assert session.scalar(select(func.count()).select_from(MediaAttachment)
                          .where(MediaAttachment.post_id == post.id)) == 1


def test_compose_refuses_ten_images_and_stores_nothing(client, session):
    sign_up(client, "many")
    files = [("images", (f"{i}.png", png_bytes(), "image/png")) for i in range(10)]
    r = post_form(client, "/compose", {"text": "too many", "visibility": "public"}, files=files)
    assert r.status_code == 422
    assert field_error(r.text, "compose-images") == "At most 9 images per post"
    assert "too many" in r.text  # text re-filled
    assert session.scalar(select(func.count()).select_from(MediaAttachment)) == 0
    assert session.scalar(select(func.count()).select_from(Post)) == 0


def test_compose_refuses_non_images_inline(client, session):
    sign_up(client, "txt")
    r = post_form(client, "/compose", {"text": "look", "visibility": "public"},
                  files=[("images", ("evil.png", b"<?php echo 1; ?>", "image/png"))])
    assert r.status_code == 422
    assert field_error(r.text, "compose-images") == "File is not a readable image"
    assert session.scalar(select(func.count()).select_from(Post)) == 0


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"text": "   "}, "compose-text", "A post needs text or at least one image"),
    ({"text": "x" * 2001}, "compose-text", "Text is longer than 2000 characters"),
    ({"text": "hi", "visibility": "direct"}, "compose-visibility",
     "Visibility must be public, unlisted or private (followers only)"),
])
def test_compose_validation_errors_inline(client, data, field, message):
    sign_up(client, "val")
    r = post_form(client, "/compose", {"visibility": "public", **data})
    assert r.status_code == 422
    assert field_error(r.text, field) == message


def test_compose_without_csrf_is_refused(client, session):
    sign_up(client, "nocsrf")
    r = client.post("/compose", data={"text": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "This form has expired" in r.text
    assert session.scalar(select(func.count()).select_from(Post)) == 0


def test_compose_signed_out_redirects_to_sign_in(client):
    r = client.post("/compose", data={"text": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")


def test_script_in_post_text_and_names_is_escaped(client, new_client, session):
    sign_up(client, "xss", display_name='<img src=x onerror="alert(1)">')
    compose(client, '<script>alert("pwned")</script> and <b>bold</b>')
    post = _latest_post(session, "xss")
    viewer = new_client()
    for url in ("/", "/public", f"/@xss/{post.id}", "/@xss"):
        html = viewer.get(url, headers=HTML).text
        assert "&lt;script&gt;alert(" in html, url
        assert '<script>alert("pwned")' not in html and "<b>bold</b>" not in html
        assert "<img src=x" not in html and "&lt;img src=x onerror=" in html


def test_like_through_the_form_notifies_the_author(client, new_client, session):
    sign_up(client, "author")
    compose(client, "like me")
    post = _latest_post(session, "author")
    fan = new_client()
    sign_up(fan, "fan")
    r = post_form(fan, f"/posts/{post.id}/favourite", {"next": "/public"}, csrf_page="/public")
    assert r.status_code == 303 and r.headers["location"] == "/public"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Like)) == 1
    html = fan.get(f"/@author/{post.id}", headers=HTML).text
    assert f'action="/posts/{post.id}/unfavourite"' in html
    assert 'class="act act-favourite" aria-pressed="true"' in html
    # The author sees the like in the notifications; viewing marks it read.
    home = client.get("/", headers=HTML).text
    assert '<span class="badge">1' in home
    notes = client.get("/notifications", headers=HTML).text
    assert "liked your post" in notes and 'href="/@fan"' in notes
    assert f'href="/@author/{post.id}"' in notes
    session.expire_all()
    assert session.scalar(select(Notification.read_at)) is not None
    assert '<span class="badge">' not in client.get("/", headers=HTML).text
    # Unlike.
    post_form(fan, f"/posts/{post.id}/unfavourite", csrf_page="/public")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Like)) == 0


def test_card_actions_from_javascript_get_the_updated_card(client, new_client, session):
    sign_up(client, "jsauthor")
    compose(client, "enhance me")
    post = _latest_post(session, "jsauthor")
    fan = new_client()
    sign_up(fan, "jsfan")
    r = post_form(fan, f"/posts/{post.id}/favourite", csrf_page="/public",
                  headers={"X-Requested-With": "fetch"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<article class="post" id="post-{post.id}"')
    assert 'class="act act-favourite" aria-pressed="true"' in r.text
    assert '<span class="act-count">1</span>' in r.text


def test_repost_and_bookmark_through_forms(client, new_client, session):
    sign_up(client, "orig")
    compose(client, "worth sharing")
    post = _latest_post(session, "orig")
    fan = new_client()
    sign_up(fan, "sharer")
    assert post_form(fan, f"/posts/{post.id}/reblog", csrf_page="/public").status_code == 303
    assert post_form(fan, f"/posts/{post.id}/bookmark", csrf_page="/public").status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Post)
                          .where(Post.reblog_of_id == post.id)) == 1
    assert session.scalar(select(func.count()).select_from(Bookmark)) == 1
    profile = fan.get("/@sharer", headers=HTML).text
    assert "sharer</a> reposted" in profile and "worth sharing" in profile
    bookmarks = fan.get("/bookmarks", headers=HTML).text
    assert "worth sharing" in bookmarks
    post_form(fan, f"/posts/{post.id}/unbookmark", csrf_page="/public")
    assert "worth sharing" not in fan.get("/bookmarks", headers=HTML).text
    # The repost link of a repost goes to the original.
    rb = session.scalar(select(Post).where(Post.reblog_of_id == post.id))
    r = fan.get(f"/@sharer/{rb.id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/@orig/{post.id}"


def test_follow_through_the_profile_and_see_posts_in_home(client, new_client, session):
    sign_up(client, "star")
    compose(client, "from the star")
    fan = new_client()
    sign_up(fan, "follower")
    profile = fan.get("/@star", headers=HTML).text
    assert 'action="/@star/follow"' in profile
    r = post_form(fan, "/@star/follow", {"next": "/@star"}, csrf_page="/@star")
    assert r.status_code == 303 and r.headers["location"] == "/@star"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Follow)) == 1
    profile = fan.get("/@star", headers=HTML).text
    assert 'action="/@star/unfollow"' in profile and ">Following<" in profile
    assert "from the star" in fan.get("/", headers=HTML).text
    followers = fan.get("/@star/followers", headers=HTML).text
    assert 'href="/@follower"' in followers
    assert 'href="/@star"' in fan.get("/@follower/following", headers=HTML).text
    notes = client.get("/notifications", headers=HTML).text
    assert "followed you" in notes
    post_form(fan, "/@star/unfollow", csrf_page="/@star")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Follow)) == 0


def test_thread_page_with_reply_form_and_replies(client, new_client, session):
    sign_up(client, "op")
    compose(client, "root post")
    root = _latest_post(session, "op")
    other = new_client()
    sign_up(other, "replier")
    html = other.get(f"/@op/{root.id}", headers=HTML).text
    assert f'name="in_reply_to_id" value="{root.id}"' in html and "@op " in html
    r = post_form(other, "/compose", {"text": "@op nice one", "visibility": "public",
                                      "in_reply_to_id": str(root.id),
                                      "next": f"/@op/{root.id}"}, csrf_page=f"/@op/{root.id}")
    assert r.status_code == 303 and r.headers["location"] == f"/@op/{root.id}"
    reply = _latest_post(session, "replier")
    assert reply.in_reply_to_id == root.id
    thread = other.get(f"/@op/{root.id}", headers=HTML).text
    assert post_ids(thread) == [root.id, reply.id]
    sub = other.get(f"/@replier/{reply.id}", headers=HTML).text
    assert post_ids(sub) == [root.id, reply.id]  # ancestors first
    assert "mentioned you" in client.get("/notifications", headers=HTML).text


def test_profile_shows_counts_bio_region_and_pagination(client, session, uow):
    make_account(uow, "prof", bio="Loves <tea> & cakes", region="Hangzhou")
    sign_in(client, "prof")
    for i in range(21):
        compose(client, f"p{i}")
    html = client.get("/@prof", headers=HTML).text
    assert "Loves &lt;tea&gt; &amp; cakes" in html and "Hangzhou" in html
    assert "<strong>21</strong> Posts" in html
    assert len(post_ids(html)) == 20 and 'rel="next"' in html
    assert client.get("/@nobody-here", headers=HTML).status_code == 404


def test_delete_own_post(client, session):
    sign_up(client, "deleter")
    compose(client, "oops")
    post = _latest_post(session, "deleter")
    # the author's own post page links to its report
    assert f'href="/reports/posts/{post.id}"' in client.get(
        f"/@deleter/{post.id}", headers=HTML).text
    r = post_form(client, f"/posts/{post.id}/delete", {"next": f"/@deleter/{post.id}"})
    assert r.status_code == 303 and r.headers["location"] == "/@deleter"
    session.expire_all()
    assert session.get(Post, post.id).deleted_at is not None
    assert client.get(f"/@deleter/{post.id}", headers=HTML).status_code == 404


def test_tag_and_public_pages(client, session):
    sign_up(client, "tagger")
    compose(client, "new lipstick #Beauty")
    compose(client, "nothing tagged")
    html = client.get("/tags/beauty", headers=HTML).text
    assert "new lipstick" in html and "nothing tagged" not in html
    pub = client.get("/public", headers=HTML).text
    assert "new lipstick" in pub and "nothing tagged" in pub


# ------------------------------------------------------------------ settings


def test_settings_profile_update_and_locale(client, session):
    sign_up(client, "setme")
    r = post_form(client, "/settings/profile", {
        "display_name": "Set Me", "bio": "hello\nworld", "region": "Shanghai",
        "languages": "zh, en", "locale": "zh-CN", "default_visibility": "unlisted"},
        csrf_page="/settings")
    assert r.status_code == 303 and r.headers["location"] == "/settings?saved=profile"
    assert "sw_locale=zh-CN" in r.headers["set-cookie"]
    acct = session.scalar(select(Account).where(Account.username_key == "setme"))
    assert (acct.display_name, acct.bio, acct.region, acct.languages, acct.locale,
            acct.default_visibility) == ("Set Me", "hello\nworld", "Shanghai", ["zh", "en"],
                                         "zh-CN", "unlisted")
    html = client.get("/settings?saved=profile", headers=HTML).text
    assert "资料已保存" in html


def test_settings_profile_errors_are_inline_and_nothing_is_saved(client, session):
    sign_up(client, "longbio")
    r = post_form(client, "/settings/profile", {
        "display_name": "Changed", "bio": "b" * 501, "locale": "en",
        "default_visibility": "public"}, csrf_page="/settings")
    assert r.status_code == 422
    assert field_error(r.text, "f-bio") == "Bio is longer than 500 characters"
    assert 'value="Changed"' in r.text
    session.expire_all()
    assert session.scalar(select(Account.display_name)
                          .where(Account.username_key == "longbio")) == "longbio"


def test_settings_avatar_and_header_upload(client, session):
    sign_up(client, "avatar")
    r = post_form(client, "/settings/profile", {"locale": "en", "default_visibility": "public"},
                  files=[("avatar", ("me.png", png_bytes(800, 800), "image/png")),
                         ("header", ("h.png", png_bytes(1500, 500), "image/png"))],
                  csrf_page="/settings")
    assert r.status_code == 303
    acct = session.scalar(select(Account).where(Account.username_key == "avatar"))
    assert acct.avatar_key and acct.header_key
    html = client.get("/@avatar", headers=HTML).text
    assert f'src="/media/{acct.avatar_key}"' in html and f'src="/media/{acct.header_key}"' in html
    assert client.get(f"/media/{acct.avatar_key}").status_code == 200
    r = post_form(client, "/settings/profile", {"locale": "en", "default_visibility": "public"},
                  files=[("avatar", ("bad.png", b"not an image", "image/png"))],
                  csrf_page="/settings")
    assert r.status_code == 422
    assert field_error(r.text, "f-avatar") == "File is not a readable image"
    # The old avatar is still there (no after-commit deletion from the failed form).
    assert client.get(f"/media/{acct.avatar_key}").status_code == 200


def test_settings_password_change(client, new_client):
    sign_up(client, "pw")
    r = post_form(client, "/settings/password", {"current_password": "wrong-one",
                                                 "new_password": "new password 123"},
                  csrf_page="/settings")
    assert r.status_code == 422
    assert field_error(r.text, "f-current_password") == "Current password is wrong"
    r = post_form(client, "/settings/password", {"current_password": PASSWORD,
                                                 "new_password": "short"},
                  csrf_page="/settings")
    assert r.status_code == 422
    assert field_error(r.text, "f-new_password") == "Password must be at least 8 characters"
    r = post_form(client, "/settings/password", {"current_password": PASSWORD,
                                                 "new_password": "new password 123"},
                  csrf_page="/settings")
    assert r.status_code == 303
    other = new_client()
    sign_in(other, "pw", "new password 123")


def test_settings_lists_and_revokes_own_tokens(client, session, uow):
    from shopwindow.accounts.models import OAuthToken
    from tests.helpers import token_for

    sign_up(client, "tok")
    acct_id = session.scalar(select(Account.id).where(Account.username_key == "tok"))
    token_for(uow, acct_id)
    tok = session.scalar(select(OAuthToken).where(OAuthToken.account_id == acct_id))
    html = client.get("/settings", headers=HTML).text
    assert f'action="/settings/tokens/{tok.id}/revoke"' in html and "read write follow" in html
    r = post_form(client, f"/settings/tokens/{tok.id}/revoke", csrf_page="/settings")
    assert r.status_code == 303
    session.expire_all()
    assert session.get(OAuthToken, tok.id).revoked_at is not None


def test_delete_account_needs_the_password(client, session):
    sign_up(client, "leaver")
    r = post_form(client, "/settings/delete", {"delete_password": "nope nope"},
                  csrf_page="/settings")
    assert r.status_code == 422
    assert field_error(r.text, "f-delete-password") == "Password is wrong"
    r = post_form(client, "/settings/delete", {"delete_password": PASSWORD},
                  csrf_page="/settings")
    assert r.status_code == 303
    session.expire_all()
    assert session.scalar(select(Account.deleted_at)
                          .where(Account.username_key == "leaver")) is not None
    assert client.get("/settings", follow_redirects=False).status_code == 303
