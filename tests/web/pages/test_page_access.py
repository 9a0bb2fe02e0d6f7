"""Every object route refuses other users: private posts, others' tokens, posts and pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shopwindow.accounts.models import Account, OAuthToken
from shopwindow.social import actions as social
from shopwindow.social.models import Bookmark, Like, Post
from tests.helpers import make_account, token_for
from tests.web.pages.util import HTML, page_csrf, post_form, sign_in


@pytest.fixture
def world(uow, client, new_client):
    """owner has a private post; stranger does not follow owner; fan does."""
    ids = {u: make_account(uow, u) for u in ("owner", "stranger", "fan")}
    with uow() as s:
        social.follow(s, ids["fan"], ids["owner"])
        private = social.create_post(s, ids["owner"], text="fans only secret",
                                     visibility="private").id
        public = social.create_post(s, ids["owner"], text="hello world",
                                    visibility="public").id
    stranger, fan = client, new_client()
    sign_in(stranger, "stranger")
    sign_in(fan, "fan")
    return {"ids": ids, "private": private, "public": public, "stranger": stranger, "fan": fan,
            "anon": new_client()}


def test_private_post_is_404_for_strangers_and_visitors(world):
    url = f"/@owner/{world['private']}"
    assert world["stranger"].get(url, headers=HTML).status_code == 404
    assert world["anon"].get(url, headers=HTML).status_code == 404
    r = world["fan"].get(url, headers=HTML)
    assert r.status_code == 200 and "fans only secret" in r.text


def test_private_post_hidden_from_profile_and_feeds_of_strangers(world):
    for who in ("stranger", "anon"):
        c = world[who]
        for url in ("/@owner", "/public", "/"):
            assert "fans only secret" not in c.get(url, headers=HTML).text, (who, url)
    assert "fans only secret" in world["fan"].get("/@owner", headers=HTML).text


def test_post_url_with_another_username_is_404(world):
    r = world["fan"].get(f"/@stranger/{world['public']}", headers=HTML)
    assert r.status_code == 404
    assert world["fan"].get("/@owner/99999999999", headers=HTML).status_code == 404
    assert world["fan"].get(f"/@owner/{1 << 64}", headers=HTML).status_code == 404


@pytest.mark.parametrize("action", ["favourite", "reblog", "bookmark", "unfavourite"])
def test_stranger_cannot_act_on_a_private_post(world, session, action):
    r = post_form(world["stranger"], f"/posts/{world['private']}/{action}", csrf_page="/public")
    assert r.status_code == 404
    assert session.scalar(select(func.count()).select_from(Like)) == 0
    assert session.scalar(select(func.count()).select_from(Bookmark)) == 0
    assert session.scalar(select(func.count()).select_from(Post)
                          .where(Post.reblog_of_id.is_not(None))) == 0


def test_stranger_cannot_reply_to_a_private_post(world, session):
    r = post_form(world["stranger"], "/compose", {"text": "sneaky", "visibility": "public",
                                                  "in_reply_to_id": str(world["private"])},
                  csrf_page="/public")
    assert r.status_code == 422
    assert "does not exist or is not visible" in r.text
    assert session.scalar(select(func.count()).select_from(Post)
                          .where(Post.text == "sneaky")) == 0


def test_followers_only_post_cannot_be_reposted_even_by_followers(world, session):
    r = post_form(world["fan"], f"/posts/{world['private']}/reblog", csrf_page="/public")
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(Post)
                          .where(Post.reblog_of_id.is_not(None))) == 0


def test_cannot_delete_someone_elses_post(world, session):
    r = post_form(world["fan"], f"/posts/{world['public']}/delete", csrf_page="/public")
    assert r.status_code == 403
    r = post_form(world["stranger"], f"/posts/{world['private']}/delete", csrf_page="/public")
    assert r.status_code == 404  # invisible: not even "forbidden"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Post)
                          .where(Post.deleted_at.is_not(None))) == 0


def test_actions_with_a_wrong_csrf_token_are_403(world, session):
    c = world["fan"]
    for url in (f"/posts/{world['public']}/favourite", "/@owner/unfollow",
                f"/posts/{world['public']}/delete"):
        r = c.post(url, data={"csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code == 403, url
        assert "This form has expired" in r.text
    # A signed-out visitor's valid-looking token is no good for a signed-in session either.
    anon_token = page_csrf(world["anon"], "/auth/sign_in")
    r = c.post(f"/posts/{world['public']}/favourite", data={"csrf_token": anon_token},
               follow_redirects=False)
    assert r.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Like)) == 0


def test_cannot_revoke_someone_elses_token(world, uow, session):
    token_for(uow, world["ids"]["owner"])
    tok = session.scalar(select(OAuthToken).where(OAuthToken.account_id == world["ids"]["owner"]))
    r = post_form(world["stranger"], f"/settings/tokens/{tok.id}/revoke", csrf_page="/settings")
    assert r.status_code == 404
    session.expire_all()
    assert session.get(OAuthToken, tok.id).revoked_at is None
    assert f"/settings/tokens/{tok.id}/revoke" not in world["stranger"].get(
        "/settings", headers=HTML).text


def test_bookmarks_and_notifications_are_the_viewers_own(world, uow):
    with uow() as s:
        social.bookmark(s, world["ids"]["fan"], world["public"])
        social.favourite(s, world["ids"]["fan"], world["public"])
    assert "hello world" in world["fan"].get("/bookmarks", headers=HTML).text
    assert "hello world" not in world["stranger"].get("/bookmarks", headers=HTML).text
    assert "liked your post" not in world["stranger"].get("/notifications", headers=HTML).text
    assert "liked your post" not in world["fan"].get("/notifications", headers=HTML).text


def test_bookmarked_post_that_became_invisible_is_not_shown(world, uow):
    with uow() as s:
        social.bookmark(s, world["ids"]["fan"], world["private"])
        social.unfollow(s, world["ids"]["fan"], world["ids"]["owner"])
    assert "fans only secret" not in world["fan"].get("/bookmarks", headers=HTML).text


@pytest.mark.parametrize("url", ["/notifications", "/bookmarks", "/settings"])
def test_private_pages_send_visitors_to_sign_in(world, url):
    r = world["anon"].get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/auth/sign_in?next={url.replace('/', '%2F')}"


@pytest.mark.parametrize("url", ["/posts/1/favourite", "/@owner/follow", "/settings/profile",
                                 "/settings/delete", "/settings/tokens/1/revoke"])
def test_signed_out_posts_go_to_sign_in(world, url):
    r = world["anon"].post(url, data={}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")


def test_blocked_viewer_sees_no_posts_and_cannot_follow(world, uow, session):
    with uow() as s:
        social.block(s, world["ids"]["owner"], world["ids"]["stranger"])
    html = world["stranger"].get("/@owner", headers=HTML).text
    assert "hello world" not in html and 'action="/@owner/follow"' not in html
    r = post_form(world["stranger"], "/@owner/follow", csrf_page="/public")
    assert r.status_code == 403
    assert world["stranger"].get(f"/@owner/{world['public']}", headers=HTML).status_code == 404


def test_cannot_follow_yourself_or_unknown_accounts(world):
    r = post_form(world["fan"], "/@fan/follow", csrf_page="/public")
    assert r.status_code == 422 and "You cannot do this to your own account" in r.text
    r = post_form(world["fan"], "/@ghost/follow", csrf_page="/public")
    assert r.status_code == 404
    r = post_form(world["fan"], "/@owner/frobnicate", csrf_page="/public")
    assert r.status_code == 404


def test_deleted_account_profile_is_404(world, uow, session):
    from shopwindow.accounts import actions as accounts

    with uow() as s:
        acct = s.get(Account, world["ids"]["owner"])
        accounts.delete_account(s, acct, "correct horse battery")
    assert world["fan"].get("/@owner", headers=HTML).status_code == 404
    assert world["fan"].get(f"/@owner/{world['public']}", headers=HTML).status_code == 404
