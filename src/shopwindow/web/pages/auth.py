"""Sign up, sign in, sign out, and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from shopwindow.accounts import actions as accounts
from shopwindow.core.errors import DomainError, NotFound
from shopwindow.web.deps import SESSION_COOKIE, AppSettings, DbSession, OptionalAuth, client_ip
from shopwindow.web.pages.common import (
    CSRF_MESSAGE,
    PageRoute,
    csrf_ok,
    form_errors,
    redirect,
    require_csrf,
    safe_next,
    set_session_cookie,
    viewer,
)
from shopwindow.web.pages.messages import N_
from shopwindow.web.templating import LOCALE_COOKIE, normalise_locale, render, request_locale

router = APIRouter(route_class=PageRoute)

REGISTRATIONS_CLOSED = N_("Registrations are closed on this server.")
SIGN_IN_FIELDS = ("login", "password")
SIGN_UP_FIELDS = ("username", "email", "password", "display_name")


@router.get("/auth/sign_in")
def sign_in_page(request: Request, auth: OptionalAuth, next: str = "/") -> Response:
    if viewer(auth) is not None:
        return redirect(safe_next(next))
    return render(request, "auth/sign_in.html", next=safe_next(next), form={}, errors={})


@router.post("/auth/sign_in")
def sign_in(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials, start a cookie session, go back to `next` (local paths only)."""
    nxt = safe_next(next)
    form = {"login": login}
    if not csrf_ok(request, auth, csrf_token):
        return render(request, "auth/sign_in.html", status=403, next=nxt, form=form,
                      errors={"base": CSRF_MESSAGE})
    try:
        request.app.state.rate_limits.hit(settings.signin_rate_limit, "signin",
                                          client_ip(request))
        acct = accounts.authenticate(session, login, password)
    except DomainError as exc:
        status = 429 if exc.status == 429 else 422
        return render(request, "auth/sign_in.html", status=status, next=nxt, form=form,
                      errors=form_errors(exc, SIGN_IN_FIELDS))
    ws = accounts.start_web_session(session, acct, max_age=settings.session_max_age,
                                    user_agent=request.headers.get("user-agent", ""))
    response = redirect(nxt)
    set_session_cookie(response, ws.token, settings)
    return response


@router.get("/auth/sign_up")
def sign_up_page(request: Request, settings: AppSettings, auth: OptionalAuth,
                 next: str = "/") -> Response:
    if viewer(auth) is not None:
        return redirect(safe_next(next))
    if not settings.registrations_open:
        return render(request, "auth/sign_up.html", status=403, next=safe_next(next), form={},
                      errors={"base": REGISTRATIONS_CLOSED}, closed=True)
    return render(request, "auth/sign_up.html", next=safe_next(next), form={}, errors={})


@router.post("/auth/sign_up")
def sign_up(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    username: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Register and sign in; errors are shown next to their fields."""
    nxt = safe_next(next)
    form = {"username": username, "email": email, "display_name": display_name}
    if not csrf_ok(request, auth, csrf_token):
        return render(request, "auth/sign_up.html", status=403, next=nxt, form=form,
                      errors={"base": CSRF_MESSAGE})
    if not settings.registrations_open:
        return render(request, "auth/sign_up.html", status=403, next=nxt, form=form,
                      errors={"base": REGISTRATIONS_CLOSED}, closed=True)
    try:
        request.app.state.rate_limits.hit(settings.signup_rate_limit, "signup",
                                          client_ip(request))
        acct = accounts.register_account(
            session, username=username.strip(), email=email.strip(), password=password,
            display_name=display_name.strip(), locale=request_locale(request),
            confirmed=not settings.registration_requires_confirmation,
        )
    except DomainError as exc:
        status = 429 if exc.status == 429 else 422
        return render(request, "auth/sign_up.html", status=status, next=nxt, form=form,
                      errors=form_errors(exc, SIGN_UP_FIELDS))
    ws = accounts.start_web_session(session, acct, max_age=settings.session_max_age,
                                    user_agent=request.headers.get("user-agent", ""))
    # New accounts pick their interests first (cold start of the recommendations).
    response = redirect("/onboarding/interests?" + urlencode({"next": nxt}))
    set_session_cookie(response, ws.token, settings)
    return response


@router.post("/auth/sign_out")
def sign_out(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    auth: OptionalAuth,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """End the browser session (POST with the session's CSRF token)."""
    if viewer(auth) is None:
        response = redirect("/")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    require_csrf(request, auth, csrf_token)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_web_session(session, token)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)
    return response


@router.get("/locale/{tag}")
def switch_locale(request: Request, settings: AppSettings, tag: str, next: str = "/") -> Response:
    """Remember the chosen language in a cookie and go back to where the user was."""
    loc = normalise_locale(tag)
    if loc is None:
        raise NotFound("Unknown language", field="locale", rule="supported")
    response = redirect(safe_next(next))
    response.set_cookie(LOCALE_COOKIE, loc, max_age=365 * 24 * 3600, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    return response
