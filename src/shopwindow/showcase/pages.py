"""Showcase HTML pages: publisher, showcase grid, middle page, product bookmarks, cart.

Everything works without JavaScript: the publisher is one form whose buttons (add a link,
remove an item, publish) post back to /publish, which re-renders it with the products read so
far carried in hidden fields (display only: publishing reads every link again).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import DomainError, Forbidden, NotFound
from shopwindow.db.uow import unit_of_work
from shopwindow.partners import queries as partners_q
from shopwindow.partners import rules as partner_rules
from shopwindow.showcase import actions, queries, rules
from shopwindow.web.deps import DbSession, OptionalAuth
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
from shopwindow.web.pages.profiles import _profile_context
from shopwindow.web.templating import SUPPORTED_LOCALES, env_for, request_locale

router = APIRouter(route_class=PageRoute)
BOOKMARKS_PAGE = 40


# Fixed, translatable messages by rule (listed for the catalogs in showcase/_messages.html);
# the domain's own detail (which may name the repeated word) is the API's.
RULE_MESSAGES = {
    "title_repeated_word": "The title repeats the same word again and again (keyword stuffing).",
    "title_separators": "The title strings keywords together with separators such as | / +.",
    "title_hashtags": "Hashtags belong in the reason, not in the title.",
    "title_keyword_list": "The title is a list of keywords.",
    "title_all_caps": "The title is written in capital letters.",
    "title_punctuation": "The title shouts with repeated ! or ?.",
    "title_length": "The title is too long (at most 80 characters).",
    "title_required": "A title is required.",
    "reason_required": "A recommendation reason is required.",
    "reason_length": "The reason needs at least 6 and at most 1000 characters.",
    "max_products": "A post carries at most 9 products.",
    "max_recommendations_per_day": "No screen flooding: you have reached the limit of "
                                   "recommendations per 24 hours. Try again later.",
    "items_required": "Add at least one product.",
    "partner_domain": "Links must point to a registered partner shop.",
    "partner_active": "This partner is suspended: its links are not accepted.",
    "gone": "The partner says this product does not exist.",
    "duplicate_product": "The same product is listed twice.",
    "image_of_product": "Pick images of the product itself.",
    "quantity_range": "Quantity must be 1 to 99.",
    "unavailable": "This product is not available.",
    "role": "Only creators and brands publish recommendations.",
    "owner": "You can only delete your own recommendations.",
}


def page_message(exc: DomainError) -> str:
    """The (translatable) message a page shows for a showcase error."""
    rule = (exc.rule or "").split(":", 1)[0]
    if rule in RULE_MESSAGES:
        return RULE_MESSAGES[rule]
    if exc.code == "fetch_failed":
        return "The product could not be read from the partner."
    if (exc.field or "").endswith("url"):
        return "This link is not a valid product address."
    if exc.detail == "This product is not in your cart":
        return "This product is not in your cart."
    if exc.detail == "Recommendation not found":
        return "Recommendation not found."
    return message_for(exc)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _rid(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("Recommendation not found", field="id", rule="exists")
    return int(raw)


# ------------------------------------------------------------------ template helpers


def _price(amount_minor: int, currency: str, locale: str) -> str:
    try:
        return rules.format_price(int(amount_minor), str(currency), locale)
    except (TypeError, ValueError):
        return ""


IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def _image_sig(secret: str, partner_id: int, url: str) -> str:
    msg = f"sw-img:{partner_id}:{url}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


def product_image(request: Request, partner_id: int, url: str | None) -> str:
    """Same-origin URL of a partner's product image (the page CSP allows only 'self')."""
    if not url:
        return ""
    sig = _image_sig(request.app.state.settings.secret_key, int(partner_id), url)
    return "/showcase/img?" + urlencode({"p": partner_id, "u": url, "s": sig})


@router.get("/showcase/img")
def image_proxy(request: Request, session: DbSession, p: str = "", u: str = "",
                s: str = "") -> Response:
    """Relay a signed product-image URL on the partner's own domains (no redirects, capped)."""
    pid = _int(p, -1)
    expected = _image_sig(request.app.state.settings.secret_key, pid, u)
    if pid < 0 or not hmac.compare_digest(expected, s):
        raise NotFound("Not found", field="s", rule="exists")
    partner = partners_q.find_partner(session, pid)
    if partner is None or partner.status != "active":
        raise NotFound("Not found", field="p", rule="exists")
    try:
        parsed = partner_rules.normalize_product_url(u)
    except DomainError as exc:
        raise NotFound("Not found", field="u", rule="exists") from exc
    if not partner_rules.url_on_domains(parsed, partners_q.domain_rules(partner)):
        raise NotFound("Not found", field="u", rule="exists")
    session.rollback()  # nothing to write: give the connection back during the request
    try:
        with httpx.Client(timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False,
                          trust_env=False) as client, client.stream("GET", parsed.url) as resp:
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if resp.status_code != 200 or ctype not in IMAGE_TYPES:
                raise NotFound("Not found", field="u", rule="exists")
            body = b""
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > IMAGE_MAX_BYTES:
                    raise NotFound("Not found", field="u", rule="too_large")
    except httpx.HTTPError as exc:
        raise NotFound("Not found", field="u", rule="unreachable") from exc
    return Response(body, media_type=ctype, headers={
        "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


def product_cards(request: Request, cards: Any, post_id: int) -> list[dict[str, Any]]:
    """Product cards of a post on a post card (batched once per page, plain values)."""
    cache: dict[int, list[dict[str, Any]]] | None = getattr(request.state, "showcase_cards",
                                                            None)
    if cache is None or post_id not in cache:
        ids = {int(post_id)}
        for c in cards or []:
            post = getattr(c, "post", None)
            if post is not None and "/r/" in (post.text or ""):
                ids.add(int(post.id))
        found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        with unit_of_work(request.app.state.db, write=False) as s:
            for pid, views in queries.cards_for_posts(s, ids).items():
                found[pid] = [dict(url=v.url, title=v.rec.title,
                                   image=product_image(request, v.product.partner_id, v.image),
                                   price_minor=v.product.price_minor,
                                   currency=v.product.currency, partner=v.partner_name,
                                   available=bool(v.product.available)) for v in views]
        cache = {**(cache or {}), **found}
        request.state.showcase_cards = cache
    return cache.get(int(post_id), [])


def install_template_helpers() -> None:
    """Give every locale's template environment the price filter and product cards."""
    for loc in SUPPORTED_LOCALES:
        e = env_for(loc)
        e.filters["price"] = (lambda loc_: lambda m, c: _price(m, c, loc_))(loc)
        e.globals["showcase_cards"] = product_cards
        e.globals["product_image"] = product_image


install_template_helpers()


# ------------------------------------------------------------------ publisher


@dataclass(slots=True)
class Draft:
    """One product of the publisher form (as carried in hidden fields)."""

    url: str
    title: str = ""
    reason: str = ""
    images: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    partner: str = ""
    partner_id: str = ""
    price: str = ""
    stock: str = ""
    availability: str = ""
    title_problem: str = ""


def _drafts(form: Any) -> list[Draft]:
    out: list[Draft] = []
    for n in range(_int(form.get("count"), 0))[: rules.MAX_PRODUCTS_PER_POST]:
        url = form.get(f"url_{n}")
        if not isinstance(url, str) or not url:
            continue
        g = {k: str(form.get(f"{k}_{n}") or "") for k in
             ("title", "reason", "partner", "partner_id", "price", "stock", "availability",
              "title_problem")}
        out.append(Draft(url=url, images=[str(x) for x in form.getlist(f"all_images_{n}")][:10],
                         chosen=[str(x) for x in form.getlist(f"images_{n}")][:10], **g))
    return out


def _publisher(request: Request, session: Session, me: Any) -> None:
    if me.role not in actions.PUBLISHER_ROLES:
        raise Forbidden("Only creators and brands publish recommendations.", field="role",
                        rule="role:creator|brand")


def _render_publisher(request: Request, session: Session, drafts: list[Draft],
                      errors: dict[str, str], status: int = 200, **ctx: Any) -> Response:
    return page(request, session, "showcase/publish.html", status=status, drafts=drafts,
                errors=errors, max_items=rules.MAX_PRODUCTS_PER_POST, nav="publish", **ctx)


@router.get("/publish")
def publish_form(request: Request, session: DbSession, auth: OptionalAuth,
                 url: str | None = None) -> Response:
    """The publisher: paste a partner product link to start."""
    me = require_viewer(auth)
    _publisher(request, session, me)
    return _render_publisher(request, session, [], {}, new_url=url or "", text="",
                             visibility=me.default_visibility or "public")


def _item_errors(exc: DomainError) -> dict[str, str]:
    f = exc.field or "base"
    if f.startswith("items."):
        parts = f.split(".")
        if len(parts) == 3:
            return {f"{parts[2]}_{parts[1]}": page_message(exc)}
    if f in ("text", "visibility"):
        return {f: page_message(exc)}
    return {"base": page_message(exc)}


@router.post("/publish")
async def publish_submit(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Add a link (preview), remove an item, or publish the lot."""
    me = require_viewer(auth)
    form = await request.form()
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    _publisher(request, session, me)
    drafts = _drafts(form)
    op = str(form.get("op") or "")
    text = str(form.get("text") or "")[:1000]
    visibility = str(form.get("visibility") or "public")
    new_url = str(form.get("new_url") or "").strip()
    errors: dict[str, str] = {}
    ctx: dict[str, Any] = {"text": text, "visibility": visibility}
    if op.startswith("remove_"):
        n = _int(op.removeprefix("remove_"), -1)
        drafts = [d for i, d in enumerate(drafts) if i != n]
        return _render_publisher(request, session, drafts, errors, new_url=new_url, **ctx)
    if op == "add" and not new_url:
        return _render_publisher(request, session, drafts, errors, new_url="", **ctx)
    if op == "add" or (op != "publish" and new_url):
        if len(drafts) >= rules.MAX_PRODUCTS_PER_POST:
            errors["new_url"] = RULE_MESSAGES["max_products"]
            return _render_publisher(request, session, drafts, errors, 422, new_url=new_url,
                                     **ctx)
        try:
            pre = actions.preview_product(session, new_url)
        except DomainError as exc:
            discard(session)
            errors["new_url"] = page_message(exc)
            return _render_publisher(request, session, drafts, errors, 422, new_url=new_url,
                                     **ctx)
        d = pre.product
        refusal = rules.stuffing_reason(d.title)
        loc = request_locale(request)
        drafts.append(Draft(
            url=pre.url, title=d.title, images=list(d.images)[:10],
            chosen=list(d.images)[:rules.MAX_IMAGES], partner=pre.partner_name,
            partner_id=str(pre.partner_id),
            price=_price(d.price_minor, d.currency, loc),
            stock="" if d.stock is None else str(d.stock), availability=d.availability,
            title_problem=RULE_MESSAGES[refusal.rule] if refusal else ""))
        if refusal:
            errors[f"title_{len(drafts) - 1}"] = RULE_MESSAGES[refusal.rule]
        return _render_publisher(request, session, drafts, errors, new_url="", **ctx)
    try:
        out = actions.publish(session, me.id, [
            {"url": d.url, "title": d.title, "reason": d.reason, "images": d.chosen}
            for d in drafts], text=text, visibility=visibility)
    except DomainError as exc:
        discard(session)
        return _render_publisher(request, session, drafts, _item_errors(exc), 422,
                                 new_url=new_url, **ctx)
    if len(out.recommendations) == 1:
        return redirect(f"/r/{out.recommendations[0].id}")
    return redirect(f"/@{me.username}/showcase")


# ------------------------------------------------------------------ showcase


@router.get("/@{username}/showcase")
def showcase_page(request: Request, session: DbSession, auth: OptionalAuth, username: str,
                  q: str = "", category: str | None = None, sort: str | None = None,
                  page_no: str | None = None) -> Response:
    """A creator's showcase: grid, category filter, title search, sort; shareable URL."""
    me = viewer(auth)
    acct = accounts_q.get_by_username(session, username)
    sort = sort if sort in rules.SORTS else "newest"
    pg = max(1, _int(request.query_params.get("page"), 1))
    sp = queries.showcase(session, acct.id, viewer_id=me.id if me else None, q=q,
                          category=category or None, sort=sort, page=pg)

    def link(**over: Any) -> str:
        params = {"q": sp.q, "category": sp.category or "", "sort": sp.sort, "page": ""}
        params.update({k: ("" if v is None else str(v)) for k, v in over.items()})
        if params["sort"] == "newest":
            params["sort"] = ""
        kept = {k: v for k, v in params.items() if v and not (k == "page" and v == "1")}
        return f"/@{acct.username}/showcase" + (f"?{urlencode(kept)}" if kept else "")

    return page(request, session, "showcase/showcase.html", tab="showcase", sp=sp, link=link,
                sorts=rules.SORTS, **_profile_context(session, acct, me))


# ------------------------------------------------------------------ middle page


@router.get("/r/{recommendation_id}")
def middle_page(request: Request, session: DbSession, auth: OptionalAuth,
                recommendation_id: str) -> Response:
    """The middle page: product, the creator's reason, live price/stock, other creators."""
    me = viewer(auth)
    d = queries.recommendation_detail(session, _rid(recommendation_id), me.id if me else None)
    ctx: dict[str, Any] = {"bookmarked": False, "in_cart": 0}
    if me is not None:
        ctx = {"bookmarked": queries.is_bookmarked(session, me.id, d.view.product.id),
               "in_cart": queries.cart_quantity(session, me.id, d.view.rec.id)}
    return page(request, session, "showcase/middle.html", d=d, v=d.view,
                is_owner=me is not None and me.id == d.view.rec.creator_id, **ctx)


def _fan_action(request: Request, session: Session, auth: Any, form: Any,
                recommendation_id: str) -> tuple[Any, int, str]:
    me = require_viewer(auth)
    require_csrf(request, auth, str(form.get("csrf_token") or ""))
    rid = _rid(recommendation_id)
    return me, rid, safe_next(str(form.get("next") or ""), f"/r/{rid}")


def _visible(session: Session, rid: int, viewer_id: int) -> None:
    if not queries.can_view(session, queries.get_recommendation(session, rid), viewer_id):
        raise NotFound("Recommendation not found", field="id", rule="exists")


@router.post("/r/{recommendation_id}/bookmark")
async def bookmark(request: Request, session: DbSession, auth: OptionalAuth,
                   recommendation_id: str) -> Response:
    """Bookmark the product."""
    me, rid, nxt = _fan_action(request, session, auth, await request.form(), recommendation_id)
    _visible(session, rid, me.id)
    actions.bookmark_product(session, me.id, rid)
    return redirect(nxt)


@router.post("/r/{recommendation_id}/unbookmark")
async def unbookmark(request: Request, session: DbSession, auth: OptionalAuth,
                     recommendation_id: str) -> Response:
    """Remove the product's bookmark."""
    me, rid, nxt = _fan_action(request, session, auth, await request.form(), recommendation_id)
    actions.unbookmark_product(session, me.id, rid)
    return redirect(nxt)


@router.post("/r/{recommendation_id}/cart")
async def add_to_cart(request: Request, session: DbSession, auth: OptionalAuth,
                      recommendation_id: str) -> Response:
    """Add to the cart (quantity from the form, default 1)."""
    form = await request.form()
    me, rid, _nxt = _fan_action(request, session, auth, form, recommendation_id)
    _visible(session, rid, me.id)
    actions.cart_add(session, me.id, rid, _int(form.get("quantity"), 1))
    return redirect(safe_next(str(form.get("next") or ""), "/cart"))


@router.post("/r/{recommendation_id}/delete")
async def delete(request: Request, session: DbSession, auth: OptionalAuth,
                 recommendation_id: str) -> Response:
    """Withdraw your own recommendation."""
    me, rid, _nxt = _fan_action(request, session, auth, await request.form(), recommendation_id)
    actions.delete_recommendation(session, me.id, rid)
    return redirect(f"/@{me.username}/showcase")


# ------------------------------------------------------------------ bookmarks and cart


@router.get("/bookmarks/products")
def bookmarks_page(request: Request, session: DbSession, auth: OptionalAuth,
                   max_id: str | None = None) -> Response:
    """Your bookmarked products."""
    me = require_viewer(auth)
    mid = _int(max_id, 0) or None
    rows = queries.bookmarks(session, me.id, max_id=mid, limit=BOOKMARKS_PAGE)
    older = (f"/bookmarks/products?max_id={rows[-1][0]}" if len(rows) == BOOKMARKS_PAGE
             else None)
    return page(request, session, "showcase/bookmarks.html", rows=rows, older=older,
                nav="bookmarks")


@router.get("/cart")
def cart_page(request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """Your cart, grouped by partner, with quantities and a checkout per partner."""
    me = require_viewer(auth)
    return page(request, session, "showcase/cart.html", cart=queries.cart(session, me.id),
                qmax=rules.QUANTITY_MAX, nav="cart")


@router.post("/cart/{recommendation_id}/quantity")
async def cart_quantity(request: Request, session: DbSession, auth: OptionalAuth,
                        recommendation_id: str) -> Response:
    """Change a line's quantity."""
    form = await request.form()
    me, rid, _nxt = _fan_action(request, session, auth, form, recommendation_id)
    actions.cart_set_quantity(session, me.id, rid, _int(form.get("quantity"), 0))
    return redirect("/cart")


@router.post("/cart/{recommendation_id}/remove")
async def cart_remove(request: Request, session: DbSession, auth: OptionalAuth,
                      recommendation_id: str) -> Response:
    """Remove a line."""
    me, rid, _nxt = _fan_action(request, session, auth, await request.form(), recommendation_id)
    actions.cart_remove(session, me.id, rid)
    return redirect("/cart")
