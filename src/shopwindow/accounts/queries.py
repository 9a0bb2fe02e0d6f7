"""Account reads."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopwindow.accounts import rules
from shopwindow.accounts.models import Account, OAuthApp, OAuthToken, WebSession
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import NotFound


def get_account(session: Session, account_id: int, *, include_deleted: bool = False) -> Account:
    """Account by id or NotFound."""
    acct = session.get(Account, account_id)
    if acct is None or (acct.deleted_at is not None and not include_deleted):
        raise NotFound("Account not found", field="id", rule="exists")
    return acct


def find_account(session: Session, account_id: int) -> Account | None:
    acct = session.get(Account, account_id)
    return acct if acct is not None and acct.deleted_at is None else None


def get_by_username(session: Session, username: str) -> Account:
    """Account by (case-insensitive) username or NotFound."""
    acct = session.scalar(
        select(Account).where(Account.username_key == (username or "").lower().lstrip("@"),
                              Account.deleted_at.is_(None))
    )
    if acct is None:
        raise NotFound("Account not found", field="acct", rule="exists")
    return acct


def accounts_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Account]:
    """Bulk load (deleted accounts included so old content can still render a name)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(wanted)))}


def ids_by_usernames(session: Session, usernames: Iterable[str]) -> dict[str, int]:
    keys = list({u.lower() for u in usernames})
    if not keys:
        return {}
    rows = session.execute(
        select(Account.username_key, Account.id).where(
            Account.username_key.in_(keys), Account.deleted_at.is_(None)
        )
    )
    return {k: i for k, i in rows}


def account_for_web_session(session: Session, token: str) -> tuple[Account, WebSession] | None:
    """Resolve a session cookie; expired sessions resolve to None."""
    ws = session.scalar(select(WebSession).where(WebSession.token_hash == rules.hash_token(token)))
    if ws is None or ws.expires_at < utcnow():
        return None
    acct = find_account(session, ws.account_id)
    return (acct, ws) if acct else None


def token_lookup(session: Session, raw: str) -> OAuthToken | None:
    """Active token row for a bearer token."""
    tok = session.scalar(select(OAuthToken).where(OAuthToken.token_hash == rules.hash_token(raw)))
    if tok is None or tok.revoked_at is not None:
        return None
    return tok


def get_app(session: Session, app_id: int) -> OAuthApp | None:
    return session.get(OAuthApp, app_id)


def app_by_client_id(session: Session, client_id: str) -> OAuthApp | None:
    return session.scalar(select(OAuthApp).where(OAuthApp.client_id == (client_id or "")))


def list_tokens(session: Session, account_id: int) -> list[tuple[OAuthToken, OAuthApp | None]]:
    """The account's active tokens with their apps (settings page)."""
    toks = list(
        session.scalars(
            select(OAuthToken).where(OAuthToken.account_id == account_id,
                                     OAuthToken.revoked_at.is_(None))
            .order_by(OAuthToken.id.desc())
        )
    )
    return [(t, session.get(OAuthApp, t.app_id) if t.app_id else None) for t in toks]


def search_accounts(session: Session, q: str, limit: int = 20) -> list[Account]:
    """Prefix search on username / display name."""
    q = (q or "").strip().lstrip("@").lower()
    if not q:
        return []
    like = q.replace("%", "").replace("_", r"\_") + "%"
    return list(
        session.scalars(
            select(Account)
            .where(Account.deleted_at.is_(None),
                   (Account.username_key.like(like, escape="\\"))
                   | (Account.display_name.ilike(like, escape="\\")))
            .limit(limit)
        )
    )


def count_accounts(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Account)
                              .where(Account.deleted_at.is_(None))) or 0)
