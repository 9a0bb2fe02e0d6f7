"""POST /api/v1/apps, GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import Unauthorized
from shopwindow.web.deps import DbSession, RequiredAuth
from shopwindow.web.mastodon.common import Params, as_str, as_str_list

router = APIRouter(tags=["mastodon: apps"])


@router.post("/api/v1/apps")
def create_app(session: DbSession, p: Params) -> dict[str, Any]:
    """Register a client application; returns client_id and client_secret once."""
    uris = p.get("redirect_uris")
    new = accounts.create_app(
        session, name=as_str(p.get("client_name"), "client_name"),
        redirect_uris=(as_str_list(uris, "redirect_uris") if isinstance(uris, list)
                       else as_str(uris, "redirect_uris")),
        scopes=as_str(p.get("scopes"), "scopes", "read"),
        website=as_str(p.get("website"), "website") or None)
    return {
        "id": str(new.app.id), "name": new.app.name, "website": new.app.website,
        "scopes": new.app.scopes.split(),
        "redirect_uri": "\n".join(new.app.redirect_uris),
        "redirect_uris": new.app.redirect_uris,
        "client_id": new.app.client_id, "client_secret": new.client_secret,
        "client_secret_expires_at": 0, "vapid_key": "",
    }


@router.get("/api/v1/apps/verify_credentials")
def verify_app(session: DbSession, auth: RequiredAuth) -> dict[str, Any]:
    app = accounts_q.get_app(session, auth.app_id) if auth.app_id else None
    if app is None:
        raise Unauthorized("The access token is invalid", field="authorization",
                           rule="app_token")
    return {"id": str(app.id), "name": app.name, "website": app.website,
            "scopes": app.scopes.split(), "redirect_uris": app.redirect_uris, "vapid_key": ""}
