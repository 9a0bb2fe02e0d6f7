"""Mastodon.py, a real Mastodon client library, against the app served by uvicorn."""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.web.deps import SESSION_COOKIE
from tests.helpers import make_account, png_bytes

PASSWORD = "correct horse battery"


def _client(live: Any, client_id: str, client_secret: str, token: str | None = None) -> Mastodon:
    return Mastodon(client_id=client_id, client_secret=client_secret, access_token=token,
                    api_base_url=live.url, version_check_mode="none", request_timeout=30)


def test_mastodon_py_end_to_end(live):
    client_id, client_secret = Mastodon.create_app(
        "shopwindow tests", scopes=["read", "write", "follow", "push"],
        api_base_url=live.url, website="https://example.com")

    # Client-credentials grant: an app token that knows its app but has no user.
    tok = httpx.post(f"{live.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": client_secret, "scope": "read write"}).json()
    app_api = _client(live, client_id, client_secret, tok["access_token"])
    assert app_api.app_verify_credentials()["name"] == "shopwindow tests"
    with pytest.raises(MastodonAPIError):
        app_api.timeline_home()  # no user behind an app token

    alice = _client(live, client_id, client_secret)
    alice.create_account("alice", PASSWORD, "alice@example.com", agreement=True)
    bob = _client(live, client_id, client_secret)
    bob.create_account("bob", PASSWORD, "bob@example.com", agreement=True)
    me = alice.account_verify_credentials()
    assert me.username == "alice" and me.source.privacy == "public"
    bob_me = bob.account_verify_credentials()

    # Media upload, then a status that uses it.
    media = alice.media_post(png_bytes(120, 80), mime_type="image/png", description="red",
                             focus=(0.5, -0.25))
    assert media.type == "image" and media.url.startswith(live.url + "/media/")
    assert media.description == "red" and media.meta.focus.x == 0.5
    assert httpx.get(media.url).status_code == 200
    assert alice.media(media).id == media.id
    alice.media_update(media, description="a red square")
    st = alice.status_post("Hello #Spring from alice", media_ids=[media])
    assert [m.id for m in st.media_attachments] == [media.id]
    assert st.media_attachments[0].description == "a red square"
    assert [t.name for t in st.tags] == ["spring"]

    # Bob follows Alice and sees her status on his home timeline.
    rel = bob.account_follow(me.id)
    assert rel.following is True
    assert str(st.id) in [str(s.id) for s in bob.timeline_home()]
    assert str(st.id) in [str(s.id) for s in bob.timeline_hashtag("spring")]
    assert str(st.id) in [str(s.id) for s in alice.timeline_public()]

    # Interactions.
    fav = bob.status_favourite(st)
    assert fav.favourited is True and fav.favourites_count == 1
    rb = bob.status_reblog(st)
    assert str(rb.reblog.id) == str(st.id) and rb.account.username == "bob"
    assert bob.status_bookmark(st).bookmarked is True
    assert [str(s.id) for s in bob.bookmarks()] == [str(st.id)]
    assert [str(s.id) for s in bob.favourites()] == [str(st.id)]
    assert [a.username for a in alice.status_favourited_by(st)] == ["bob"]
    assert [a.username for a in alice.status_reblogged_by(st)] == ["bob"]
    assert alice.bookmarks() == []

    notes = alice.notifications()
    assert {n.type for n in notes} == {"follow", "favourite", "reblog"}
    assert all(n.account.username == "bob" for n in notes)
    fav_note = next(n for n in notes if n.type == "favourite")
    assert str(fav_note.status.id) == str(st.id)
    assert [n.type for n in alice.notifications(types=["follow"])] == ["follow"]
    alice.notifications_dismiss(fav_note)
    assert {n.type for n in alice.notifications()} == {"follow", "reblog"}

    # Undo.
    assert bob.status_unfavourite(st).favourited is False
    assert bob.status_unreblog(st).reblogged is False
    assert bob.status_unbookmark(st).bookmarked is False
    assert bob.bookmarks() == []

    # A reply and its context.
    reply = bob.status_post("@alice lovely", in_reply_to_id=st)
    assert str(reply.in_reply_to_id) == str(st.id)
    ctx = alice.status_context(reply)
    assert [str(s.id) for s in ctx.ancestors] == [str(st.id)]
    assert [str(s.id) for s in alice.status_context(st).descendants] == [str(reply.id)]
    assert "mention" in {n.type for n in alice.notifications()}

    # Pagination with fetch_next over the Link header.
    ids = {str(st.id)}
    for i in range(5):
        ids.add(str(alice.status_post(f"post number {i}").id))
    page = alice.account_statuses(me.id, limit=2)
    seen: list[str] = []
    while page:
        assert len(page) <= 2
        seen += [str(s.id) for s in page]
        page = alice.fetch_next(page)
    assert seen == sorted(ids, key=int, reverse=True)
    first = alice.account_statuses(me.id, limit=2)
    older = alice.fetch_next(first)
    newer = alice.fetch_previous(older)
    assert [str(s.id) for s in newer] == [str(s.id) for s in first]
    followers = alice.account_followers(me.id, limit=1)
    assert [a.username for a in followers] == ["bob"]
    assert not alice.fetch_next(followers)

    # Relationships, block, mute.
    rels = bob.account_relationships([me.id])
    assert len(rels) == 1 and rels[0].following is True and str(rels[0].id) == str(me.id)
    blocked = bob.account_block(me.id)
    assert blocked.blocking is True and blocked.following is False
    assert [a.username for a in bob.blocks()] == ["alice"]
    assert bob.account_unblock(me.id).blocking is False
    muted = bob.account_mute(me.id, notifications=False)
    assert muted.muting is True and muted.muting_notifications is False
    assert [a.username for a in bob.mutes()] == ["alice"]
    assert bob.account_unmute(me.id).muting is False
    assert [a.username for a in bob.account_search("ali")] == ["alice"]
    assert bob.account_lookup("alice").id == me.id
    assert str(bob.account(me.id).id) == str(me.id)

    # Profile update through the library (multipart avatar).
    updated = alice.account_update_credentials(display_name="Alice A.", note="Fan of tea",
                                               avatar=png_bytes(300, 300),
                                               avatar_mime_type="image/png",
                                               default_privacy="unlisted")
    assert updated.display_name == "Alice A." and "Fan of tea" in updated.note
    assert updated.source.privacy == "unlisted"
    assert "/media/profile/" in updated.avatar and httpx.get(updated.avatar).status_code == 200
    assert bob_me.username == "bob"

    # Delete returns the source text; afterwards the status is gone.
    deleted = alice.status_delete(st)
    assert deleted.text == "Hello #Spring from alice"
    with pytest.raises(MastodonNotFoundError):
        alice.status(st)
    assert alice.preferences()["posting:default:visibility"] == "unlisted"
    assert alice.custom_emojis() == []


# ------------------------------------------------------------------ OAuth code + PKCE


class _FormInputs(HTMLParser):
    """Inputs and buttons of the form posting to /oauth/authorize."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.in_form = a.get("action", "").startswith("/oauth/authorize")
        elif self.in_form and tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif self.in_form and tag == "button" and a.get("name"):
            self.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


REDIRECT = "http://127.0.0.1:9/callback"


def _register(http: httpx.Client) -> dict[str, Any]:
    r = http.post("/api/v1/apps", data={"client_name": "pkce app", "redirect_uris": REDIRECT,
                                        "scopes": "read write follow"})
    assert r.status_code == 200, r.text
    return r.json()


def _authorize(http: httpx.Client, app: dict[str, Any], challenge: str) -> str:
    r = http.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "read write", "state": "st4te", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert r.status_code == 200, r.text
    form = _FormInputs()
    form.feed(r.text)
    assert form.fields.get("csrf_token")
    assert ("decision", "approve") in form.buttons and ("decision", "deny") in form.buttons
    r = http.post("/oauth/authorize", data={**form.fields, "decision": "approve"})
    assert r.status_code in (302, 303), r.text
    loc = urlsplit(r.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    q = parse_qs(loc.query)
    assert q["state"] == ["st4te"]
    return q["code"][0]


def _exchange(http: httpx.Client, app: dict[str, Any], code: str, verifier: str) -> Any:
    return http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "code_verifier": verifier})


def _me(live: Any, token: str) -> Any:
    return httpx.get(f"{live.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {token}"})


def test_oauth_authorization_code_with_pkce(live, uow):
    aid = make_account(uow, "carol")
    with uow() as s:
        web = accounts.start_web_session(s, accounts_q.get_account(s, aid), max_age=3600)
    with httpx.Client(base_url=live.url, cookies={SESSION_COOKIE: web.token},
                      follow_redirects=False) as http:
        app = _register(http)
        verifier, challenge = _pkce()
        code = _authorize(http, app, challenge)

        wrong = _exchange(http, app, code, _pkce()[0])
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

        ok = _exchange(http, app, code, verifier)
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["token_type"] == "Bearer" and body["scope"] == "read write"
        token = body["access_token"]
        assert _me(live, token).json()["username"] == "carol"
        # The library accepts the token obtained by hand.
        lib = _client(live, app["client_id"], app["client_secret"], token)
        assert lib.account_verify_credentials().username == "carol"

        # Replaying the code fails and revokes the token it produced.
        replay = _exchange(http, app, code, verifier)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        r = _me(live, token)
        assert r.status_code == 401 and "error" in r.json()

        # A fresh grant, then revocation at /oauth/revoke.
        verifier2, challenge2 = _pkce()
        token2 = _exchange(http, app, _authorize(http, app, challenge2), verifier2).json()[
            "access_token"]
        assert _me(live, token2).status_code == 200
        rv = http.post("/oauth/revoke", data={"client_id": app["client_id"],
                                              "client_secret": app["client_secret"],
                                              "token": token2})
        assert rv.status_code == 200
        assert _me(live, token2).status_code == 401

        # Denying redirects back with access_denied.
        r = http.get("/oauth/authorize", params={
            "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "read"})
        form = _FormInputs()
        form.feed(r.text)
        r = http.post("/oauth/authorize", data={**form.fields, "decision": "deny"})
        assert r.status_code in (302, 303)
        assert parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["access_denied"]


def test_oauth_unregistered_redirect_uri_is_never_redirected_to(live, uow):
    aid = make_account(uow, "dave")
    with uow() as s:
        web = accounts.start_web_session(s, accounts_q.get_account(s, aid), max_age=3600)
    with httpx.Client(base_url=live.url, cookies={SESSION_COOKIE: web.token},
                      follow_redirects=False) as http:
        app = _register(http)
        _, challenge = _pkce()
        evil = "https://evil.example/steal"
        r = http.get("/oauth/authorize", params={
            "client_id": app["client_id"], "redirect_uri": evil, "response_type": "code",
            "scope": "read", "code_challenge": challenge, "code_challenge_method": "S256"})
        assert r.status_code == 400 and "location" not in r.headers
        # Posting the consent form with a forged redirect_uri is refused as well.
        ok_page = http.get("/oauth/authorize", params={
            "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "read"})
        form = _FormInputs()
        form.feed(ok_page.text)
        r = http.post("/oauth/authorize", data={**form.fields, "redirect_uri": evil,
                                                "decision": "approve"})
        assert r.status_code >= 400 and "location" not in r.headers
        # A code issued for REDIRECT cannot be exchanged with another redirect_uri.
        verifier, challenge = _pkce()
        code = _authorize(http, app, challenge)
        r = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": evil,
            "client_id": app["client_id"], "client_secret": app["client_secret"],
            "code_verifier": verifier})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        # A wrong CSRF token does not issue a code.
        r = http.post("/oauth/authorize", data={**form.fields, "csrf_token": "forged",
                                                "decision": "approve"})
        assert r.status_code == 422 and "location" not in r.headers
