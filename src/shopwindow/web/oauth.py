"""OAuth 2: authorize (code + PKCE), token (authorization_code, client_credentials), revoke.

Mastodon-compatible paths (/oauth/authorize, /oauth/token, /oauth/revoke); the consent page
is server-rendered and protected by the session cookie and a CSRF token.
"""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts import rules
from shopwindow.core.errors import DomainError, Invalid, Unauthorized
from shopwindow.web.deps import DbSession, OptionalAuth
from shopwindow.web.templating import render

router = APIRouter(tags=["oauth"])
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    # RFC 6749 §5.2 error shape (what OAuth client libraries parse).
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/oauth/authorize", response_class=HTMLResponse)
def authorize_page(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    client_id: str = "",
    redirect_uri: str = "",
    response_type: str = "code",
    scope: str = "read",
    state: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
    force_login: bool = False,
) -> Response:
    """Consent screen; signs the user in first if needed."""
    # NUL cannot be stored or looked up in PostgreSQL text: no client can have it.
    app = None if "\x00" in client_id else accounts_q.app_by_client_id(session, client_id)
    if app is None:
        return render(request, "error.html", status=400, status_code=400,
                      detail="Unknown client_id")
    if redirect_uri not in app.redirect_uris:
        # Never redirect to an unregistered URI (open-redirect guard): show the error here.
        return render(request, "error.html", status=400, status_code=400,
                      detail="redirect_uri is not registered for this application")
    if response_type != "code":
        return _redirect_error(redirect_uri, "unsupported_response_type", state)
    try:
        scopes = rules.parse_scopes(scope)
    except Invalid:
        return _redirect_error(redirect_uri, "invalid_scope", state)
    if not rules.scopes_subset(scopes, app.scopes.split()):
        return _redirect_error(redirect_uri, "invalid_scope", state)
    if code_challenge is not None and code_challenge_method != "S256":
        return _redirect_error(redirect_uri, "invalid_request", state)
    if auth is None or auth.via != "cookie" or auth.account is None:
        return RedirectResponse("/auth/sign_in?" + urlencode({"next": str(request.url.path) + "?"
                                                              + request.url.query}), 303)
    return render(request, "oauth_authorize.html", app=app, scopes=scopes,
                  account=auth.account, csrf_token=auth.csrf_token,
                  params={"client_id": client_id, "redirect_uri": redirect_uri,
                          "scope": " ".join(scopes), "state": state or "",
                          "code_challenge": code_challenge or "",
                          "code_challenge_method": code_challenge_method or ""})


def _redirect_error(redirect_uri: str, error: str, state: str | None) -> Response:
    q = {"error": error}
    if state:
        q["state"] = state
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + sep + urlencode(q), 302)


@router.post("/oauth/authorize")
def authorize_decide(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    client_id: Annotated[str, Form()],
    redirect_uri: Annotated[str, Form()],
    scope: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    decision: Annotated[str, Form()] = "deny",
    state: Annotated[str, Form()] = "",
    code_challenge: Annotated[str, Form()] = "",
    code_challenge_method: Annotated[str, Form()] = "",
) -> Response:
    """The user's approve/deny on the consent screen."""
    if auth is None or auth.via != "cookie" or auth.account is None:
        raise Unauthorized("Sign in first", field="session", rule="required")
    import hmac

    if not auth.csrf_token or not hmac.compare_digest(auth.csrf_token, csrf_token):
        raise Invalid("The form expired; reload the page", field="csrf_token", rule="csrf")
    app = None if "\x00" in client_id else accounts_q.app_by_client_id(session, client_id)
    if app is None or redirect_uri not in app.redirect_uris:
        raise Invalid("Unknown client or redirect_uri", field="redirect_uri",
                      rule="registered_redirect_uri")
    if decision != "approve":
        return _redirect_error(redirect_uri, "access_denied", state or None)
    code = accounts.issue_code(
        session, app=app, account=auth.account, redirect_uri=redirect_uri,
        scopes=rules.parse_scopes(scope), code_challenge=code_challenge or None,
        code_challenge_method=code_challenge_method or None,
    )
    if redirect_uri == OOB:
        return render(request, "oauth_code.html", code=code)
    q = {"code": code}
    if state:
        q["state"] = state
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + sep + urlencode(q), 303)


def _client_from_basic(request: Request) -> tuple[str | None, str | None]:
    h = request.headers.get("authorization", "")
    if h.lower().startswith("basic "):
        try:
            raw = base64.b64decode(h[6:]).decode()
            cid, _, secret = raw.partition(":")
            from urllib.parse import unquote

            cid, secret = unquote(cid), unquote(secret)
            if "\x00" in cid or "\x00" in secret:
                return None, None
            return cid, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return None, None


async def _params(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    out: dict[str, str] = dict(request.query_params)
    if ctype.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if isinstance(body, dict):
            out.update({k: str(v) for k, v in body.items() if v is not None})
    else:
        form = await request.form()
        out.update({k: v for k, v in form.items() if isinstance(v, str)})
    return out


def _has_nul(p: dict[str, str]) -> bool:
    return any("\x00" in k or "\x00" in v for k, v in p.items())


@router.post("/oauth/token")
async def token(request: Request) -> Response:
    """Token endpoint (form or JSON body; client auth in body or HTTP Basic)."""
    p = await _params(request)
    if _has_nul(p):
        return _oauth_error("invalid_request", "Parameters must not contain NUL characters")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_token_sync, request, p)


def _token_sync(request: Request, p: dict[str, str]) -> Response:
    from shopwindow.db.uow import unit_of_work

    bid, bsecret = _client_from_basic(request)
    client_id = p.get("client_id") or bid or ""
    client_secret = p.get("client_secret") or bsecret
    grant = p.get("grant_type", "")
    with unit_of_work(request.app.state.db) as s:
        try:
            app = accounts.client_app(s, client_id, client_secret)
        except Unauthorized:
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        try:
            if grant == "authorization_code":
                new = accounts.exchange_code(s, app=app, code=p.get("code", ""),
                                             redirect_uri=p.get("redirect_uri", ""),
                                             code_verifier=p.get("code_verifier"))
            elif grant == "client_credentials":
                new = accounts.client_credentials_token(s, app=app, scopes=p.get("scope"))
            else:
                return _oauth_error("unsupported_grant_type",
                                    "Supported: authorization_code, client_credentials")
        except DomainError as exc:
            # Returned, not raised, inside the unit of work: a rejected grant must still
            # commit what the action did on purpose (a replayed code revokes the tokens
            # issued from it, RFC 6749 §4.1.2); the actions write nothing else before
            # refusing.
            err = exc.rule if exc.rule in ("invalid_grant", "invalid_scope") \
                else "invalid_request"
            return _oauth_error(err, exc.detail)
        body = {"access_token": new.access_token, "token_type": "Bearer",
                "scope": new.token.scopes,
                "created_at": int(new.token.created_at.timestamp())}
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post("/oauth/revoke")
async def revoke(request: Request) -> Response:
    """RFC 7009 revocation: 200 even for unknown tokens."""
    p = await _params(request)
    if _has_nul(p):
        return _oauth_error("invalid_request", "Parameters must not contain NUL characters")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_revoke_sync, request, p)


def _revoke_sync(request: Request, p: dict[str, str]) -> Response:
    from shopwindow.db.uow import unit_of_work

    bid, bsecret = _client_from_basic(request)
    with unit_of_work(request.app.state.db) as s:
        try:
            app = accounts.client_app(s, p.get("client_id") or bid or "",
                                      p.get("client_secret") or bsecret)
        except Unauthorized:
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        accounts.revoke_token(s, app=app, token=p.get("token", ""))
    return JSONResponse({})
