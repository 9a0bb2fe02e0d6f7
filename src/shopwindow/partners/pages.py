"""Operator HTML pages for partner management: register, edit, suspend/activate, rotate the
postback secret, domains. The list (with balances) is /operator/partners (tracking.pages)."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.core.errors import DomainError, Forbidden, Invalid, NotFound
from shopwindow.partners import actions, queries
from shopwindow.partners.models import Partner
from shopwindow.web.deps import DbSession, OptionalAuth, form_value
from shopwindow.web.pages.common import (
    PageRoute,
    discard,
    form_errors,
    page,
    redirect,
    require_csrf,
    require_viewer,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TERMS = ("name", "tracking_param", "product_source", "api_base_url", "cart_url_template",
         "default_rate", "category_rates", "attribution_window_days", "return_window_days",
         "currency")
FIELDS = ("slug", "domains", *TERMS)
RENAME = {"default_rate_bps": "default_rate", "domain": "domains"}

# Shown next to fields (translated in the templates via |tr; listed in web.pages.messages).
BAD_RATE = "Enter a rate in per cent between 0 and 100, e.g. 12.5"
BAD_CATEGORY_RATE = "Write one category=rate% per line, e.g. beauty=15%"
BAD_DAYS = "Enter a whole number of days"

# POST/redirect/GET for the forms that reveal a postback secret: the POST stores nothing
# but a one-time grant in a short-lived HttpOnly cookie scoped to the partner's page; the
# GET shows the secret if the grant matches the partner's *current* secret, then clears
# it. A reload (or a later rotation) shows nothing, and no form is ever resubmitted.
REVEAL_COOKIE = "sw_reveal"
REVEAL_TTL = 120


def _operator(auth: Any) -> None:
    me = require_viewer(auth)
    if me.role != "operator":
        raise Forbidden("Only operators may see this page", field="role", rule="role:operator")


def _partner(session: Session, raw: str) -> Partner:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound("Partner not found", field="partner_id", rule="exists")
    return queries.get_partner(session, int(raw))


def _pct(bps: int) -> str:
    return format(Decimal(bps) / 100, "f").rstrip("0").rstrip(".") if bps else "0"


def _bps(raw: str, field: str, message: str = BAD_RATE) -> int:
    text = raw.strip().removesuffix("%").strip()
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise Invalid(message, field=field, rule="percent") from None
    if not value.is_finite() or value != value.to_integral_value() or not 0 <= value <= 10_000:
        raise Invalid(message, field=field, rule="percent")
    return int(value)


def _category_rates(raw: str) -> dict[str, int]:
    rates: dict[str, int] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        cat, eq, rate = line.partition("=")
        if not eq or not cat.strip():
            raise Invalid(BAD_CATEGORY_RATE, field="category_rates", rule="format")
        rates[cat.strip()] = _bps(rate, "category_rates", BAD_CATEGORY_RATE)
    return rates


def _days(raw: str, field: str) -> int:
    if not raw.strip().isdigit() or len(raw.strip()) > 4:
        raise Invalid(BAD_DAYS, field=field, rule="integer")
    return int(raw.strip())


def _form_of(p: Partner | None) -> dict[str, Any]:
    if p is None:
        return {"slug": "", "name": "", "domains": "", "allow_subdomains": True,
                "tracking_param": "sw_click", "product_source": "markup", "api_base_url": "",
                "cart_url_template": "", "default_rate": "0", "category_rates": "",
                "attribution_window_days": "7", "return_window_days": "15", "currency": "CNY"}
    return {"slug": p.slug, "name": p.name, "tracking_param": p.tracking_param,
            "product_source": p.product_source, "api_base_url": p.api_base_url or "",
            "cart_url_template": p.cart_url_template or "",
            "default_rate": _pct(p.default_rate_bps),
            "category_rates": "\n".join(f"{k}={_pct(v)}%" for k, v in
                                        sorted((p.category_rates or {}).items())),
            "attribution_window_days": str(p.attribution_window_days),
            "return_window_days": str(p.return_window_days), "currency": p.currency}


def _posted(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {n: form_value(form, n) for n in names}
    out["allow_subdomains"] = bool(form_value(form, "allow_subdomains"))
    return out


def _terms(f: dict[str, Any]) -> dict[str, Any]:
    """The form's commission and source terms as action arguments (raises Invalid)."""
    return {
        "name": f["name"], "tracking_param": f["tracking_param"].strip(),
        "product_source": f["product_source"] or "markup",
        "api_base_url": f["api_base_url"].strip() or None,
        "cart_url_template": f["cart_url_template"].strip() or None,
        "default_rate_bps": _bps(f["default_rate"] or "0", "default_rate"),
        "category_rates": _category_rates(f["category_rates"]),
        "attribution_window_days": _days(f["attribution_window_days"],
                                         "attribution_window_days"),
        "return_window_days": _days(f["return_window_days"], "return_window_days"),
        "currency": f["currency"].strip().upper(),
    }


def _reveal_grant(request: Request, p: Partner) -> str:
    key = request.app.state.settings.secret_key.encode()
    digest = hashlib.sha256(p.postback_secret.encode()).hexdigest()
    return hmac.new(key, f"partner-reveal:{p.id}:{digest}".encode(), hashlib.sha256).hexdigest()


def _redirect_revealing(request: Request, p: Partner, saved: str) -> Response:
    """303 to the partner's page, which will show the (new) postback secret once."""
    response = redirect(f"/operator/partners/{p.id}?saved={saved}")
    response.set_cookie(REVEAL_COOKIE, _reveal_grant(request, p), max_age=REVEAL_TTL,
                        httponly=True, samesite="strict",
                        secure=request.app.state.settings.cookie_secure,
                        path=f"/operator/partners/{p.id}")
    return response


def _edit_page(request: Request, session: Session, p: Partner, status: int = 200,
               **ctx: Any) -> Response:
    ctx.setdefault("form", _form_of(p))
    ctx.setdefault("errors", {})
    for k in ("domain_value", "saved", "created", "new_secret"):
        ctx.setdefault(k, None)
    return page(request, session, "partners/edit.html", status=status, partner=p, **ctx)


@router.get("/operator/partners/new")
def new_partner_page(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """The registration form."""
    _operator(auth)
    return page(request, session, "partners/new.html", form=_form_of(None), errors={})


@router.post("/operator/partners/new")
async def create_partner(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Register a partner, then 303 to its page, which shows the postback secret once."""
    _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    f = _posted(form, FIELDS)
    try:
        domains = [d.strip() for d in f["domains"].splitlines() if d.strip()]
        p = actions.register_partner(session, slug=f["slug"].strip(), domains=domains,
                                     allow_subdomains=f["allow_subdomains"], **_terms(f))
    except DomainError as exc:
        discard(session)
        return page(request, session, "partners/new.html", status=422, form=f,
                    errors=form_errors(exc, FIELDS, RENAME))
    return _redirect_revealing(request, p, "created")


@router.get("/operator/partners/{partner_id}")
def edit_partner_page(partner_id: str, request: Request, session: DbSession,
                      auth: OptionalAuth, saved: str | None = None) -> Response:
    """A partner's terms, status, secret rotation and domains."""
    _operator(auth)
    p = _partner(session, partner_id)
    grant = request.cookies.get(REVEAL_COOKIE, "")
    reveal = bool(grant) and hmac.compare_digest(grant, _reveal_grant(request, p))
    response = _edit_page(request, session, p, saved=saved, created=saved == "created" or None,
                          new_secret=p.postback_secret if reveal else None)
    if grant:
        response.delete_cookie(REVEAL_COOKIE, path=f"/operator/partners/{p.id}")
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/operator/partners/{partner_id}")
async def update_partner(partner_id: str, request: Request, session: DbSession,
                         auth: OptionalAuth) -> Response:
    _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    p = _partner(session, partner_id)
    f = _posted(form, TERMS)
    try:
        actions.update_partner(session, p, **_terms(f))
    except DomainError as exc:
        discard(session)
        p = _partner(session, partner_id)
        f["slug"] = p.slug
        return _edit_page(request, session, p, 422, form=f,
                          errors=form_errors(exc, FIELDS, RENAME))
    return redirect(f"/operator/partners/{p.id}?saved=terms")


@router.post("/operator/partners/{partner_id}/{action}")
async def partner_action(partner_id: str, action: str, request: Request, session: DbSession,
                         auth: OptionalAuth) -> Response:
    """suspend, activate, rotate-secret, domains (add)."""
    _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    p = _partner(session, partner_id)
    if action == "suspend":
        actions.suspend_partner(session, p)
    elif action == "activate":
        actions.activate_partner(session, p)
    elif action == "rotate-secret":
        actions.rotate_secret(session, p)
        return _redirect_revealing(request, p, "rotated")
    elif action == "domains":
        domain = form_value(form, "domain").strip()
        try:
            actions.add_domain(session, p, domain,
                               allow_subdomains=bool(form_value(form, "allow_subdomains")))
        except DomainError as exc:
            discard(session)
            p = _partner(session, partner_id)
            return _edit_page(request, session, p, 422, domain_value=domain,
                              errors=form_errors(exc, ("domain",)))
    else:
        raise NotFound("Not found", field="action", rule="exists")
    return redirect(f"/operator/partners/{p.id}?saved={action}")


@router.post("/operator/partners/{partner_id}/domains/{domain_id}/remove")
async def remove_domain(partner_id: str, domain_id: str, request: Request, session: DbSession,
                        auth: OptionalAuth) -> Response:
    _operator(auth)
    form = await request.form()
    require_csrf(request, auth, form_value(form, "csrf_token"))
    p = _partner(session, partner_id)
    if not domain_id.isdigit() or len(domain_id) > 19:
        raise NotFound("Not found", field="domain_id", rule="exists")
    actions.remove_domain(session, p, int(domain_id))
    return redirect(f"/operator/partners/{p.id}?saved=domains")
