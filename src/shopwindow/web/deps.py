"""Request dependencies: database session (unit of work), authentication, scopes, limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts import rules as account_rules
from shopwindow.accounts.models import Account
from shopwindow.config import Settings
from shopwindow.core.errors import Forbidden, RateLimited, Unauthorized
from shopwindow.db.engine import Database
from shopwindow.db.uow import run_after_commit

SESSION_COOKIE = "sw_session"


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.db


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request; committed before the response is sent."""
    db: Database = request.app.state.db
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    session = (db.sessions if write else db.read_sessions)()
    try:
        yield session
        if write:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        session.info.pop("after_commit", None)
        raise
    finally:
        session.close()
    if write:
        run_after_commit(session)


DbSession = Annotated[Session, Depends(db_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


@dataclass(slots=True)
class Auth:
    """Who is calling: an account (maybe None for app tokens) and the granted scopes."""

    account: Account | None
    scopes: list[str]
    app_id: int | None = None
    via: str = "token"  # or "cookie"
    csrf_token: str | None = None

    def require(self, scope: str) -> Account:
        if not account_rules.scopes_allow(self.scopes, scope):
            raise Forbidden(f"This action is outside the token's scope ({scope})",
                            field="scope", rule=f"requires:{scope}")
        if self.account is None:
            raise Unauthorized("This method requires an authenticated user",
                               field="authorization", rule="user_token")
        return self.account


def _bearer(request: Request) -> str | None:
    h = request.headers.get("authorization", "")
    if h.lower().startswith("bearer "):
        return h[7:].strip() or None
    return request.query_params.get("access_token") if request.url.path.startswith(
        "/api/v1/streaming") else None


def resolve_auth(request: Request, session: Session) -> Auth | None:
    """Bearer token first, then the session cookie."""
    raw = _bearer(request)
    if raw:
        tok = accounts_q.token_lookup(session, raw)
        if tok is None:
            raise Unauthorized("The access token is invalid", field="authorization",
                               rule="valid_token")
        acct = accounts_q.find_account(session, tok.account_id) if tok.account_id else None
        if tok.account_id and acct is None:
            raise Unauthorized("The access token is invalid", field="authorization",
                               rule="valid_token")
        return Auth(acct, tok.scopes.split(), tok.app_id, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts_q.account_for_web_session(session, cookie)
        if found:
            acct, ws = found
            return Auth(acct, ["read", "write", "follow", "push"], None, "cookie", ws.csrf_token)
    return None


def optional_auth(request: Request, session: DbSession) -> Auth | None:
    auth = resolve_auth(request, session)
    request.state.auth = auth
    return auth


def required_auth(request: Request, session: DbSession) -> Auth:
    auth = resolve_auth(request, session)
    if auth is None:
        raise Unauthorized("The access token is invalid", field="authorization",
                           rule="required")
    request.state.auth = auth
    return auth


OptionalAuth = Annotated[Auth | None, Depends(optional_auth)]
RequiredAuth = Annotated[Auth, Depends(required_auth)]


def user(scope: str) -> Callable[..., Account]:
    """Dependency: an authenticated account whose token carries `scope`."""

    def dep(auth: RequiredAuth) -> Account:
        return auth.require(scope)

    return dep


# ------------------------------------------------------------------ rate limits


class RateLimits:
    """Moving-window limits (memory by default, Redis when configured: shared by workers)."""

    def __init__(self, redis_url: str | None) -> None:
        uri = redis_url if redis_url else "memory://"
        self.storage = storage_from_string(uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    def hit(self, limit: str, *keys: str) -> None:
        item = parse_limit(limit)
        if not self.limiter.hit(item, *keys):
            reset = int(self.limiter.get_window_stats(item, *keys).reset_time)
            raise RateLimited(f"Too many requests; limit is {limit}", field="rate",
                              rule=f"rate_limit:{limit}", errors=[{"field": "rate",
                              "rule": f"rate_limit:{limit}", "message": f"retry after {reset}"}])

    def reset(self) -> None:
        self.storage.reset()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limit(name: str, setting: str) -> Callable[..., None]:
    """Dependency factory: limit by client IP using the named setting."""

    def dep(request: Request) -> None:
        s: Settings = request.app.state.settings
        request.app.state.rate_limits.hit(getattr(s, setting), name, client_ip(request))

    return dep


def form_value(form: Any, key: str, default: str = "") -> str:
    v = form.get(key)
    return v if isinstance(v, str) else default
