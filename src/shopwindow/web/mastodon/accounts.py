"""Accounts: registration, credentials, profiles, graph actions, relationships."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from shopwindow.accounts import actions as accounts
from shopwindow.accounts.models import Account
from shopwindow.web.deps import AppSettings, DbSession, RequiredAuth, client_ip, user
from shopwindow.web.mastodon.common import Params, as_bool, as_str
from shopwindow.web.mastodon.entities import Serializer

router = APIRouter(tags=["mastodon: accounts"])
ReadAccount = Annotated[Account, Depends(user("read:accounts"))]


@router.post("/api/v1/accounts")
def register(request: Request, session: DbSession, settings: AppSettings, auth: RequiredAuth,
             p: Params) -> dict[str, Any]:
    """Register with an app token; returns a user token (no e-mail confirmation by default)."""
    from shopwindow.core.errors import Forbidden, Invalid

    if not settings.registrations_open:
        raise Forbidden("Registrations are closed", field="base", rule="registrations_closed")
    request.app.state.rate_limits.hit(settings.signup_rate_limit, "signup", client_ip(request))
    if not as_bool(p.get("agreement"), "agreement"):
        raise Invalid("You must agree to the server rules", field="agreement", rule="accepted")
    acct = accounts.register_account(
        session, username=as_str(p.get("username"), "username"),
        email=as_str(p.get("email"), "email"), password=as_str(p.get("password"), "password"),
        locale=as_str(p.get("locale"), "locale", "en") or "en",
        confirmed=not settings.registration_requires_confirmation,
    )
    tok = accounts.token_for_account(session, app_id=auth.app_id, account=acct,
                                     scopes=" ".join(auth.scopes))
    return {"access_token": tok.access_token, "token_type": "Bearer",
            "scope": tok.token.scopes, "created_at": int(tok.token.created_at.timestamp())}


@router.get("/api/v1/accounts/verify_credentials")
def verify_credentials(session: DbSession, settings: AppSettings,
                       me: ReadAccount) -> dict[str, Any]:
    return Serializer(session, settings, me.id).account(me, source=True)
