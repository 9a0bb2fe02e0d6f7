"""Showcase platform API (/api/sw/v1): publisher, showcases, middle pages, bookmarks, cart.

Thin: parse, authorise, call actions/queries, serialise. Errors are RFC 9457 problem details
naming the field (`url`, `items.0.title`, `quantity` …) and the rule.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from shopwindow.accounts import queries as accounts_q
from shopwindow.core.errors import NotFound
from shopwindow.core.money import Money
from shopwindow.showcase import actions, queries, rules
from shopwindow.showcase.queries import RecView
from shopwindow.showcase.schemas import (
    BookmarkIn,
    BookmarkList,
    BookmarkRead,
    CartAdd,
    CartGroupRead,
    CartLineRead,
    CartQuantity,
    CartRead,
    CategoryCount,
    CreatorRef,
    PreviewRequest,
    PriceRead,
    ProductPreviewRead,
    ProductRead,
    PublishRead,
    PublishRequest,
    RecommendationDetailRead,
    RecommendationRead,
    ShowcaseRead,
)
from shopwindow.web.deps import AppSettings, DbSession, OptionalAuth, user
from shopwindow.web.errors import problem_responses

router = APIRouter(prefix="/api/sw/v1", tags=["showcase"])
ERRORS = problem_responses(401, 403, 404, 409, 422)
PREVIEW_LIMIT = "30/minute"
Writer = Annotated[Any, Depends(user("write:statuses"))]
BookmarkReader = Annotated[Any, Depends(user("read:bookmarks"))]
BookmarkWriter = Annotated[Any, Depends(user("write:bookmarks"))]
CartReader = Annotated[Any, Depends(user("read:cart"))]
CartWriter = Annotated[Any, Depends(user("write:cart"))]


def _id(raw: str, field: str = "id") -> int:
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise NotFound("Not found", field=field, rule="exists")
    return int(raw)


def _price(m: Money) -> PriceRead:
    return PriceRead(amount_minor=m.amount, currency=m.currency, formatted=m.format())


def _creator(a: Any) -> CreatorRef:
    return CreatorRef(id=str(a.id), username=a.username, display_name=a.display_name or "")


def rec_read(v: RecView) -> RecommendationRead:
    """Serialise a recommendation view."""
    p, r = v.product, v.rec
    return RecommendationRead(
        id=str(r.id), url=v.url, creator=_creator(v.creator),
        post_id=str(r.post_id) if r.post_id else None, title=r.title, reason=r.reason,
        images=list(r.images or []), created_at=r.created_at,
        bookmarks_count=r.bookmarks_count, carts_count=r.carts_count,
        product=ProductRead(
            id=str(p.id), partner_id=str(p.partner_id), partner_name=v.partner_name,
            url=p.canonical_url, title=p.title, brand=p.brand, category=p.category, gtin=p.gtin,
            images=list(p.images or []), price=_price(v.price), stock=p.stock,
            availability=p.availability, available=bool(p.available),
            last_fetched_at=p.last_fetched_at, price_changed_at=p.price_changed_at),
    )


@router.post("/showcase/preview", response_model=ProductPreviewRead, responses=ERRORS)
def preview(body: PreviewRequest, request: Request, session: DbSession,
            me: Writer) -> ProductPreviewRead:
    """Check a pasted product link (active partner's domains only) and read the product."""
    actions.require_publisher(session, me.id)
    request.app.state.rate_limits.hit(PREVIEW_LIMIT, "showcase-preview", str(me.id))
    pre = actions.preview_product(session, body.url)
    d = pre.product
    refusal = rules.stuffing_reason(d.title)
    return ProductPreviewRead(
        partner_id=str(pre.partner_id), partner_name=pre.partner_name, url=pre.url,
        title=d.title, title_problem=refusal.rule if refusal else None,
        price=_price(Money(d.price_minor, d.currency)), availability=d.availability,
        stock=d.stock, images=list(d.images), brand=d.brand, category=d.category, gtin=d.gtin)


@router.post("/showcase/recommendations", response_model=PublishRead, status_code=201,
             responses=ERRORS)
def publish(body: PublishRequest, session: DbSession, me: Writer) -> PublishRead:
    """Publish 1–9 recommended products as one post (creators and brands)."""
    out = actions.publish(session, me.id, [i.model_dump() for i in body.items],
                          text=body.text, visibility=body.visibility)
    views = queries.cards_for_posts(session, [out.post_id]).get(out.post_id, [])
    return PublishRead(post_id=str(out.post_id), recommendations=[rec_read(v) for v in views])


@router.get("/accounts/{account_id}/showcase", response_model=ShowcaseRead, responses=ERRORS)
def showcase(account_id: str, session: DbSession, auth: OptionalAuth, settings: AppSettings,
             q: str = "", category: str | None = None, sort: str | None = None,
             page: int = 1) -> ShowcaseRead:
    """A creator's showcase: `q` (title words), `category`, `sort`, `page`."""
    acct = accounts_q.get_account(session, _id(account_id))
    viewer = auth.account.id if auth is not None and auth.account is not None else None
    sp = queries.showcase(session, acct.id, viewer_id=viewer, q=q, category=category,
                          sort=sort, page=page)
    params = {k: v for k, v in (("q", sp.q), ("category", sp.category),
                                ("sort", sp.sort if sp.sort != "newest" else None)) if v}
    share = f"{settings.base_url.rstrip('/')}/@{acct.username}/showcase"
    return ShowcaseRead(
        creator=_creator(acct), items=[rec_read(v) for v in sp.items],
        categories=[CategoryCount(category=c, count=n) for c, n in sp.categories],
        total=sp.total, page=sp.page, pages=sp.pages, sort=sp.sort,
        share_url=share + (f"?{urlencode(params)}" if params else ""),
    )


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationDetailRead,
            responses=ERRORS)
def get_recommendation(recommendation_id: str, session: DbSession,
                       auth: OptionalAuth) -> RecommendationDetailRead:
    """The middle page's data: recommendation, product (live price/stock), other creators."""
    viewer = auth.account.id if auth is not None and auth.account is not None else None
    d = queries.recommendation_detail(session, _id(recommendation_id), viewer)
    base = rec_read(d.view).model_dump()
    extra: dict[str, Any] = {}
    if viewer is not None:
        extra = {"bookmarked": queries.is_bookmarked(session, viewer, d.view.product.id),
                 "in_cart": queries.cart_quantity(session, viewer, d.view.rec.id)}
    return RecommendationDetailRead(**base, others=[rec_read(o) for o in d.others], **extra)


@router.delete("/recommendations/{recommendation_id}", status_code=204, responses=ERRORS)
def delete_recommendation(recommendation_id: str, session: DbSession, me: Writer) -> Response:
    """Withdraw one of your recommendations."""
    actions.delete_recommendation(session, me.id, _id(recommendation_id))
    return Response(status_code=204)


# ------------------------------------------------------------------ bookmarks


@router.get("/me/product_bookmarks", response_model=BookmarkList, responses=ERRORS)
def list_bookmarks(session: DbSession, me: BookmarkReader,
                   max_id: str | None = None, limit: int = 40) -> BookmarkList:
    """Your bookmarked products, newest first (`max_id` pages)."""
    limit = max(1, min(limit, 80))
    rows = queries.bookmarks(session, me.id, max_id=_id(max_id, "max_id") if max_id else None,
                             limit=limit)
    return BookmarkList(items=[BookmarkRead(id=str(b), recommendation=rec_read(v))
                               for b, v in rows],
                        next_max_id=str(rows[-1][0]) if len(rows) == limit else None)


@router.post("/me/product_bookmarks", status_code=201, responses=ERRORS)
def add_bookmark(body: BookmarkIn, response: Response, session: DbSession,
                 me: BookmarkWriter) -> dict[str, bool]:
    """Bookmark a recommendation's product (idempotent: 200 when already bookmarked)."""
    rid = _id(body.recommendation_id, "recommendation_id")
    if queries.can_view(session, queries.get_recommendation(session, rid), me.id) is False:
        raise NotFound("Recommendation not found", field="recommendation_id", rule="exists")
    added = actions.bookmark_product(session, me.id, rid)
    if not added:
        response.status_code = 200
    return {"bookmarked": True}


@router.delete("/me/product_bookmarks/{recommendation_id}", status_code=204, responses=ERRORS)
def remove_bookmark(recommendation_id: str, session: DbSession,
                    me: BookmarkWriter) -> Response:
    """Remove the bookmark of a recommendation's product (idempotent)."""
    actions.unbookmark_product(session, me.id, _id(recommendation_id))
    return Response(status_code=204)


# ------------------------------------------------------------------ cart


def _cart(session: DbSession, account_id: int) -> CartRead:
    c = queries.cart(session, account_id)
    return CartRead(
        groups=[CartGroupRead(
            partner_id=str(g.partner_id), partner_name=g.partner_name,
            lines=[CartLineRead(recommendation=rec_read(ln.view), quantity=ln.quantity,
                                line_total=_price(ln.total)) for ln in g.lines],
            totals=[_price(m) for m in g.totals],
            checkout_path=f"/cart/checkout/{g.partner_id}") for g in c.groups],
        quantity=c.quantity, totals=[_price(m) for m in c.totals])


@router.get("/me/cart", response_model=CartRead, responses=ERRORS)
def get_cart(session: DbSession, me: CartReader) -> CartRead:
    """Your cart grouped by partner, with totals per currency."""
    return _cart(session, me.id)


@router.post("/me/cart/items", response_model=CartRead, status_code=201, responses=ERRORS)
def cart_add(body: CartAdd, session: DbSession, me: CartWriter) -> CartRead:
    """Add a recommendation's product (adds to the quantity when already there)."""
    rid = _id(body.recommendation_id, "recommendation_id")
    if not queries.can_view(session, queries.get_recommendation(session, rid), me.id):
        raise NotFound("Recommendation not found", field="recommendation_id", rule="exists")
    actions.cart_add(session, me.id, rid, body.quantity)
    return _cart(session, me.id)


@router.patch("/me/cart/items/{recommendation_id}", response_model=CartRead, responses=ERRORS)
def cart_set(recommendation_id: str, body: CartQuantity, session: DbSession,
             me: CartWriter) -> CartRead:
    """Set a line's quantity (1–99)."""
    actions.cart_set_quantity(session, me.id, _id(recommendation_id), body.quantity)
    return _cart(session, me.id)


@router.delete("/me/cart/items/{recommendation_id}", status_code=204, responses=ERRORS)
def cart_remove(recommendation_id: str, session: DbSession, me: CartWriter) -> Response:
    """Remove a line."""
    actions.cart_remove(session, me.id, _id(recommendation_id))
    return Response(status_code=204)
