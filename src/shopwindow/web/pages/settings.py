"""Settings: profile (with avatar and header), password, app tokens, account deletion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from shopwindow.accounts import actions as accounts
from shopwindow.accounts import queries as accounts_q
from shopwindow.accounts.models import Account
from shopwindow.config import Settings
from shopwindow.core.errors import DomainError, Forbidden, NotFound
from shopwindow.media import actions as media
from shopwindow.web.deps import SESSION_COOKIE, AppSettings, DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    CSRF_MESSAGE,
    PageRoute,
    csrf_ok,
    discard,
    form_errors,
    page,
    redirect,
    require_csrf,
    require_viewer,
)
from shopwindow.web.templating import LOCALE_COOKIE, normalise_locale

router = APIRouter(route_class=PageRoute)

PROFILE_FIELDS = ("display_name", "bio", "region", "languages", "locale", "default_visibility",
                  "avatar", "header")
PASSWORD_FIELDS = ("current_password", "new_password")
DELETE_FIELDS = ("delete_password",)


def _profile_form(me: Account) -> dict[str, Any]:
    return {"display_name": me.display_name, "bio": me.bio, "region": me.region,
            "languages": " ".join(me.languages or []), "locale": me.locale,
            "default_visibility": me.default_visibility}


def _settings_page(request: Request, session: Session, me: Account, status: int = 200,
                   **ctx: Any) -> Response:
    ctx.setdefault("profile_form", _profile_form(me))
    ctx.setdefault("errors", {})
    return page(request, session, "settings.html", status=status,
                tokens=accounts_q.list_tokens(session, me.id), **ctx)


@router.get("/settings")
def settings_page(request: Request, session: DbSession, auth: OptionalAuth,
                  saved: str | None = None) -> Response:
    me = require_viewer(auth)
    return _settings_page(request, session, me, saved=saved)


def _read(f: UploadFile | str | None, settings: Settings) -> bytes | None:
    # An empty file input arrives as "" (filename=""): no new image.
    if not isinstance(f, StarletteUpload) or not f.filename:
        return None
    return f.file.read(settings.max_upload_bytes + 1)


@router.post("/settings/profile")
def save_profile(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    csrf_token: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    bio: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    languages: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
    default_visibility: Annotated[str, Form()] = "",
    avatar: Annotated[UploadFile | str | None, File()] = None,
    header: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    """Save the profile form; the chosen locale also becomes the page language."""
    me = require_viewer(auth)
    form = {"display_name": display_name, "bio": bio, "region": region,
            "languages": languages, "locale": locale, "default_visibility": default_visibility}
    if not csrf_ok(request, auth, csrf_token):
        return _settings_page(request, session, me, 403, profile_form=form,
                              errors={"base": CSRF_MESSAGE})
    langs = [x.strip() for x in languages.replace(",", " ").split() if x.strip()]
    try:
        changes: dict[str, Any] = {
            "display_name": display_name.strip(), "bio": bio.replace("\r\n", "\n"),
            "region": region.strip(), "languages": langs,
            "locale": locale or me.locale, "default_visibility": default_visibility or None,
        }
        for kind, upload in (("avatar", avatar), ("header", header)):
            raw = _read(upload, settings)
            if raw is not None:
                changes[f"{kind}_key"] = media.store_profile_image(
                    session, account_id=me.id, raw=raw, kind=kind,
                    max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels,
                    replaces=getattr(me, f"{kind}_key"))
        accounts.update_profile(session, me, **changes)
    except DomainError as exc:
        discard(session)
        return _settings_page(request, session, me, 422, profile_form=form,
                              errors=form_errors(exc, PROFILE_FIELDS, {"note": "bio"}))
    response = redirect("/settings?saved=profile")
    loc = normalise_locale(me.locale)
    if loc:
        response.set_cookie(LOCALE_COOKIE, loc, max_age=365 * 24 * 3600, httponly=True,
                            samesite="lax", secure=settings.cookie_secure, path="/")
    return response


@router.post("/settings/password")
def change_password(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    csrf_token: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    me = require_viewer(auth)
    if not csrf_ok(request, auth, csrf_token):
        return _settings_page(request, session, me, 403, errors={"password_base": CSRF_MESSAGE})
    try:
        accounts.change_password(session, me, current_password, new_password)
    except DomainError as exc:
        discard(session)
        errs = form_errors(exc, PASSWORD_FIELDS, {"password": "new_password"})
        return _settings_page(request, session, me, 422,
                              errors={("password_base" if k == "base" else k): v
                                      for k, v in errs.items()})
    return redirect("/settings?saved=password")


@router.post("/settings/tokens/{token_id:int}/revoke")
def revoke_token(
    request: Request,
    session: DbSession,
    auth: OptionalAuth,
    token_id: int,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one of the viewer's app tokens (someone else's token is "not found")."""
    me = require_viewer(auth)
    require_csrf(request, auth, csrf_token)
    try:
        accounts.revoke_token_by_id(session, account=me, token_id=token_id)
    except Forbidden as exc:
        raise NotFound("Token not found", field="id", rule="exists") from exc
    return redirect("/settings?saved=tokens")


@router.post("/settings/delete")
def delete_account(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    csrf_token: Annotated[str, Form()] = "",
    delete_password: Annotated[str, Form()] = "",
) -> Response:
    """Delete the account after the password check, then sign out."""
    me = require_viewer(auth)
    if not csrf_ok(request, auth, csrf_token):
        return _settings_page(request, session, me, 403, errors={"delete_base": CSRF_MESSAGE})
    try:
        accounts.delete_account(session, me, delete_password)
    except DomainError as exc:
        discard(session)
        errs = form_errors(exc, DELETE_FIELDS, {"password": "delete_password"})
        return _settings_page(request, session, me, 422,
                              errors={("delete_base" if k == "base" else k): v
                                      for k, v in errs.items()})
    response = redirect("/?deleted=1")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)
    return response
