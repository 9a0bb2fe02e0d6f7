"""Account actions on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shopwindow.accounts import actions, queries
from shopwindow.accounts.models import Account, OAuthToken, WebSession
from shopwindow.core.errors import Conflict, Invalid, Unauthorized
from shopwindow.outbox.events import OutboxEvent
from shopwindow.social import actions as social
from shopwindow.social import queries as social_q
from shopwindow.social.models import Follow, Post
from tests.helpers import make_account, token_for


def test_register_stores_argon2_hash_and_event(uow, session):
    aid = make_account(uow, "Alice")
    a = session.get(Account, aid)
    assert a.username == "Alice" and a.username_key == "alice"
    assert a.password_hash.startswith("$argon2id$") and "correct horse" not in a.password_hash
    ev = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "account.registered")).all()
    assert [e.payload["account_id"] for e in ev] == [aid]


def test_duplicate_username_and_email_case_insensitive(uow, session):
    make_account(uow, "alice")
    with uow() as s, pytest.raises(Conflict) as e:
        actions.register_account(s, username="ALICE", email="other@example.com",
                                  password="long password")
    assert e.value.field == "username"
    with uow() as s, pytest.raises(Conflict) as e:
        actions.register_account(s, username="alice2", email="Alice@Example.com",
                                  password="long password")
    assert e.value.field == "email"
    assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_bad_input_leaves_nothing(uow, session):
    with uow() as s, pytest.raises(Invalid):
        actions.register_account(s, username="ok_name", email="ok@example.com", password="short")
    assert session.scalar(select(func.count()).select_from(Account)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_authenticate_by_username_or_email(uow):
    make_account(uow, "alice")
    with uow() as s:
        assert actions.authenticate(s, "ALICE", "correct horse battery").username == "alice"
        assert actions.authenticate(s, "alice@example.com", "correct horse battery")
    with uow() as s, pytest.raises(Unauthorized):
        actions.authenticate(s, "alice", "wrong password")
    with uow() as s, pytest.raises(Unauthorized):
        actions.authenticate(s, "nobody", "whatever pw")


def test_web_session_roundtrip_and_sign_out(uow, session):
    aid = make_account(uow, "alice")
    with uow() as s:
        ws = actions.start_web_session(s, queries.get_account(s, aid), max_age=60)
    found = queries.account_for_web_session(session, ws.token)
    assert found is not None and found[0].id == aid
    stored = session.scalars(select(WebSession)).one()
    assert stored.token_hash != ws.token  # only the hash is stored
    with uow() as s:
        actions.end_web_session(s, ws.token)
    assert queries.account_for_web_session(session, ws.token) is None


def test_change_password_revokes_tokens(uow, session):
    aid = make_account(uow, "alice")
    raw = token_for(uow, aid)
    assert queries.token_lookup(session, raw) is not None
    with uow() as s, pytest.raises(Invalid):
        actions.change_password(s, queries.get_account(s, aid), "wrong", "new password 1")
    with uow() as s:
        actions.change_password(s, queries.get_account(s, aid), "correct horse battery",
                                "new password 1")
    session.expire_all()
    assert queries.token_lookup(session, raw) is None
    with uow() as s:
        assert actions.authenticate(s, "alice", "new password 1").id == aid


def test_delete_account_purges_content_and_credentials(uow, session):
    a, b = make_account(uow, "alice"), make_account(uow, "bob")
    raw = token_for(uow, a)
    with uow() as s:
        social.follow(s, a, b)
        social.follow(s, b, a)
        pid = social.create_post(s, a, text="bye").id
        social.favourite(s, b, pid)
    with uow() as s, pytest.raises(Invalid):
        actions.delete_account(s, queries.get_account(s, a), "wrong password")
    with uow() as s:
        actions.delete_account(s, queries.get_account(s, a), "correct horse battery")
    session.expire_all()
    acct = session.get(Account, a)
    assert acct.deleted_at is not None and acct.email.endswith("@invalid")
    assert queries.token_lookup(session, raw) is None
    assert session.get(Post, pid).deleted_at is not None
    assert session.scalar(select(func.count()).select_from(Follow)) == 0
    st = social_q.stats(session, [b])[b]
    assert st.followers_count == 0 and st.following_count == 0
    with uow() as s, pytest.raises(Unauthorized):
        actions.authenticate(s, "alice", "correct horse battery")


def test_oauth_code_is_single_use_and_pkce_checked(uow, session):
    import base64
    import hashlib

    aid = make_account(uow, "alice")
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    with uow() as s:
        app = actions.create_app(s, name="client", redirect_uris="https://app.example/cb",
                                 scopes="read write").app
        code = actions.issue_code(s, app=app, account=queries.get_account(s, aid),
                                  redirect_uri="https://app.example/cb", scopes=["read"],
                                  code_challenge=challenge, code_challenge_method="S256")
    with uow() as s, pytest.raises(Invalid) as e:
        actions.exchange_code(s, app=queries.get_app(s, app.id), code=code,
                              redirect_uri="https://app.example/cb", code_verifier="w" * 50)
    assert e.value.rule == "invalid_grant"
    with uow() as s:
        tok = actions.exchange_code(s, app=queries.get_app(s, app.id), code=code,
                                    redirect_uri="https://app.example/cb", code_verifier=verifier)
        raw = tok.access_token
    assert queries.token_lookup(session, raw).scopes == "read"
    with uow() as s, pytest.raises(Invalid):
        actions.exchange_code(s, app=queries.get_app(s, app.id), code=code,
                              redirect_uri="https://app.example/cb", code_verifier=verifier)
    session.expire_all()
    assert queries.token_lookup(session, raw) is None  # replayed code revokes its token


def test_issue_code_refuses_unregistered_redirect_and_wide_scope(uow):
    aid = make_account(uow, "alice")
    with uow() as s:
        app = actions.create_app(s, name="client", redirect_uris="https://app.example/cb",
                                 scopes="read").app
    with uow() as s, pytest.raises(Invalid) as e:
        actions.issue_code(s, app=app, account=queries.get_account(s, aid),
                           redirect_uri="https://evil.example/cb", scopes=["read"],
                           code_challenge=None, code_challenge_method=None)
    assert e.value.field == "redirect_uri"
    with uow() as s, pytest.raises(Invalid) as e:
        actions.issue_code(s, app=app, account=queries.get_account(s, aid),
                           redirect_uri="https://app.example/cb", scopes=["write"],
                           code_challenge=None, code_challenge_method=None)
    assert e.value.field == "scope"


def test_app_rejects_dangerous_redirect_uris(uow):
    for bad in ("javascript:alert(1)", "https://x.example/cb#frag", "not a uri", ""):
        with uow() as s, pytest.raises(Invalid) as e:
            actions.create_app(s, name="c", redirect_uris=bad)
        assert e.value.field == "redirect_uris"


def test_token_hash_only(uow, session):
    aid = make_account(uow, "alice")
    raw = token_for(uow, aid)
    rows = session.scalars(select(OAuthToken)).all()
    assert rows and all(r.token_hash != raw and len(r.token_hash) == 64 for r in rows)
