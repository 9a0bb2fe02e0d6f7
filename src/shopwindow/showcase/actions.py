"""Showcase writes: preview, publish, refresh, delete, product bookmarks, cart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shopwindow.accounts import queries as accounts_q
from shopwindow.config import get_settings
from shopwindow.core.clock import utcnow
from shopwindow.core.errors import DomainError, Forbidden, Invalid, NotFound, RuleViolation
from shopwindow.core.ids import new_id
from shopwindow.db.upsert import insert_ignore
from shopwindow.outbox import emit
from shopwindow.partners import actions as partners
from shopwindow.partners import queries as partners_q
from shopwindow.partners.fetch import (
    FetchError,
    PartnerTarget,
    ProductData,
    ProductGone,
    fetch_product,
)
from shopwindow.showcase import queries, rules
from shopwindow.showcase.models import CartItem, Product, ProductBookmark, Recommendation
from shopwindow.social import actions as social

PUBLISHER_ROLES = ("creator", "brand")
Fetcher = Callable[[PartnerTarget, str], ProductData]


def _fetch(target: PartnerTarget, url: str) -> ProductData:
    return fetch_product(target, url)


# ------------------------------------------------------------------ preview


@dataclass(frozen=True, slots=True)
class Preview:
    """A pasted link, checked and read: the partner, the normalised URL, the product."""

    partner_id: int
    partner_name: str
    url: str
    product: ProductData


def require_publisher(session: Session, account_id: int) -> None:
    """Only creators and brands publish recommendations (Forbidden, field `role`)."""
    acct = accounts_q.get_account(session, account_id)
    if acct.role not in PUBLISHER_ROLES:
        raise Forbidden("Only creators and brands publish recommendations", field="role",
                        rule="role:creator|brand")


def preview_product(session: Session, url: str, *, fetcher: Fetcher | None = None,
                    field: str = "url") -> Preview:
    """Accept a link only on an active partner's domains and read the product from it."""
    try:
        partner, normalised = partners.resolve_product_url(session, url)
        target = PartnerTarget.of(partner)
        data = (fetcher or _fetch)(target, normalised)
    except DomainError as exc:
        if field != "url" and exc.field == "url":
            exc.field = field
            exc.errors = [{"field": field, "rule": exc.rule, "message": exc.detail}]
        raise
    return Preview(partner.id, partner.name, normalised, data)


# ------------------------------------------------------------------ products


def _external_id(data: ProductData) -> str:
    return (data.external_id or data.sku or data.canonical_url)[:200]


def _apply(session: Session, product: Product, data: ProductData) -> None:
    """Copy fresh partner data onto a product; emit price_dropped / availability changes."""
    now = utcnow()
    old_price, old_currency = int(product.price_minor), product.currency
    was_available = bool(product.available)
    if (old_price, old_currency) != (data.price_minor, data.currency):
        product.price_changed_at = now
        if rules.price_dropped(old_price, old_currency, data.price_minor, data.currency):
            emit(session, "showcase.price_dropped", product_id=product.id,
                 partner_id=product.partner_id, old_price_minor=old_price,
                 new_price_minor=data.price_minor, currency=data.currency)
    product.title = data.title[:500]
    product.canonical_url = data.canonical_url[:2048]
    product.brand = (data.brand or None) and data.brand[:200]
    product.category = (data.category or None) and data.category.strip().lower()[:100]
    product.gtin = (data.gtin or None) and data.gtin[:20]
    if data.images:
        product.images = list(data.images)
    product.price_minor = data.price_minor
    product.currency = data.currency
    product.stock = data.stock
    product.availability = data.availability
    product.available = rules.is_available(data.availability) and (data.stock is None
                                                                   or data.stock > 0)
    product.last_fetched_at = now
    if was_available != product.available:
        emit(session, "showcase.product_availability_changed", product_id=product.id,
             partner_id=product.partner_id, available=product.available)


def upsert_product(session: Session, partner_id: int, data: ProductData) -> Product:
    """The one product row of (partner, partner's product id), created or refreshed."""
    ext = _external_id(data)
    now = utcnow()
    insert_ignore(session, Product.__table__, [dict(
        id=new_id(), partner_id=partner_id, external_id=ext,
        canonical_url=data.canonical_url[:2048], title=data.title[:500],
        images=list(data.images), price_minor=data.price_minor, currency=data.currency,
        stock=data.stock, availability=data.availability, available=True,
        created_at=now, last_fetched_at=now, price_changed_at=None,
    )])
    product = session.scalar(select(Product).where(Product.partner_id == partner_id,
                                                   Product.external_id == ext))
    assert product is not None
    session.refresh(product)
    _apply(session, product, data)
    session.flush()
    return product


# ------------------------------------------------------------------ publish


@dataclass(frozen=True, slots=True)
class PublishItem:
    """One product of a publish request."""

    url: str
    reason: str
    title: str | None = None
    images: list[str] | None = None


@dataclass(slots=True)
class Published:
    """What publishing made: the post and its recommendations (in order)."""

    post_id: int
    recommendations: list[Recommendation]


def _item(raw: PublishItem | dict[str, Any]) -> PublishItem:
    if isinstance(raw, PublishItem):
        return raw
    return PublishItem(url=str(raw.get("url") or ""), reason=str(raw.get("reason") or ""),
                       title=raw.get("title"), images=raw.get("images"))


def publish(session: Session, creator_id: int, items: list[PublishItem | dict[str, Any]], *,
            text: str = "", visibility: str | None = None,
            fetcher: Fetcher | None = None) -> Published:
    """Publish up to 9 recommended products as one post (creators and brands only).

    Every link is checked (active partner's domains) and read before anything is written;
    errors name the item's field (`items.0.title`). The same partner product recommended
    again (by anyone) is the same product row.
    """
    require_publisher(session, creator_id)
    parsed = [_item(i) for i in items]
    rules.check_item_count(len(parsed))
    rules.check_publish_quota(
        queries.count_published_since(session, creator_id, utcnow() - timedelta(days=1)),
        len(parsed), get_settings().recommendations_per_day)
    checked: list[tuple[PublishItem, str, str, Preview]] = []
    seen: set[tuple[int, str]] = set()
    for n, it in enumerate(parsed):
        reason = rules.check_reason(it.reason, field=f"items.{n}.reason")
        pre = preview_product(session, it.url, fetcher=fetcher, field=f"items.{n}.url")
        key = (pre.partner_id, _external_id(pre.product))
        if key in seen:
            raise Invalid("The same product is listed twice", field=f"items.{n}.url",
                          rule="duplicate_product")
        seen.add(key)
        title = rules.check_title(it.title if it.title and it.title.strip()
                                  else pre.product.title, field=f"items.{n}.title")
        checked.append((it, title, reason, pre))
    rec_ids = [new_id() for _ in checked]
    base = get_settings().base_url.rstrip("/")
    body = rules.post_text(text, [(title, reason, f"{base}/r/{rid}")
                                  for (_i, title, reason, _p), rid in zip(checked, rec_ids,
                                                                          strict=True)],
                           get_settings().max_post_chars)
    post = social.create_post(session, creator_id, text=body, visibility=visibility)
    now = utcnow()
    recs: list[Recommendation] = []
    for pos, ((it, title, reason, pre), rid) in enumerate(zip(checked, rec_ids, strict=True)):
        product = upsert_product(session, pre.partner_id, pre.product)
        images = rules.pick_images(it.images, list(product.images or []),
                                   field=f"items.{pos}.images")
        rec = Recommendation(id=rid, creator_id=creator_id, product_id=product.id,
                             post_id=post.id, title=title, reason=reason, images=images,
                             position=pos, visibility=post.visibility, bookmarks_count=0,
                             carts_count=0, created_at=now)
        session.add(rec)
        recs.append(rec)
    session.flush()
    for rec in recs:
        prod = queries.get_product(session, rec.product_id)
        emit(session, "showcase.recommendation_published", recommendation_id=rec.id,
             creator_id=creator_id, product_id=rec.product_id, partner_id=prod.partner_id,
             post_id=post.id, category=prod.category, price_minor=prod.price_minor,
             currency=prod.currency)
    return Published(post.id, recs)


def delete_recommendation(session: Session, actor_id: int, recommendation_id: int) -> None:
    """Withdraw your own recommendation (it leaves showcases, carts and bookmarks)."""
    rec = queries.get_recommendation(session, recommendation_id)
    if rec.creator_id != actor_id:
        raise Forbidden("You can only delete your own recommendations", field="id",
                        rule="owner")
    rec.deleted_at = utcnow()
    session.execute(delete(CartItem).where(CartItem.recommendation_id == rec.id))
    session.execute(delete(ProductBookmark).where(ProductBookmark.recommendation_id == rec.id))
    session.flush()
    emit(session, "showcase.recommendation_deleted", recommendation_id=rec.id,
         creator_id=rec.creator_id, product_id=rec.product_id, post_id=rec.post_id)


def withdraw_for_post(session: Session, post_id: int) -> int:
    """The post carrying recommendations was deleted: withdraw them (idempotent)."""
    recs = list(session.scalars(select(Recommendation).where(
        Recommendation.post_id == post_id, Recommendation.deleted_at.is_(None))))
    for rec in recs:
        delete_recommendation(session, rec.creator_id, rec.id)
    return len(recs)


# ------------------------------------------------------------------ refresh


def refresh_product(session: Session, product_id: int, *,
                    fetcher: Fetcher | None = None) -> str:
    """Read a product again: 'updated', 'gone' (marked unavailable), 'failed' or 'skipped'."""
    product = session.get(Product, product_id)
    if product is None:
        return "skipped"  # jobs treat a missing row as done
    partner = partners_q.find_partner(session, product.partner_id)
    if partner is None or partner.status != "active":
        return "skipped"
    target = PartnerTarget.of(partner)
    try:
        data = (fetcher or _fetch)(target, product.canonical_url)
    except ProductGone:
        product.last_fetched_at = utcnow()
        product.availability = "discontinued"
        if product.available:
            product.available = False
            emit(session, "showcase.product_availability_changed", product_id=product.id,
                 partner_id=product.partner_id, available=False)
        session.flush()
        return "gone"
    except FetchError:
        # Keep the last known data; try again next round rather than every minute.
        product.last_fetched_at = utcnow()
        session.flush()
        return "failed"
    _apply(session, product, data)
    session.flush()
    return "updated"


def refresh_stale_products(session: Session, older_than: timedelta = timedelta(hours=1), *,
                           limit: int = 200, fetcher: Fetcher | None = None) -> dict[str, int]:
    """Refresh products not read for `older_than`; counts by outcome."""
    out: dict[str, int] = {}
    for pid in queries.stale_product_ids(session, older_than, limit):
        status = refresh_product(session, pid, fetcher=fetcher)
        out[status] = out.get(status, 0) + 1
    return out


# ------------------------------------------------------------------ bookmarks


def bookmark_product(session: Session, account_id: int, recommendation_id: int) -> bool:
    """Bookmark the product of a recommendation; False when it was already bookmarked."""
    rec = queries.get_recommendation(session, recommendation_id)
    added = insert_ignore(session, ProductBookmark.__table__, [dict(
        id=new_id(), account_id=account_id, product_id=rec.product_id,
        recommendation_id=rec.id, created_at=utcnow())]) > 0
    if added:
        session.execute(update(Recommendation).where(Recommendation.id == rec.id)
                        .values(bookmarks_count=Recommendation.bookmarks_count + 1))
        emit(session, "showcase.product_bookmarked", account_id=account_id,
             recommendation_id=rec.id, creator_id=rec.creator_id, product_id=rec.product_id)
    return added


def unbookmark_product(session: Session, account_id: int, recommendation_id: int) -> bool:
    """Remove the bookmark of a recommendation's product; False when there was none."""
    rec = queries.get_recommendation(session, recommendation_id)
    bm = session.scalar(select(ProductBookmark).where(
        ProductBookmark.account_id == account_id, ProductBookmark.product_id == rec.product_id))
    if bm is None:
        return False
    session.delete(bm)
    session.execute(update(Recommendation).where(Recommendation.id == bm.recommendation_id,
                                                 Recommendation.bookmarks_count > 0)
                    .values(bookmarks_count=Recommendation.bookmarks_count - 1))
    session.flush()
    emit(session, "showcase.product_unbookmarked", account_id=account_id,
         recommendation_id=bm.recommendation_id, product_id=rec.product_id)
    return True


# ------------------------------------------------------------------ cart


def _cart_item(session: Session, account_id: int, recommendation_id: int) -> CartItem:
    item = session.scalar(select(CartItem).where(CartItem.account_id == account_id,
                                                 CartItem.recommendation_id == recommendation_id))
    if item is None:
        raise NotFound("This product is not in your cart", field="recommendation_id",
                       rule="exists")
    return item


def cart_add(session: Session, account_id: int, recommendation_id: int,
             quantity: int = 1) -> CartItem:
    """Add a recommendation's product to the cart (or add to its quantity, at most 99)."""
    rules.check_quantity(quantity)
    rec = queries.get_recommendation(session, recommendation_id)
    product = queries.get_product(session, rec.product_id)
    if not product.available:
        raise RuleViolation("This product is not available", field="recommendation_id",
                            rule="unavailable")
    now = utcnow()
    inserted = insert_ignore(session, CartItem.__table__, [dict(
        id=new_id(), account_id=account_id, recommendation_id=rec.id, quantity=quantity,
        added_at=now, updated_at=now)])
    item = _cart_item(session, account_id, rec.id)
    if inserted:
        session.execute(update(Recommendation).where(Recommendation.id == rec.id)
                        .values(carts_count=Recommendation.carts_count + 1))
    else:
        session.refresh(item)
        rules.check_quantity(item.quantity + quantity)
        item.quantity += quantity
        item.updated_at = now
    session.flush()
    emit(session, "showcase.cart_added", account_id=account_id, recommendation_id=rec.id,
         creator_id=rec.creator_id, product_id=rec.product_id,
         partner_id=product.partner_id, quantity=quantity)
    return item


def cart_set_quantity(session: Session, account_id: int, recommendation_id: int,
                      quantity: int) -> CartItem:
    """Set a cart line's quantity (1–99)."""
    rules.check_quantity(quantity)
    item = _cart_item(session, account_id, recommendation_id)
    item.quantity = quantity
    item.updated_at = utcnow()
    session.flush()
    emit(session, "showcase.cart_quantity_set", account_id=account_id,
         recommendation_id=recommendation_id, quantity=quantity)
    return item


def cart_remove(session: Session, account_id: int, recommendation_id: int) -> None:
    """Remove a line from the cart."""
    item = _cart_item(session, account_id, recommendation_id)
    session.delete(item)
    session.execute(update(Recommendation).where(Recommendation.id == recommendation_id,
                                                 Recommendation.carts_count > 0)
                    .values(carts_count=Recommendation.carts_count - 1))
    session.flush()
    emit(session, "showcase.cart_removed", account_id=account_id,
         recommendation_id=recommendation_id)


def cart_clear_partner(session: Session, account_id: int, partner_id: int) -> int:
    """Drop the lines of one partner (after its checkout hand-off); lines removed."""
    ids = [t.recommendation_id for t, _q in
           queries.cart_for_handoff(session, account_id).get(partner_id, [])]
    if ids:
        session.execute(delete(CartItem).where(CartItem.account_id == account_id,
                                               CartItem.recommendation_id.in_(ids)))
    return len(ids)
