"""Interests HTML pages: onboarding picker, interest settings, discovery, who to follow,
operator verticals, and the small recommendation blocks of middle pages and profiles.

Everything works without JavaScript (plain forms that post and redirect).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import DomainError, Forbidden, NotFound
from shopwindow.db.uow import unit_of_work
from shopwindow.interests import actions, queries, serving
from shopwindow.showcase.pages import product_image
from shopwindow.web.deps import AppSettings, DbSession, OptionalAuth
from shopwindow.web.pages.common import (
    PageRoute,
    discard,
    page,
    redirect,
    require_csrf,
    require_viewer,
    safe_next,
    viewer,
)
from shopwindow.web.pages.messages import message_for
from shopwindow.web.templating import SUPPORTED_LOCALES, env_for, request_locale

router = APIRouter(route_class=PageRoute)
DISCOVER_SIZE = 24
DISCOVER_PAGES = 8  # /discover?page=1…8: 192 products deep
PEOPLE_SIZE = 20


def _zh(request: Request) -> bool:
    return request_locale(request) == "zh-CN"


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _vertical_choices(request: Request, session: Any) -> list[dict[str, Any]]:
    zh = _zh(request)
    return [{"slug": v.slug, "name": v.name_zh if zh else v.name_en, "id": v.id}
            for v in queries.list_verticals(session)]


def product_items(request: Request, items: list[serving.ProductSuggestion]
                  ) -> list[dict[str, Any]]:
    """Plain values for the product tiles of recommendation blocks."""
    zh = _zh(request)
    return [dict(product_id=i.product_id, rec_id=i.view.rec.id, url=i.view.url,
                 title=i.view.rec.title,
                 image=product_image(request, i.view.product.partner_id, i.view.image),
                 price_minor=i.view.product.price_minor, currency=i.view.product.currency,
                 partner=i.view.partner_name, creator=i.view.creator.username,
                 reason=i.reason.text(zh), reason_code=i.reason.code) for i in items]


def people_items(request: Request, items: list[serving.AccountSuggestion]
                 ) -> list[dict[str, Any]]:
    """Plain values for who-to-follow rows."""
    zh = _zh(request)
    return [dict(account=s.account, reason=s.reason.text(zh), reason_code=s.reason.code)
            for s in items]


# ------------------------------------------------------------------ onboarding and settings


@router.get("/onboarding/interests")
def onboarding(request: Request, session: DbSession, auth: OptionalAuth,
               next: str = "/discover") -> Response:
    """After sign-up: pick the verticals you care about (cold start for recommendations)."""
    me = require_viewer(auth)
    return page(request, session, "interests/onboarding.html",
                verticals=_vertical_choices(request, session),
                picked=set(queries.picked_slugs(session, me.id)),
                next=safe_next(next, "/discover"), errors={}, mode="onboarding")


@router.post("/onboarding/interests")
async def onboarding_save(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Save the picked verticals (or skip) and continue."""
    me = require_viewer(auth)
    form = await request.form()
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    nxt = safe_next(str(form.get("next") or ""), "/discover")
    if form.get("skip"):
        actions.mark_onboarded(session, me.id)
        return redirect(nxt)
    picked = [str(v) for v in form.getlist("verticals")]
    try:
        actions.set_picked_interests(session, me.id, picked)
    except DomainError as exc:
        discard(session)
        return page(request, session, "interests/onboarding.html", status=422,
                    verticals=_vertical_choices(request, session), picked=set(picked),
                    next=nxt, errors={"verticals": message_for(exc)}, mode="onboarding")
    return redirect(nxt)


@router.get("/settings/interests")
def interest_settings(request: Request, session: DbSession, auth: OptionalAuth,
                      saved: str | None = None) -> Response:
    """Your picked interests and the ranked-home switch."""
    me = require_viewer(auth)
    verticals = _vertical_choices(request, session)
    return page(request, session, "interests/onboarding.html",
                verticals=verticals,
                picked=set(queries.picked_slugs(session, me.id)),
                ranked_home=queries.ranked_home_enabled(session, me.id),
                summary=serving.profile_summary(session, me.id), zh=_zh(request),
                vertical_ids={v["slug"]: v["id"] for v in verticals},
                next="/settings/interests?saved=1", errors={}, mode="settings", saved=saved)


@router.post("/settings/interests")
async def interest_settings_save(request: Request, session: DbSession,
                                 auth: OptionalAuth) -> Response:
    """Save picked interests and the ranked-home setting."""
    me = require_viewer(auth)
    form = await request.form()
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    picked = [str(v) for v in form.getlist("verticals")]
    try:
        actions.set_picked_interests(session, me.id, picked)
    except DomainError as exc:
        discard(session)
        return page(request, session, "interests/onboarding.html", status=422,
                    verticals=_vertical_choices(request, session), picked=set(picked),
                    ranked_home=bool(form.get("ranked_home")),
                    next="/settings/interests?saved=1",
                    errors={"verticals": message_for(exc)}, mode="settings")
    actions.set_ranked_home(session, me.id, bool(form.get("ranked_home")))
    return redirect("/settings/interests?saved=1")


# ------------------------------------------------------------------ discovery


@router.get("/discover")
def discover(request: Request, session: DbSession, auth: OptionalAuth,
             settings: AppSettings) -> Response:
    """Products for you (signed out: popular ones), plus accounts to follow (first page)."""
    me = viewer(auth)
    number = min(max(_int(request.query_params.get("page"), 1), 1), DISCOVER_PAGES)
    items = serving.discover_products(session, me.id if me else None, DISCOVER_SIZE,
                                      offset=(number - 1) * DISCOVER_SIZE,
                                      data_dir=settings.data_dir)
    people = serving.suggest_accounts(session, me.id, 5, data_dir=settings.data_dir) \
        if me and number == 1 else []
    more = f"/discover?page={number + 1}" \
        if len(items) == DISCOVER_SIZE and number < DISCOVER_PAGES else None
    current = "/discover" if number == 1 else f"/discover?page={number}"
    return page(request, session, "interests/discover.html", items=product_items(request, items),
                people=people_items(request, people), current_url=current, more=more,
                page_number=number)


@router.get("/people/suggested")
def suggested_people(request: Request, session: DbSession, auth: OptionalAuth,
                     settings: AppSettings) -> Response:
    """Who to follow, each with a reason."""
    me = require_viewer(auth)
    people = serving.suggest_accounts(session, me.id, PEOPLE_SIZE, data_dir=settings.data_dir)
    return page(request, session, "interests/suggested.html",
                people=people_items(request, people), current_url="/people/suggested")


async def _dismissal_form(request: Request, auth: OptionalAuth) -> tuple[int, str, int, str]:
    """(viewer id, kind, target id, where to go back) of a dismiss/undismiss form."""
    me = require_viewer(auth)
    form = await request.form()
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    raw = str(form.get("id") or "")
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("Not found", field="id", rule="exists")
    return me.id, str(form.get("kind") or ""), int(raw), str(form.get("next") or "")


@router.post("/recommendations/dismiss")
async def dismiss(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Stop recommending a product, an account or a topic (vertical)."""
    me_id, kind, target, back = await _dismissal_form(request, auth)
    actions.dismiss(session, me_id, kind, target)
    return redirect(safe_next(back, "/discover"))


@router.post("/recommendations/undismiss")
async def undismiss(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Recommend a dismissed product, account or topic again."""
    me_id, kind, target, back = await _dismissal_form(request, auth)
    actions.undismiss(session, me_id, kind, target)
    return redirect(safe_next(back, "/settings/interests"))


# ------------------------------------------------------------------ operator


def _require_operator(auth: Any) -> Any:
    me = require_viewer(auth)
    if me.role != "operator":
        raise Forbidden("Only operators edit verticals", field="role", rule="role:operator")
    return me


@router.get("/operator/verticals")
def operator_verticals(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """The taxonomy: add, rename, reorder, deactivate (operators)."""
    _require_operator(auth)
    return page(request, session, "interests/operator_verticals.html",
                verticals=queries.list_verticals(session, include_inactive=True),
                runs=queries.latest_training_runs(session, 5), errors={}, form={})


@router.post("/operator/verticals")
async def operator_verticals_save(request: Request, session: DbSession,
                                  auth: OptionalAuth) -> Response:
    """One edit: create, update (rename / activate / deactivate) or move up/down."""
    me = _require_operator(auth)
    form = await request.form()
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    op = str(form.get("op") or "")
    vid = _int(form.get("id"))
    try:
        if op == "create":
            actions.create_vertical(session, me.id, slug=str(form.get("slug") or ""),
                                    name_en=str(form.get("name_en") or ""),
                                    name_zh=str(form.get("name_zh") or ""))
        elif op == "update":
            actions.update_vertical(session, me.id, vid, name_en=str(form.get("name_en") or ""),
                                    name_zh=str(form.get("name_zh") or ""))
        elif op in ("activate", "deactivate"):
            actions.update_vertical(session, me.id, vid, active=op == "activate")
        elif op in ("up", "down"):
            actions.move_vertical(session, me.id, vid, -1 if op == "up" else 1)
        elif op == "defaults":
            actions.ensure_default_verticals(session)
        else:
            raise NotFound("Unknown operation", field="op", rule="exists")
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        discard(session)
        return page(request, session, "interests/operator_verticals.html", status=exc.status,
                    verticals=queries.list_verticals(session, include_inactive=True),
                    runs=queries.latest_training_runs(session, 5),
                    errors={"op": op, "id": vid, "field": exc.field or "",
                            "message": message_for(exc)},
                    form={k: str(form.get(k) or "") for k in ("slug", "name_en", "name_zh")})
    return redirect("/operator/verticals")


# ------------------------------------------------------------------ blocks in other pages


def similar_block(request: Request, product_id: int) -> list[dict[str, Any]]:
    """Template helper: products similar to the middle page's one (own read transaction)."""
    me = viewer(getattr(request.state, "auth", None))
    with unit_of_work(request.app.state.db, write=False) as s:
        items = serving.similar_products(s, int(product_id), me.id if me else None, 6,
                                         data_dir=request.app.state.settings.data_dir)
        return product_items(request, items)


def fans_also_block(request: Request, creator_id: int) -> list[dict[str, Any]]:
    """Template helper: what this creator's fans also like (profile pages)."""
    me = viewer(getattr(request.state, "auth", None))
    with unit_of_work(request.app.state.db, write=False) as s:
        acct = accounts_q.find_account(s, int(creator_id))
        if acct is None or acct.role not in ("creator", "brand"):
            return []
        items = serving.fans_also_like(s, int(creator_id), me.id if me else None, 6,
                                       data_dir=request.app.state.settings.data_dir)
        return product_items(request, items)


def install_template_helpers() -> None:
    """Give every locale's templates the recommendation blocks."""
    for loc in SUPPORTED_LOCALES:
        e = env_for(loc)
        e.globals["interest_similar"] = similar_block
        e.globals["interest_fans_also"] = fans_also_block


install_template_helpers()
