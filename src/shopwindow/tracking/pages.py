"""Tracking HTML routes: the hand-off (/go, cart checkout), earnings and the operator view."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shopwindow.accounts import queries as accounts_q
from shopwindow.config import Settings
from shopwindow.core.errors import DomainError, Forbidden, NotFound, RuleViolation
from shopwindow.db.engine import Database
from shopwindow.partners import queries as partners_q
from shopwindow.partners import rules as partner_rules
from shopwindow.tracking import actions, handoff, postbacks, queries, rules
from shopwindow.web.deps import SESSION_COOKIE, DbSession, OptionalAuth, form_value
from shopwindow.web.middleware import (
    SECURITY_HEADERS,
    send_internal_error,
)
from shopwindow.web.pages.common import PageRoute, page, require_csrf, require_viewer
from shopwindow.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

FAN_TTL = 30.0

_fans: dict[str, tuple[int | None, float]] = {}


def _fan_id(db: Database, cookie: str | None) -> int | None:
    """The signed-in fan behind a session cookie (cached FAN_TTL seconds)."""
    if not cookie:
        return None
    hit = _fans.get(cookie)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    with db.read_sessions() as s:
        found = accounts_q.account_for_web_session(s, cookie)
        fan = int(found[0].id) if found else None
    if len(_fans) > 100_000:
        _fans.clear()
    _fans[cookie] = (fan, now + FAN_TTL)
    return fan


def _load_target(db: Database, rid: int) -> handoff.Target:
    with db.read_sessions() as s:
        return handoff.targets.load(s, rid)


def _error(request: Request, status: int, code: str) -> Response:
    return render(request, "tracking/handoff_error.html", status=status, code=code)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def go(request: Request) -> StarletteResponse:
    """GET|HEAD /go/{recommendation_id}?s=surface&p=promotion: record the click, 302 to the
    partner with the tracking id (plain Starlette route: the hot path)."""
    raw = request.path_params["recommendation_id"]
    if not raw.isdigit() or len(raw) > 19:
        return _error(request, 404, "not_found")
    rid = int(raw)
    db: Database = request.app.state.db
    target, stale = handoff.targets.peek(rid)
    if stale:
        asyncio.get_running_loop().run_in_executor(None, handoff.targets.refresh_due, db)
    if target is None:
        try:
            target = await run_in_threadpool(_load_target, db, rid)
        except NotFound:
            return _error(request, 404, "not_found")
        except DomainError:
            return _error(request, 409, "off_site")
    if not target.partner_active:
        return _error(request, 410, "suspended")
    headers = request.headers
    fan = None
    if "cookie" in headers:
        cookie = request.cookies.get(SESSION_COOKIE)
        fan = await run_in_threadpool(_fan_id, db, cookie) if cookie else None
    surface, promo = _query(request.scope.get("query_string", b""))
    settings: Settings = request.app.state.settings
    row = actions.click_row(
        items=[actions.ClickItem(target.external_product_id, target.recommendation_id,
                                 target.creator_id, target.product_id)],
        partner_id=target.partner_id, surface=surface, fan_id=fan,
        promotion_id=int(promo) if promo.isdigit() and len(promo) < 19 else None,
        user_agent=headers.get("user-agent", ""),
        ip_hash=rules.ip_hash(settings.secret_key, _client_ip(request)),
        method=request.method)
    try:
        url = handoff.tracked_url(target, row["token"])
    except RuleViolation:
        return _error(request, 409, "off_site")
    await request.app.state.click_writer.submit_async(row)
    return _Redirect(url)


def _query(raw: bytes) -> tuple[str, str]:
    """(s, p) of the hand-off's query string; Starlette's QueryParams parses (and
    percent-decodes) every pair, a measurable share of the hand-off."""
    if not raw:
        return "", ""
    if b"%" in raw or b"+" in raw:
        pairs = parse_qsl(raw.decode("latin-1"))
    else:
        pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "")  # type: ignore[misc]
                 for p in raw.decode("latin-1").split("&")]
    found = dict(pairs)
    return found.get("s", ""), found.get("p", "")


_REDIRECT_HEADERS = [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer"),
                     (b"content-length", b"0")]
_REDIRECT_HEADERS += [(k, v) for k, v in SECURITY_HEADERS
                      if k not in {h for h, _ in _REDIRECT_HEADERS}]


class _Redirect(StarletteResponse):
    """The hand-off's 302: two ASGI messages, no header normalisation; it carries the
    security headers itself (the front door answers it outside the middleware)."""

    def __init__(self, url: str) -> None:
        self.status_code = 302
        self.background = None
        self.body = b""
        self.raw_headers = [(b"location", url.encode("latin-1")), *_REDIRECT_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 302,
                    "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b""})


async def front_door(app: Any, scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer the two hottest requests before the app's middleware stack (the app calls
    this first for every HTTP request); False: not handled, serve it normally.

    * a successful GET/HEAD /go/{id}: the 302 carries the same security headers; anything
      else (404, 409, 410, an error) returns False and is served again through the full
      stack, which renders the page — `go` records nothing before it decides to redirect;
    * POST /partners/{slug}/postbacks: every answer gets the security headers here; an
      unexpected error is a 500 problem (the partner retries; the body is consumed, so it
      cannot be served again).

    Why: the seven ASGI layers in front of `FastPaths` (FastAPI's error, telemetry and
    body-limit middleware, the security headers' send wrapper, the other fast paths) cost
    about a seventh of the process's GIL time per hand-off.
    """
    path: str = scope["path"]
    method: str = scope["method"]
    if path.startswith("/go/") and method in ("GET", "HEAD"):
        rid = path[4:]
        if not rid or "/" in rid:
            return False
        scope["app"] = app
        scope["path_params"] = {"recommendation_id": rid}
        try:
            response = await go(Request(scope, receive))
        except Exception:
            log.exception("hand-off failed in the front door; serving it through the app")
            return False
        if not isinstance(response, _Redirect):
            return False
        await response(scope, receive, send)
        return True
    if method == "POST" and path.startswith("/partners/") and path.endswith("/postbacks"):
        slug = path[len("/partners/"):-len("/postbacks")]
        if not slug or "/" in slug:
            return False
        try:
            await postbacks.serve(app, scope, receive, send, slug)
        except Exception:
            log.exception("postback for %s failed", slug)
            await send_internal_error(scope, send)
        return True
    return False


class FastPaths:
    """Pure ASGI front: /go/{id} skips the app's router (FastAPI matches a request against
    every route in turn; at this app's size that costs more than the hand-off itself).
    The front door answers successful hand-offs before the middleware; what reaches this
    layer is a hand-off that is not a 302 (an error page)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/go/") and scope["method"] in ("GET", "HEAD"):
                rid = path[4:]
                if rid and "/" not in rid:
                    scope["path_params"] = {"recommendation_id": rid}
                    response = await go(Request(scope, receive))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Mount the hand-off and postback routes (click writer, postback ingester) on the app."""
    app.state.click_writer = handoff.ClickWriter(app.state.db)
    app.state.postback_ingester = postbacks.PostbackIngester(app.state.db, app.state.settings)
    # Also as ordinary routes (documentation, and apps built without the middleware).
    app.add_route("/go/{recommendation_id}", go, methods=["GET", "HEAD"],
                  include_in_schema=False)
    app.add_route("/partners/{slug}/postbacks", postbacks.receive, methods=["POST"],
                  include_in_schema=False)
    if not any(m.cls is FastPaths for m in app.user_middleware):
        app.user_middleware.append(Middleware(FastPaths))


# ------------------------------------------------------------------ cart checkout


def cart_url(partner: Any, items: list[tuple[str, int]], first_url: str) -> str:
    """The partner's cart-add URL for several items when it publishes a template
    (`cart_url_template` with {items} → id:qty,…), else the first item's product page."""
    template = getattr(partner, "cart_url_template", None)
    if template and items:
        return str(template).replace("{items}", ",".join(f"{i}:{q}" for i, q in items))
    return first_url


@router.post("/cart/checkout/{partner_id}")
async def checkout(partner_id: str, request: Request, session: DbSession,
                   auth: OptionalAuth) -> Response:
    """Hand the fan's cart items of one partner off in one tracked hand-off."""
    me = require_viewer(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    if not partner_id.isdigit() or len(partner_id) > 19:
        raise NotFound("Partner not found", field="partner_id", rule="exists")
    pid = int(partner_id)
    partner = partners_q.require_active(session, pid)
    entries = handoff.lookup_cart(session, me.id).get(pid, [])
    if not entries:
        raise NotFound("Your cart has nothing from this shop", field="cart", rule="exists")
    items: list[actions.ClickItem] = []
    first_url = ""
    for target, qty in entries:
        url, _origin, _param, ext, _active, _name = handoff.check_url(
            session, pid, target.product_url)
        first_url = first_url or url
        items.append(actions.ClickItem(ext, int(target.recommendation_id),
                                       int(target.creator_id), int(target.product_id),
                                       int(qty)))
    settings: Settings = request.app.state.settings
    click = actions.record_click(
        session, items=items, partner_id=pid, surface="cart", fan_id=me.id, promotion_id=None,
        user_agent=request.headers.get("user-agent", ""),
        ip_hash=rules.ip_hash(settings.secret_key, _client_ip(request)), method="GET")
    url = cart_url(partner, [(i.external_product_id, i.quantity) for i in items
                             if i.external_product_id], first_url)
    url = partner_rules.add_tracking(url, partner.tracking_param, click.token)
    parsed = partner_rules.normalize_product_url(url)
    if not partner_rules.url_on_domains(parsed, partners_q.domain_rules(partner)):
        raise RuleViolation("The cart link is not on the partner's domains", field="cart",
                            rule="partner_domain")
    return RedirectResponse(parsed.url, status_code=303)


# ------------------------------------------------------------------ earnings


@router.get("/earnings")
def earnings_page(request: Request, session: DbSession, auth: OptionalAuth,
                  before: str | None = None) -> Response:
    """The creator's balances (negatives shown) and per-order trails."""
    me = require_viewer(auth)
    cursor = int(before) if before and before.isdigit() and len(before) < 19 else None
    trails = queries.creator_orders(session, me.id, limit=30, before=cursor)
    older = (f"/earnings?before={trails[-1].order.id}" if len(trails) == 30 else None)
    return page(request, session, "tracking/earnings.html",
                balances=queries.creator_balances(session, me.id), trails=trails,
                older=older)


@router.get("/operator/partners")
def operator_partners_page(request: Request, session: DbSession,
                           auth: OptionalAuth) -> Response:
    """Every partner's receivable and order counts (operators only)."""
    me = require_viewer(auth)
    if me.role != "operator":
        raise Forbidden("Only operators may see this page", field="role", rule="role:operator")
    return page(request, session, "tracking/operator_partners.html",
                rows=queries.partner_balances(session))
