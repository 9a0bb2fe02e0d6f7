"""Account writes: register, sign in, profile, OAuth apps/codes/tokens, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import rules
from shopwindow.accounts.models import Account, OAuthApp, OAuthCode, OAuthToken, WebSession
from shopwindow.accounts.passwords import hash_password, verify_password
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from shopwindow.core.ids import new_id, new_token
from shopwindow.outbox import emit


def register_account(
    session: Session,
    *,
    username: str,
    email: str,
    password: str,
    role: str = "fan",
    display_name: str = "",
    locale: str = "en",
    languages: list[str] | None = None,
    confirmed: bool = True,
    bio: str = "",
    region: str = "",
) -> Account:
    """Create an account; unique username and e-mail (case-insensitive)."""
    return _create_account(
        session, username=username, email=email, password=password, password_hash=None,
        role=role, display_name=display_name, locale=locale, languages=languages,
        confirmed=confirmed, bio=bio, region=region,
    )


def register_account_prehashed(
    session: Session,
    *,
    username: str,
    email: str,
    password_hash: str,
    role: str = "fan",
    display_name: str = "",
    locale: str = "en",
    languages: list[str] | None = None,
    confirmed: bool = True,
    bio: str = "",
    region: str = "",
) -> Account:
    """Seed-only: like `register_account` with an argon2 hash computed once by the caller.

    The demo gives hundreds of fans one shared password; hashing it once at full cost keeps
    seeding fast without lowering the cost of any stored hash.
    """
    if not password_hash.startswith("$argon2"):
        raise Invalid("Expected an argon2 hash", field="password", rule="argon2_hash")
    return _create_account(
        session, username=username, email=email, password=None, password_hash=password_hash,
        role=role, display_name=display_name, locale=locale, languages=languages,
        confirmed=confirmed, bio=bio, region=region,
    )


def _create_account(
    session: Session,
    *,
    username: str,
    email: str,
    password: str | None,
    password_hash: str | None,
    role: str,
    display_name: str,
    locale: str,
    languages: list[str] | None,
    confirmed: bool,
    bio: str,
    region: str,
) -> Account:
    rules.check_username(username)
    email = rules.check_email(email)
    if password is not None:
        rules.check_password(password)
    rules.check_role(role)
    if len(display_name) > rules.DISPLAY_NAME_MAX:
        raise Invalid("Display name is too long", field="display_name", rule="max_length:60")
    ukey, ekey = username.lower(), email.lower()
    if session.scalar(select(Account.id).where(Account.username_key == ukey)):
        raise Conflict("This username is taken", field="username", rule="unique")
    if session.scalar(select(Account.id).where(Account.email_key == ekey)):
        raise Conflict("This e-mail is already registered", field="email", rule="unique")
    stored_hash = hash_password(password) if password is not None else password_hash
    assert stored_hash is not None
    now = utcnow()
    acct = Account(
        id=new_id(),
        username=username,
        username_key=ukey,
        email=email,
        email_key=ekey,
        password_hash=stored_hash,
        role=role,
        display_name=display_name or username,
        bio=bio,
        region=region,
        languages=languages or [locale.split("-")[0]],
        locale=locale,
        created_at=now,
        confirmed_at=now if confirmed else None,
        settings={},
    )
    session.add(acct)
    session.flush()
    emit(session, "account.registered", account_id=acct.id, role=role)
    return acct


def authenticate(session: Session, login: str, password: str) -> Account:
    """Check username-or-email + password; one generic error for every failure."""
    key = (login or "").strip().lower()
    acct = session.scalar(
        select(Account).where(
            (Account.username_key == key) | (Account.email_key == key),
            Account.deleted_at.is_(None),
        )
    )
    if not verify_password(acct.password_hash if acct else None, password or ""):
        raise Unauthorized("Wrong username/e-mail or password", field="password",
                           rule="credentials")
    assert acct is not None
    return acct


@dataclass(frozen=True, slots=True)
class NewWebSession:
    token: str
    csrf_token: str
    account_id: int


def start_web_session(
    session: Session, account: Account, *, max_age: int, user_agent: str = ""
) -> NewWebSession:
    """Create a cookie session; returns the raw token (only its hash is stored)."""
    token, csrf = new_token(), new_token(24)
    now = utcnow()
    session.add(
        WebSession(
            id=new_id(),
            token_hash=rules.hash_token(token),
            account_id=account.id,
            csrf_token=csrf,
            user_agent=user_agent[:300],
            created_at=now,
            expires_at=now + timedelta(seconds=max_age),
        )
    )
    session.flush()
    return NewWebSession(token, csrf, account.id)


def end_web_session(session: Session, token: str) -> None:
    """Sign out: delete the session row."""
    ws = session.scalar(select(WebSession).where(WebSession.token_hash == rules.hash_token(token)))
    if ws is not None:
        session.delete(ws)
        session.flush()


PROFILE_FIELDS = ("display_name", "bio", "region", "languages", "locale", "locked", "bot",
                  "discoverable", "default_visibility", "avatar_key", "header_key")


def update_profile(session: Session, account: Account, **changes: Any) -> Account:
    """Update profile fields; validates each and emits account.updated."""
    for k, v in changes.items():
        if k not in PROFILE_FIELDS:
            raise Invalid(f"Unknown profile field {k}", field=k, rule="unknown_field")
        if v is None:
            continue
        if k == "display_name" and len(v) > rules.DISPLAY_NAME_MAX:
            raise Invalid("Display name is too long", field=k, rule="max_length:60")
        if k == "bio" and len(v) > rules.BIO_MAX:
            raise Invalid(f"Bio is longer than {rules.BIO_MAX} characters", field="note",
                          rule=f"max_length:{rules.BIO_MAX}")
        if k == "region" and len(v) > 40:
            raise Invalid("Region is too long", field=k, rule="max_length:40")
        if k == "locale" and v not in ("en", "zh-CN", "zh"):
            raise Invalid("Locale must be en or zh-CN", field=k, rule="enum")
        if k == "default_visibility" and v not in ("public", "private", "unlisted"):
            raise Invalid("Visibility must be public, unlisted or private", field=k, rule="enum")
        if k == "languages" and (not isinstance(v, list) or len(v) > 10 or any(
                not isinstance(x, str) or not (2 <= len(x) <= 8) for x in v)):
            raise Invalid("Languages must be a list of up to 10 language codes", field=k,
                          rule="language_codes")
        setattr(account, k, v)
    session.flush()
    emit(session, "account.updated", account_id=account.id)
    return account


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    """Change the password after checking the current one; ends other sessions."""
    if not verify_password(account.password_hash, current):
        raise Invalid("Current password is wrong", field="current_password", rule="credentials")
    rules.check_password(new)
    account.password_hash = hash_password(new)
    session.execute(
        update(OAuthToken).where(OAuthToken.account_id == account.id).values(revoked_at=utcnow())
    )
    session.flush()
    emit(session, "account.token_revoked", account_id=account.id)


def delete_account(session: Session, account: Account, password: str) -> None:
    """Delete: revoke credentials, anonymise, mark deleted; content is purged by a job."""
    if not verify_password(account.password_hash, password):
        raise Invalid("Password is wrong", field="password", rule="credentials")
    now = utcnow()
    session.execute(
        update(OAuthToken).where(OAuthToken.account_id == account.id).values(revoked_at=now)
    )
    for ws in session.scalars(select(WebSession).where(WebSession.account_id == account.id)):
        session.delete(ws)
    account.deleted_at = now
    account.email = f"deleted-{account.id}@invalid"
    account.email_key = account.email
    account.password_hash = "!"
    account.display_name = ""
    account.bio = ""
    account.avatar_key = None
    account.header_key = None
    session.flush()
    emit(session, "account.deleted", account_id=account.id)


# ---------------------------------------------------------------- OAuth 2


@dataclass(frozen=True, slots=True)
class NewApp:
    app: OAuthApp
    client_secret: str


def create_app(
    session: Session,
    *,
    name: str,
    redirect_uris: str | list[str],
    scopes: str | None = "read",
    website: str | None = None,
    owner_id: int | None = None,
) -> NewApp:
    """Register an OAuth client; the client secret is returned once and stored hashed."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("Application name is required (max 100 characters)",
                      field="client_name", rule="required")
    uris = redirect_uris.split() if isinstance(redirect_uris, str) else list(redirect_uris)
    if not uris:
        raise Invalid("At least one redirect URI is required", field="redirect_uris",
                      rule="required")
    for u in uris:
        if u != "urn:ietf:wg:oauth:2.0:oob" and not _valid_redirect(u):
            raise Invalid(f"Redirect URI {u!r} is not an absolute URI without fragment",
                          field="redirect_uris", rule="absolute_uri")
    scope_list = rules.parse_scopes(scopes)
    secret = new_token()
    app = OAuthApp(
        id=new_id(),
        name=name,
        website=website or None,
        client_id=new_token(24),
        client_secret_hash=rules.hash_token(secret),
        redirect_uris=uris,
        scopes=" ".join(scope_list),
        owner_id=owner_id,
        created_at=utcnow(),
    )
    session.add(app)
    session.flush()
    return NewApp(app, secret)


def _valid_redirect(u: str) -> bool:
    from urllib.parse import urlsplit

    try:
        p = urlsplit(u)
    except ValueError:
        return False
    if not p.scheme or p.scheme in ("javascript", "data", "vbscript") or p.fragment:
        return False
    return p.scheme not in ("http", "https") or bool(p.netloc)


def client_app(session: Session, client_id: str, client_secret: str | None) -> OAuthApp:
    """Authenticate a client (secret required: all our clients are confidential)."""
    app = session.scalar(select(OAuthApp).where(OAuthApp.client_id == (client_id or "")))
    if app is None or client_secret is None or not _eq(
        app.client_secret_hash, rules.hash_token(client_secret)
    ):
        raise Unauthorized("Client authentication failed", field="client_id",
                           rule="invalid_client")
    return app


def _eq(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a, b)


def issue_code(
    session: Session,
    *,
    app: OAuthApp,
    account: Account,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """Create a 10-minute one-time authorization code for an approved request."""
    if not rules.redirect_uri_allowed(redirect_uri, app.redirect_uris):
        raise Invalid("redirect_uri is not registered for this client", field="redirect_uri",
                      rule="registered_redirect_uri")
    if not rules.scopes_subset(scopes, app.scopes.split()):
        raise Invalid("Requested scope exceeds the application's scopes", field="scope",
                      rule="invalid_scope")
    if code_challenge is not None and code_challenge_method != "S256":
        raise Invalid("Only code_challenge_method=S256 is supported",
                      field="code_challenge_method", rule="S256")
    code = new_token()
    now = utcnow()
    session.add(
        OAuthCode(
            id=new_id(),
            code_hash=rules.hash_token(code),
            app_id=app.id,
            account_id=account.id,
            redirect_uri=redirect_uri,
            scopes=" ".join(scopes),
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            created_at=now,
            expires_at=now + timedelta(minutes=10),
        )
    )
    session.flush()
    return code


@dataclass(frozen=True, slots=True)
class NewToken:
    token: OAuthToken
    access_token: str


def _new_token(session: Session, app_id: int | None, account_id: int | None,
               scopes: str) -> NewToken:
    raw = new_token()
    tok = OAuthToken(
        id=new_id(),
        token_hash=rules.hash_token(raw),
        app_id=app_id,
        account_id=account_id,
        scopes=scopes,
        created_at=utcnow(),
    )
    session.add(tok)
    session.flush()
    return NewToken(tok, raw)


def exchange_code(
    session: Session, *, app: OAuthApp, code: str, redirect_uri: str, code_verifier: str | None
) -> NewToken:
    """Authorization-code grant: one use, same redirect URI, PKCE verified if challenged."""
    row = session.scalar(
        select(OAuthCode)
        .where(OAuthCode.code_hash == rules.hash_token(code or ""))
        .with_for_update()
    )
    now = utcnow()
    if row is None or row.app_id != app.id or row.used_at is not None or row.expires_at < now:
        if row is not None and row.used_at is not None:
            # RFC 6749 §4.1.2: a replayed code revokes tokens issued from it.
            session.execute(
                update(OAuthToken)
                .where(OAuthToken.app_id == row.app_id, OAuthToken.account_id == row.account_id,
                       OAuthToken.created_at >= row.used_at)
                .values(revoked_at=now)
            )
            emit(session, "account.token_revoked", account_id=row.account_id)
        raise Invalid("Authorization code is invalid, used or expired", field="code",
                      rule="invalid_grant")
    if row.redirect_uri != redirect_uri:
        raise Invalid("redirect_uri does not match the authorization request",
                      field="redirect_uri", rule="invalid_grant")
    if row.code_challenge is not None and not rules.pkce_verify(
        code_verifier or "", row.code_challenge, row.code_challenge_method
    ):
        raise Invalid("PKCE code_verifier does not match", field="code_verifier",
                      rule="invalid_grant")
    row.used_at = now
    return _new_token(session, app.id, row.account_id, row.scopes)


def client_credentials_token(session: Session, *, app: OAuthApp, scopes: str | None) -> NewToken:
    """Client-credentials grant: an app token with no user."""
    requested = rules.parse_scopes(scopes, default="read")
    if not rules.scopes_subset(requested, app.scopes.split()):
        raise Invalid("Requested scope exceeds the application's scopes", field="scope",
                      rule="invalid_scope")
    return _new_token(session, app.id, None, " ".join(requested))


def token_for_account(session: Session, *, app_id: int | None, account: Account,
                      scopes: str) -> NewToken:
    """Issue a user token directly (registration through an app token)."""
    return _new_token(session, app_id, account.id, scopes)


def revoke_token(session: Session, *, app: OAuthApp, token: str) -> None:
    """RFC 7009: revoke; unknown tokens and other clients' tokens succeed silently."""
    row = session.scalar(select(OAuthToken).where(OAuthToken.token_hash == rules.hash_token(token)))
    if row is not None and row.app_id == app.id and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        emit(session, "account.token_revoked", account_id=row.account_id)


def revoke_token_by_id(session: Session, *, account: Account, token_id: int) -> None:
    """Revoke one of the account's own tokens (settings page)."""
    row = session.get(OAuthToken, token_id)
    if row is None:
        raise NotFound("Token not found")
    if row.account_id != account.id:
        raise Forbidden("Not your token")
    row.revoked_at = utcnow()
    session.flush()
    emit(session, "account.token_revoked", account_id=account.id)
